#include "core/errors.h"

namespace ip {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidImage: return "INVALID_IMAGE";
    case ErrorCode::kImageTooLarge: return "IMAGE_TOO_LARGE";
    case ErrorCode::kModelNotFound: return "MODEL_NOT_FOUND";
    case ErrorCode::kModelLoadFailed: return "MODEL_LOAD_FAILED";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kQueueFull: return "QUEUE_FULL";
    case ErrorCode::kAborted: return "ABORTED";
    case ErrorCode::kPoolClosed: return "POOL_CLOSED";
    case ErrorCode::kInferenceFailed: return "INFERENCE_FAILED";
    case ErrorCode::kProviderUnavailable: return "PROVIDER_UNAVAILABLE";
    case ErrorCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case ErrorCode::kVideoSourceFailed: return "VIDEO_SOURCE_FAILED";
  }
  return "INFERENCE_FAILED";
}

}  // namespace ip
