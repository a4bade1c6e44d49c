// Warm-up at load: each of a model's sessions runs once, on zeros, at every batch dimension it will
// really run, so that the first real requests do not pay ONNX Runtime's first-run costs (memory
// planning for a new input shape, arena growth, lazily created kernels and thread-pool threads).
#pragma once

#include <cstddef>
#include <vector>

#include "core/model.h"

namespace ip {

// Must equal ModelRunner's slice: a single-threaded session of an adaptive model runs a batch in
// runs of at most this many input floats (see ModelRunner::RunBatch).
constexpr size_t kWarmupSliceElements = size_t(1) << 21;

// What decides which run sizes a model's sessions see.
struct WarmupShape {
  size_t itemElements = 0;  // input floats per image
  int maxBatchSize = 1;
  int fixedBatch = 0;            // > 0: every run has exactly this batch dimension
  bool parallelSession = false;  // adaptive: a whole-batch parallel session beside a sliced single one
};

// The batch dimensions each session runs for batches of `batchSizes` requests: `parallel` for the
// parallel session (empty when there is none), `single` for session(). Sizes above the model's
// maximum never form and are left out; a fixed-batch model runs fixedBatch whatever the size. Sorted,
// without repeats.
struct WarmupPlan {
  std::vector<int> parallel;
  std::vector<int> single;
};
WarmupPlan PlanWarmup(const WarmupShape& shape, const std::vector<int>& batchSizes);

// The batch sizes the spec asks to warm: its warmupBatchSizes, else 1 … maxBatchSize; none when
// warm-up is off.
std::vector<int> WarmupBatchSizes(const Model& model);

// Runs the plan for `batchSizes` on the model's sessions, from the calling thread. Throws
// PoolError(MODEL_LOAD_FAILED) naming the model when a run fails.
void WarmUp(Model& model, const std::vector<int>& batchSizes);

// The part of the first-run cost that belongs to the calling thread rather than to the session: after
// WarmUp on the loading thread alone, the detector's first request on an instance thread still took
// 2-3.5× the next ones here; with this as well, 0.9-1.1×. Each instance thread calls it before it
// takes work: one run of each session at its smallest planned size. Nothing when the plan is empty.
void WarmUpThread(Model& model, const std::vector<int>& batchSizes);

}  // namespace ip
