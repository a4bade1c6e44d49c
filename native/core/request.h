// One inference request as it moves through the stages. Stages pass it by pointer; exactly one
// stage owns it at a time, so its fields need no locks (only `cancelled` is touched from outside).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/image_input.h"
#include "core/preprocess.h"
#include "core/result.h"

namespace ip {

class ModelRunner;
struct BatchOutput;

using Clock = std::chrono::steady_clock;

enum class MaskDecodeMode { kAccurate, kFast, kTradeoff };

// Per-request options, gathered on the JS thread; names and defaults follow Roboflow's.
struct RequestOptions {
  int topK = 5;  // classification
  float confidence = 0.4f;
  float iouThreshold = 0.3f;
  bool classAgnosticNms = false;
  int maxDetections = 300;
  int maxCandidates = 3000;      // best-scoring candidates kept for NMS
  std::vector<int> classFilter;  // class ids to keep; empty keeps all
  MaskDecodeMode maskDecodeMode = MaskDecodeMode::kAccurate;
  float tradeoffFactor = 0.0f;  // 0 = prototype resolution, 1 = input resolution
  bool returnMasks = false;
  // Scheduling.
  double timeoutMs = 0;   // deadline from submission; 0: none
  int64_t priority = 0;   // higher first
};

struct RequestTimes {
  Clock::time_point submitted, preprocessStart, preprocessEnd, inferenceStart, inferenceEnd, postprocessStart,
      postprocessEnd;
};

struct Request {
  uint64_t id = 0;
  // Past this, a request still waiting (parked, preprocessed, or not yet in a running batch) fails with
  // DEADLINE_EXCEEDED; max() when it has none. Set at submission from options.timeoutMs.
  Clock::time_point deadline = Clock::time_point::max();
  bool HasDeadline() const { return deadline != Clock::time_point::max(); }
  ImageInput image;  // borrowed; the binding keeps its bytes alive until completion
  RequestOptions options;
  std::shared_ptr<ModelRunner> runner;  // keeps the model alive while this request needs it

  // Set by preprocessing.
  int slot = -1;  // the model's tensor slot holding this request's input, until the batcher copies it
  ImageTransform transform;
  int originalWidth = 0, originalHeight = 0;

  // Set by inference.
  std::shared_ptr<BatchOutput> batch;  // shared by the batch; freed when its last request is done
  int batchIndex = 0;
  int batchSize = 0;

  // Set by postprocessing, or by whichever stage failed it.
  Result result;
  bool failed = false;
  ErrorCode errorCode = ErrorCode::kInferenceFailed;
  std::string errorMessage;

  std::atomic<bool> cancelled{false};
  // Whether native code may still read the borrowed image bytes. Preprocessing moves it from kUnread
  // to kReading and then kReleased; Cancel() looks at it to tell whether an aborted request can
  // settle at once (the caller may then reuse the bytes) or must wait until preprocessing lets go.
  enum InputState : int { kUnread, kReading, kReleased };
  std::atomic<int> inputState{kUnread};
  RequestTimes times;

  // Marks the request cancelled; true when native code no longer reads (and never again will read)
  // the image bytes, so the request may settle now. The seq_cst pair with BeginReading() makes sure
  // that at least one side sees the other.
  bool Cancel() {
    cancelled.store(true, std::memory_order_seq_cst);
    return inputState.load(std::memory_order_seq_cst) != kReading;
  }
  // Preprocessing: false when the request was cancelled first (the bytes are then never read).
  bool BeginReading() {
    int expected = kUnread;
    inputState.compare_exchange_strong(expected, kReading, std::memory_order_seq_cst);
    if (cancelled.load(std::memory_order_seq_cst)) {
      inputState.store(kReleased, std::memory_order_seq_cst);
      return false;
    }
    return true;
  }
  void EndReading() { inputState.store(kReleased, std::memory_order_seq_cst); }

  void Fail(ErrorCode code, std::string message) {
    failed = true;
    errorCode = code;
    errorMessage = std::move(message);
  }
};

}  // namespace ip
