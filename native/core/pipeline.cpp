#include "core/pipeline.h"

#include <opencv2/core.hpp>

#include <algorithm>
#include <thread>

#include "core/classification.h"
#include "core/decode.h"
#include "core/detection.h"
#include "core/preprocess.h"
#include "core/warmup.h"

namespace ip {
namespace {

// Per-priority statistics keep one histogram per level: a client sending arbitrary priorities must
// not grow them without bound, so levels beyond ±kStatsPriorityLevels are counted at the bound.
constexpr int64_t kStatsPriorityLevels = 16;
int StatsPriorityLevel(int64_t priority) {
  return int(std::clamp(priority, -kStatsPriorityLevels, kStatsPriorityLevels));
}

int64_t Micros(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
}

}  // namespace

Pipeline::Pipeline(const PoolConfig& config, Wake wake)
    : config_(config), runtime_(OrtRuntime::Acquire(config.runtime)), wake_(std::move(wake)) {
  if (config_.session.provider == ExecutionProvider::kCuda) ProbeCuda();
  preprocess_ = std::make_unique<StagePool>(config_.preprocessThreads, [this](Request* r) { PreprocessOne(r); });
  postprocess_ = std::make_unique<StagePool>(config_.postprocessThreads, [this](Request* r) { PostprocessOne(r); });
  sweeper_ = std::thread([this] { SweepLoop(); });
}

// Appending the provider loads its shared library and CUDA itself, so a missing piece shows up here,
// at create(), rather than at the first model.
void Pipeline::ProbeCuda() {
  std::string why;
  if (!runtime_.HasProvider("CUDAExecutionProvider")) {
    why = "this build has no CUDA execution provider";
  } else {
    try {
      Ort::SessionOptions options;
      OrtCUDAProviderOptions cuda{};
      cuda.device_id = config_.session.deviceId;
      options.AppendExecutionProvider_CUDA(cuda);
    } catch (const Ort::Exception& e) {
      why = e.what();
    }
  }
  if (!why.empty()) {
    throw PoolError(ErrorCode::kProviderUnavailable, "the CUDA execution provider is not available in the ONNX Runtime " +
                                                         runtime_.version() + " loaded from " + runtime_.libraryPath() +
                                                         ": " + why +
                                                         ". Point the pool at a CUDA-enabled build (ortLibraryPath or "
                                                         "INFERENCE_POOL_ORT_LIBRARY) or use executionProvider 'cpu'.");
  }
}

Pipeline::~Pipeline() {
  MarkClosing();
  Close(true);
}

StageLinks Pipeline::Links() {
  StageLinks links;
  links.preprocess = [this](Request* r) { preprocess_->Push(r); };
  links.postprocess = [this](Request* r) { postprocess_->Push(r); };
  links.complete = [this](Request* r) { Complete(r); };
  links.closing = [this] { return closing(); };
  links.watchDeadline = [this](Clock::time_point deadline) { WatchDeadline(deadline); };
  // A fence: Close() takes the same lock when it collects the detached runners, so it either finds an
  // unloading runner still alive (and its Stop() waits for the unload's) or comes after this point.
  links.stopped = [this] { std::unique_lock<std::shared_mutex> lock(modelsMutex_); };
  return links;
}

std::shared_ptr<ModelRunner> Pipeline::LoadModel(const ModelSpec& spec) {
  {
    std::shared_lock<std::shared_mutex> lock(modelsMutex_);
    if (models_.count(spec.id)) throw PoolError(ErrorCode::kInvalidArgument, "a model '" + spec.id + "' is already loaded");
  }
  ModelSpec resolved = spec;
  if (resolved.maxBatchSize <= 0) resolved.maxBatchSize = config_.maxBatchSize;
  auto model = Model::Load(runtime_, resolved, config_.session);
  // Before the model is visible: the first requests find its sessions warm.
  WarmUp(*model, WarmupBatchSizes(*model));
  // Enough tensor slots for two full batches per batch that can really run at once (on the CPU no more
  // than there are cores, however many instances were asked for), and one per preprocess thread
  // beyond a batch. Slots hold preprocessed inputs only until a batch copies them out.
  int concurrent = model->instanceCount();
  if (config_.session.provider == ExecutionProvider::kCpu) {
    concurrent = std::min(concurrent, int(std::max(1u, std::thread::hardware_concurrency())));
  }
  int perRound = model->maxBatchSize() * concurrent;
  int slots = std::max(2 * perRound, perRound + config_.preprocessThreads);
  RunnerConfig rc;
  rc.maxQueueDelay = std::chrono::microseconds(int64_t(config_.maxQueueDelayMs * 1000.0));
  rc.agingStep = std::chrono::microseconds(int64_t(config_.priorityAgingMs * 1000.0));
  rc.slotCount = slots;
  rc.maxQueueSize = spec.maxQueueSize;
  auto runner = std::make_shared<ModelRunner>(std::move(model), rc, Links());
  runner->SetHeld(held_.load());
  // Started (and its instance threads warmed up) outside the table's lock: that takes a while, and
  // requests to the other models must not wait for it. A runner that is not published stops with its
  // last reference.
  runner->Start();
  std::unique_lock<std::shared_mutex> lock(modelsMutex_);
  if (closing()) throw PoolError(ErrorCode::kPoolClosed, "the pool is closed");
  if (models_.count(spec.id)) throw PoolError(ErrorCode::kInvalidArgument, "a model '" + spec.id + "' is already loaded");
  models_[spec.id] = runner;
  return runner;
}

std::shared_ptr<ModelRunner> Pipeline::FindModel(const std::string& id) {
  std::shared_lock<std::shared_mutex> lock(modelsMutex_);
  auto it = models_.find(id);
  return it == models_.end() ? nullptr : it->second;
}

std::shared_ptr<ModelRunner> Pipeline::DetachModel(const std::string& id) {
  std::unique_lock<std::shared_mutex> lock(modelsMutex_);
  auto it = models_.find(id);
  if (it == models_.end()) throw PoolError(ErrorCode::kModelNotFound, "no model '" + id + "' is loaded");
  auto runner = it->second;
  models_.erase(it);
  // Close() must still stop it if the pool closes before the unload finishes.
  detached_.erase(std::remove_if(detached_.begin(), detached_.end(), [](const auto& w) { return w.expired(); }),
                  detached_.end());
  detached_.push_back(runner);
  runner->SetHeld(false);  // a held model could never drain its requests
  return runner;
}

void Pipeline::Submit(Request* request, const std::string& modelId) {
  if (closing()) throw PoolError(ErrorCode::kPoolClosed, "the pool is closed");
  auto runner = FindModel(modelId);
  if (!runner) throw PoolError(ErrorCode::kModelNotFound, "no model '" + modelId + "' is loaded");
  if (inflight_.load(std::memory_order_relaxed) >= config_.maxQueueSize) {
    runner->stats().AddRejected();
    throw PoolError(ErrorCode::kQueueFull,
                    "the pool already holds " + std::to_string(config_.maxQueueSize) + " requests (maxQueueSize)");
  }
  if (runner->maxQueueSize() > 0 && size_t(runner->inFlight()) >= runner->maxQueueSize()) {
    runner->stats().AddRejected();
    throw PoolError(ErrorCode::kQueueFull, "model '" + modelId + "' already holds " +
                                               std::to_string(runner->maxQueueSize()) + " requests (its maxQueueSize)");
  }
  inflight_.fetch_add(1, std::memory_order_relaxed);
  request->runner = runner;
  request->times.submitted = Clock::now();
  if (request->options.timeoutMs > 0) {
    request->deadline = request->times.submitted +
                        std::chrono::microseconds(int64_t(std::min(request->options.timeoutMs, 1e12) * 1000.0));
  }
  runner->Admit(request);
}

void Pipeline::PreprocessOne(Request* r) {
  // Held by value: once the request is failed or handed on, the JS thread may free it, and with it
  // the last reference to an unloaded model's runner, while this function still pumps that runner.
  std::shared_ptr<ModelRunner> runner = r->runner;
  if (closing()) return runner->FailAndPump(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
  if (!r->BeginReading()) return runner->FailAndPump(r, ErrorCode::kAborted, "the request was aborted");
  // This thread's resize buffer, reused from request to request; PreprocessInto writes every element
  // of the slot it fills, and decoding always gets fresh memory, so a failed decode can never leave an
  // earlier request's pixels in front of this one.
  thread_local cv::Mat scratch;
  r->times.preprocessStart = Clock::now();
  ErrorCode code = ErrorCode::kInferenceFailed;
  std::string error;
  try {
    const PreprocessSpec& spec = runner->model().preprocess();
    DecodedImage image = DecodeImage(r->image, DecodeOptionsFor(spec, config_.maxImagePixels));
    r->originalWidth = image.originalWidth;
    r->originalHeight = image.originalHeight;
    r->transform = PreprocessInto(image, spec, runner->normalizeTable(), runner->SlotData(r->slot), scratch);
  } catch (const PoolError& e) {
    code = e.code();
    error = e.what();
  } catch (const cv::Exception& e) {
    code = ErrorCode::kInvalidImage;
    error = std::string("cannot preprocess image: ") + e.what();
  } catch (const std::exception& e) {
    error = std::string("preprocessing failed: ") + e.what();
  } catch (...) {
    error = "preprocessing failed";
  }
  r->EndReading();
  if (!error.empty()) return runner->FailAndPump(r, code, error);
  r->times.preprocessEnd = Clock::now();
  runner->Ready(r);
}

void Pipeline::PostprocessOne(Request* r) {
  r->times.postprocessStart = Clock::now();
  if (r->cancelled.load(std::memory_order_relaxed)) {
    r->Fail(ErrorCode::kAborted, "the request was aborted");
  } else {
    try {
      const Model& model = r->runner->model();
      switch (model.spec().task) {
        case Task::kClassification: PostprocessClassification(*r, model); break;
        case Task::kObjectDetection:
        case Task::kInstanceSegmentation: PostprocessDetection(*r, model); break;
      }
    } catch (const PoolError& e) {
      r->Fail(e.code(), e.what());
    } catch (const std::exception& e) {
      r->Fail(ErrorCode::kInferenceFailed, std::string("postprocessing failed: ") + e.what());
    } catch (...) {
      r->Fail(ErrorCode::kInferenceFailed, "postprocessing failed");
    }
  }
  r->batch.reset();  // the last request of a batch frees its outputs here
  r->times.postprocessEnd = Clock::now();
  Complete(r);
}

void Pipeline::Complete(Request* r) {
  std::shared_ptr<ModelRunner> runner = r->runner;  // r may be freed once it is in the queue
  if (r->failed) {
    runner->stats().AddFailed();
  } else {
    const RequestTimes& t = r->times;
    // The queue's three waits are summed before truncating to microseconds, so every figure is within
    // 1 µs of the `time` the result reports.
    auto queued = (t.preprocessStart - t.submitted) + (t.inferenceStart - t.preprocessEnd) +
                  (t.postprocessStart - t.inferenceEnd);
    runner->stats().AddCompleted(std::chrono::duration_cast<std::chrono::microseconds>(queued).count(),
                                 Micros(t.preprocessStart, t.preprocessEnd), Micros(t.inferenceStart, t.inferenceEnd),
                                 Micros(t.postprocessStart, t.postprocessEnd), Micros(t.submitted, t.postprocessEnd),
                                 StatsPriorityLevel(r->options.priority));
  }
  inflight_.fetch_sub(1, std::memory_order_relaxed);
  completed_.enqueue(r);
  // One wake-up per empty-to-non-empty transition; the drain clears the flag before it takes.
  if (!wakeScheduled_.exchange(true, std::memory_order_acq_rel)) wake_();
  runner->OnCompleted();
}

size_t Pipeline::DrainCompleted(Request** out, size_t max) {
  wakeScheduled_.exchange(false, std::memory_order_acq_rel);
  return completed_.try_dequeue_bulk(out, max);
}

void Pipeline::SetBatchingHeld(bool held) {
  held_.store(held);
  std::shared_lock<std::shared_mutex> lock(modelsMutex_);
  for (auto& [id, runner] : models_) runner->SetHeld(held);
}

std::vector<std::pair<std::string, ModelStatsSnapshot>> Pipeline::Stats() {
  std::vector<std::pair<std::string, ModelStatsSnapshot>> out;
  std::shared_lock<std::shared_mutex> lock(modelsMutex_);
  for (auto& [id, runner] : models_) {
    ModelStatsSnapshot s = runner->stats().Snapshot();
    s.waiting = runner->waiting();
    s.prepared = runner->prepared();
    // The runner counts a request out only after the caller may already have its answer; the counters
    // count it out before. The smaller is what the caller sees (and exact once things are quiet).
    s.inFlight = std::min<int64_t>(runner->inFlight(), int64_t(s.requests - s.completed - s.failed));
    out.emplace_back(id, std::move(s));
  }
  return out;
}

// ---- deadlines -------------------------------------------------------------------------------
// One sweeper thread per pool sleeps until the earliest deadline of any waiting request, then asks
// every runner to fail what has expired; requests that are running finish normally.

void Pipeline::WatchDeadline(Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(sweepMutex_);
    if (deadline >= nextSweep_) return;
    nextSweep_ = deadline;
  }
  sweepChanged_.notify_one();
}

void Pipeline::SweepLoop() {
  std::unique_lock<std::mutex> lock(sweepMutex_);
  while (!sweepStop_) {
    if (nextSweep_ == Clock::time_point::max()) {
      sweepChanged_.wait(lock);
      continue;
    }
    if (Clock::now() < nextSweep_) {
      sweepChanged_.wait_until(lock, nextSweep_);
      continue;
    }
    nextSweep_ = Clock::time_point::max();
    lock.unlock();
    std::vector<std::shared_ptr<ModelRunner>> runners;
    {
      std::shared_lock<std::shared_mutex> models(modelsMutex_);
      for (auto& [id, runner] : models_) runners.push_back(runner);
      for (auto& weak : detached_) {
        if (auto runner = weak.lock()) runners.push_back(std::move(runner));
      }
    }
    Clock::time_point earliest = Clock::time_point::max();
    const Clock::time_point now = Clock::now();
    for (auto& runner : runners) earliest = std::min(earliest, runner->ExpireDue(now));
    runners.clear();
    lock.lock();
    nextSweep_ = std::min(nextSweep_, earliest);
  }
}

void Pipeline::StopSweeper() {
  {
    std::lock_guard<std::mutex> lock(sweepMutex_);
    sweepStop_ = true;
  }
  sweepChanged_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void Pipeline::Close(bool terminate) {
  std::lock_guard<std::mutex> closeLock(closeMutex_);
  if (closed_) return;
  closed_ = true;
  MarkClosing();
  StopSweeper();
  std::vector<std::shared_ptr<ModelRunner>> runners;
  {
    std::unique_lock<std::shared_mutex> lock(modelsMutex_);
    for (auto& [id, runner] : models_) runners.push_back(runner);
    models_.clear();
    // Unloaded models whose unload has not finished still run batches that feed the postprocess
    // stage: they stop here too, before that stage does.
    for (auto& weak : detached_) {
      if (auto runner = weak.lock()) runners.push_back(std::move(runner));
    }
    detached_.clear();
  }
  // A batch still forming stops waiting for company.
  for (auto& runner : runners) runner->Interrupt();
  auto failLeftovers = [this] {
    Request* r;
    while (preprocess_->TryPop(r)) {
      if (r != nullptr) r->runner->Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
    }
  };
  if (terminate) {
    for (auto& runner : runners) runner->Terminate();
  }
  // Upstream first, so that nothing flows into a stage that has already stopped.
  preprocess_->Stop();
  failLeftovers();
  for (auto& runner : runners) runner->Stop();
  failLeftovers();  // what a runner's last admission round pushed
  postprocess_->Stop();
  Request* r;
  while (postprocess_->TryPop(r)) {
    if (r != nullptr) PostprocessOne(r);
  }
}

}  // namespace ip
