// Error codes shared by every stage. The binding turns them into InferencePoolError.code strings.
#pragma once

#include <stdexcept>
#include <string>

namespace ip {

enum class ErrorCode {
  kInvalidImage,
  kImageTooLarge,
  kModelNotFound,
  kModelLoadFailed,
  kInvalidArgument,
  kQueueFull,
  kAborted,
  kPoolClosed,
  kInferenceFailed,
  kProviderUnavailable,
  kDeadlineExceeded,
  kVideoSourceFailed,
};

const char* ErrorCodeName(ErrorCode code);

// Thrown by the core's control paths (load, submit) and caught by the stage that owns a request,
// which records it on the request instead of letting it escape a worker thread.
class PoolError : public std::runtime_error {
 public:
  PoolError(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace ip
