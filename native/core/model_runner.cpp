#include "core/model_runner.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <new>

#include "core/warmup.h"

namespace ip {
namespace {

// Input floats per run on a single-threaded session: one 640x640 image, six at 320x320, eight at 224x224.
constexpr size_t kSliceElements = kWarmupSliceElements;

// Weight of a new sample in the runner's moving averages of stage times.
constexpr double kEwmaWeight = 0.1;

void UpdateEwma(std::atomic<int64_t>& average, int64_t sampleUs) {
  const int64_t old = average.load(std::memory_order_relaxed);
  average.store(old == 0 ? sampleUs : int64_t(old + kEwmaWeight * double(sampleUs - old)), std::memory_order_relaxed);
}

}  // namespace

ModelRunner::ModelRunner(std::unique_ptr<Model> model, const RunnerConfig& config, StageLinks links)
    : model_(std::move(model)),
      config_(config),
      policy_{model_->maxBatchSize(), config.maxQueueDelay, config.agingStep},
      table_(model_->preprocess()),
      links_(std::move(links)),
      stats_(model_->maxBatchSize()),
      slotCount_(std::max(config.slotCount, 1)),
      parked_(policy_) {}

ModelRunner::~ModelRunner() { Stop(); }

void ModelRunner::Start() {
  const size_t item = model_->itemElements();
  slab_.reset(new float[item * slotCount_]);
  for (int i = 0; i < slotCount_; ++i) freeSlots_.enqueue(i);
  // Batch buffers are allocated by each instance thread when it first runs a batch: instances that
  // never run at once (more instances than cores) never take their memory.
  batchBuffers_.resize(model_->instanceCount());
  for (int i = 0; i < model_->instanceCount(); ++i) runOptions_.emplace_back();
  // Each instance thread first runs the sessions once itself (ONNX Runtime keeps per-thread state that
  // a warm-up on the loading thread does not reach); Start returns when all have, or throws the first
  // failure (the destructor then stops the threads).
  const std::vector<int> sizes = WarmupBatchSizes(*model_);
  std::vector<std::future<void>> warmed;
  for (int i = 0; i < model_->instanceCount(); ++i) {
    std::promise<void> done;
    warmed.push_back(done.get_future());
    threads_.emplace_back([this, i, sizes, done = std::move(done)]() mutable {
      try {
        WarmUpThread(*model_, sizes);
        done.set_value();
      } catch (...) {
        done.set_exception(std::current_exception());
      }
      InstanceLoop(i);
    });
  }
  for (auto& f : warmed) f.get();
}

// ---- admission -------------------------------------------------------------------------------

void ModelRunner::Admit(Request* request) {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  stats_.AddRequest();
  // Read before the push: from then on another thread may take the request, complete it and free it.
  const Clock::time_point deadline = request->deadline;
  {
    std::lock_guard<std::mutex> lock(parkedMutex_);
    parked_.Push(request);
    parkedCount_.fetch_add(1, std::memory_order_relaxed);
  }
  if (deadline != Clock::time_point::max()) links_.watchDeadline(deadline);
  Pump();
}

void ModelRunner::Pump() {
  // Requests failed here give their slot back at once: go round again, so the requests still parked
  // behind them get those slots (nobody else may pump until the next completion).
  for (bool again = true; again;) {
    again = false;
    std::vector<Request*> admitted;
    {
      std::lock_guard<std::mutex> lock(parkedMutex_);
      const Clock::time_point now = Clock::now();
      // A request that cannot make its deadline any more (by the recent preprocessing and per-image
      // inference times, behind what is ready) stays parked until the sweeper rejects it: under
      // overload its decode would only take CPU from requests that can still make theirs.
      const auto wait = std::chrono::microseconds(
          preprocessUs_.load(std::memory_order_relaxed) +
          imageUs_.load(std::memory_order_relaxed) *
              (1 + int64_t(readyCount_.load(std::memory_order_relaxed)) / std::max(1, model_->instanceCount())));
      auto feasible = [&](const Request* r) { return r->deadline == Clock::time_point::max() || now + wait < r->deadline; };
      while (!parked_.empty()) {
        int slot;
        if (!freeSlots_.try_dequeue(slot)) break;
        Request* request = parked_.PopBest(now, feasible);
        if (request == nullptr) {
          ReleaseSlot(slot);
          break;
        }
        parkedCount_.fetch_sub(1, std::memory_order_relaxed);
        request->slot = slot;
        admitted.push_back(request);
      }
    }
    const Clock::time_point now = Clock::now();
    for (Request* request : admitted) {
      if (links_.closing()) {
        Fail(request, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
      } else if (request->cancelled.load(std::memory_order_relaxed)) {
        Fail(request, ErrorCode::kAborted, "the request was aborted");
        again = true;
      } else if (Expired(request, now)) {
        stats_.AddExpired();
        Fail(request, ErrorCode::kDeadlineExceeded, "the request's deadline passed while it waited for a slot");
        again = true;
      } else {
        links_.preprocess(request);
      }
    }
  }
}

void ModelRunner::Ready(Request* request) {
  UpdateEwma(preprocessUs_, std::chrono::duration_cast<std::chrono::microseconds>(request->times.preprocessEnd -
                                                                                  request->times.preprocessStart)
                                .count());
  // Read before the push: from then on a batcher may take the request, complete it and free it.
  const Clock::time_point deadline = request->deadline;
  {
    std::lock_guard<std::mutex> lock(readyMutex_);
    ready_.push_back(request);
    readyCount_.fetch_add(1, std::memory_order_relaxed);
  }
  readyChanged_.notify_one();
  if (deadline != Clock::time_point::max()) links_.watchDeadline(deadline);
}

void ModelRunner::Fail(Request* request, ErrorCode code, const std::string& message) {
  if (request->slot >= 0) {
    ReleaseSlot(request->slot);
    request->slot = -1;
  }
  request->Fail(code, message);
  links_.complete(request);
}

void ModelRunner::OnCompleted() {
  if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard<std::mutex> lock(idleMutex_);
    idle_.notify_all();
  }
}

void ModelRunner::WaitIdle() {
  std::unique_lock<std::mutex> lock(idleMutex_);
  idle_.wait(lock, [this] { return outstanding_.load(std::memory_order_acquire) == 0; });
}

Clock::time_point ModelRunner::ExpireDue(Clock::time_point now) {
  std::vector<Request*> expired, cancelled;
  Clock::time_point earliest = Clock::time_point::max();
  auto drop = [&](Request* r) {
    if (r->cancelled.load(std::memory_order_relaxed)) {
      cancelled.push_back(r);
      return true;
    }
    if (Expired(r, now)) {
      expired.push_back(r);
      return true;
    }
    return false;
  };
  {
    std::lock_guard<std::mutex> lock(parkedMutex_);
    std::vector<Request*> removed;
    parked_.RemoveIf(drop, &removed);
    parkedCount_.fetch_sub(removed.size(), std::memory_order_relaxed);
    earliest = std::min(earliest, parked_.EarliestDeadline());
  }
  {
    std::lock_guard<std::mutex> lock(readyMutex_);
    auto keep = std::stable_partition(ready_.begin(), ready_.end(), [&](Request* r) { return !drop(r); });
    readyCount_.fetch_sub(size_t(ready_.end() - keep), std::memory_order_relaxed);
    ready_.erase(keep, ready_.end());
    for (const Request* r : ready_) earliest = std::min(earliest, r->deadline);
  }
  for (Request* r : expired) {
    stats_.AddExpired();
    Fail(r, ErrorCode::kDeadlineExceeded, "the request's deadline passed before it could run");
  }
  for (Request* r : cancelled) Fail(r, ErrorCode::kAborted, "the request was aborted");
  if (!expired.empty() || !cancelled.empty()) Pump();
  return earliest;
}

// ---- batching --------------------------------------------------------------------------------

void ModelRunner::SetHeld(bool held) {
  {
    std::lock_guard<std::mutex> lock(readyMutex_);
    held_.store(held);
  }
  readyChanged_.notify_all();
}

int ModelRunner::TakeBatch(std::vector<Request*>& batch) {
  std::vector<Request*> expired;
  int n = 0;
  {
    std::unique_lock<std::mutex> lock(readyMutex_);
    std::vector<QueuedItem> items;
    for (;;) {
      if (stopping_.load(std::memory_order_acquire)) return 0;
      if (held_.load(std::memory_order_relaxed)) {  // test hook: nothing is taken until released
        readyChanged_.wait(lock);
        continue;
      }
      const Clock::time_point now = Clock::now();
      items.clear();
      for (const Request* r : ready_) {
        items.push_back({r->options.priority, r->times.submitted, r->times.preprocessEnd, r->deadline});
      }
      // Under load a batch runs on the single-threaded session one slice at a time, so taking more
      // than a slice only makes a higher-priority request that arrives meanwhile wait behind it: take a
      // slice, and choose again by priority after each. A batch that will run alone on the parallel
      // session (nothing running, everything ready fits) is taken whole.
      BatchPolicy policy = policy_;
      const bool alone = running_.load(std::memory_order_relaxed) == 0 && int(ready_.size()) <= policy.maxBatchSize;
      if (model_->parallelSession() != nullptr && model_->fixedBatch() == 0 && !alone) {
        policy.maxBatchSize = std::min(policy.maxBatchSize, SliceImages());
      }
      const BatchDecision d = DecideBatch(policy, items, now, links_.closing());
      if (!d.expired.empty() || d.runNow) {
        // Take the batch and the expired requests out of the list, keeping the rest in order.
        std::vector<char> gone(ready_.size(), 0);
        for (int i : d.expired) {
          expired.push_back(ready_[i]);
          gone[i] = 1;
        }
        for (int i : d.take) {
          batch[n++] = ready_[i];
          gone[i] = 1;
        }
        size_t kept = 0;
        for (size_t i = 0; i < ready_.size(); ++i) {
          if (!gone[i]) ready_[kept++] = ready_[i];
        }
        ready_.resize(kept);
        readyCount_.fetch_sub(d.expired.size() + d.take.size(), std::memory_order_relaxed);
        if (n > 0) running_.fetch_add(1, std::memory_order_relaxed);  // seen by the next decision
        if (n > 0 || !expired.empty()) break;
      }
      if (d.waitUntil == Clock::time_point::max()) {
        readyChanged_.wait(lock);
      } else {
        readyChanged_.wait_until(lock, d.waitUntil);
      }
    }
    // More is ready than this batch took: another instance may start on it.
    if (!ready_.empty()) readyChanged_.notify_one();
  }
  for (Request* r : expired) {
    stats_.AddExpired();
    Fail(r, ErrorCode::kDeadlineExceeded, "the request's deadline passed before it could run");
  }
  if (!expired.empty()) Pump();
  return n;
}

int ModelRunner::DropUnrunnable(Request** batch, int n) {
  const Clock::time_point now = Clock::now();
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    Request* r = batch[i];
    if (links_.closing()) {
      Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
    } else if (r->cancelled.load(std::memory_order_relaxed)) {
      Fail(r, ErrorCode::kAborted, "the request was aborted");
    } else if (Expired(r, now)) {
      stats_.AddExpired();
      Fail(r, ErrorCode::kDeadlineExceeded, "the request's deadline passed before it could run");
    } else {
      batch[kept++] = r;
    }
  }
  return kept;
}

void ModelRunner::InstanceLoop(int instance) {
  std::vector<Request*> batch(model_->maxBatchSize());
  while (!stopping_.load(std::memory_order_acquire)) {
    const int taken = TakeBatch(batch);
    if (taken == 0) continue;
    const int n = DropUnrunnable(batch.data(), taken);
    if (n > 0) RunBatch(instance, batch.data(), n);
    running_.fetch_sub(1, std::memory_order_relaxed);
    Pump();
  }
}

// ---- inference -------------------------------------------------------------------------------

int ModelRunner::SliceImages() const {
  return int(std::max<size_t>(1, kSliceElements / std::max<size_t>(1, model_->itemElements())));
}

Ort::Session& ModelRunner::ChooseSession(bool* parallel) {
  *parallel = false;
  Ort::Session* shared = model_->parallelSession();
  if (shared == nullptr) return model_->session();
  std::unique_lock<std::mutex> lock(scheduleMutex_);
  if (!runningParallel_ && runningSingle_ == 0 && readyCount_.load(std::memory_order_relaxed) == 0) {
    runningParallel_ = true;
    *parallel = true;
    return *shared;
  }
  // A parallel run holds every core: wait for it rather than fight it for them.
  scheduleChanged_.wait(lock, [this] { return !runningParallel_; });
  ++runningSingle_;
  return model_->session();
}

void ModelRunner::ReleaseSession(bool parallel) {
  if (model_->parallelSession() == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(scheduleMutex_);
    if (parallel) {
      runningParallel_ = false;
    } else {
      --runningSingle_;
    }
  }
  scheduleChanged_.notify_all();
}

void ModelRunner::RunBatch(int instance, Request** batch, int n) {
  const size_t item = model_->itemElements();
  const int runSize = model_->fixedBatch() > 0 ? model_->fixedBatch() : n;
  if (!batchBuffers_[instance]) {
    const int capacity = model_->fixedBatch() > 0 ? model_->fixedBatch() : model_->maxBatchSize();
    batchBuffers_[instance].reset(new (std::nothrow) float[item * capacity]);
    if (!batchBuffers_[instance]) {
      for (int i = 0; i < n; ++i) Fail(batch[i], ErrorCode::kInferenceFailed, "out of memory for the batch buffer");
      return;
    }
  }
  float* buffer = batchBuffers_[instance].get();
  for (int i = 0; i < n; ++i) {
    std::memcpy(buffer + i * item, SlotData(batch[i]->slot), item * sizeof(float));
    ReleaseSlot(batch[i]->slot);
    batch[i]->slot = -1;
  }
  if (runSize > n) std::memset(buffer + n * item, 0, (runSize - n) * item * sizeof(float));
  // Slots are free again: let preprocessing refill them while this batch runs.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Pump();

  bool parallel = false;
  Ort::Session& session = ChooseSession(&parallel);
  // A single-threaded session runs the batch in slices no larger than kSliceElements of input: on the
  // CPU a big model runs as fast per image one image at a time (its activations then stay in cache),
  // and the session's memory peaks with one slice instead of the whole batch. The shared session and
  // fixed-batch models run the batch whole.
  int slice = runSize;
  if (model_->parallelSession() != nullptr && !parallel && model_->fixedBatch() == 0) {
    slice = std::min(SliceImages(), runSize);
  }
  stats_.AddBatch(n);
  for (int first = 0; first < runSize; first += slice) {
    const int count = std::min(slice, runSize - first);
    RunSlice(session, instance, buffer + size_t(first) * item, count, batch + first, std::min(count, n - first), n);
  }
  ReleaseSession(parallel);
}

void ModelRunner::RunSlice(Ort::Session& session, int instance, float* input, int runSize, Request** requests, int n,
                           int batchSize) {
  const size_t item = model_->itemElements();
  const PreprocessSpec& pre = model_->preprocess();
  std::vector<int64_t> shape = pre.layout == TensorLayout::kNchw
                                   ? std::vector<int64_t>{runSize, 3, pre.height, pre.width}
                                   : std::vector<int64_t>{runSize, pre.height, pre.width, 3};
  const Clock::time_point start = Clock::now();
  for (int i = 0; i < n; ++i) requests[i]->times.inferenceStart = start;
  std::shared_ptr<BatchOutput> output;
  std::string error;
  try {
    auto memory = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeCPU);
    Ort::Value tensor = Ort::Value::CreateTensor<float>(memory, input, item * runSize, shape.data(), shape.size());
    const char* inputName = model_->inputName();
    const auto& outputNames = model_->outputNames();
    output = std::make_shared<BatchOutput>();
    output->values =
        session.Run(runOptions_[instance], &inputName, &tensor, 1, outputNames.data(), outputNames.size());
    output->runSize = runSize;
  } catch (const std::exception& e) {  // Ort::Exception, std::bad_alloc, std::system_error...
    error = std::string("inference failed: ") + e.what();
  } catch (...) {
    error = "inference failed";
  }
  if (!error.empty()) {
    for (int i = 0; i < n; ++i) Fail(requests[i], ErrorCode::kInferenceFailed, error);
    return;
  }
  const Clock::time_point end = Clock::now();
  if (n > 0) UpdateEwma(imageUs_, std::chrono::duration_cast<std::chrono::microseconds>(end - start).count() / n);
  for (int i = 0; i < n; ++i) {
    requests[i]->batch = output;
    requests[i]->batchIndex = i;
    requests[i]->batchSize = batchSize;
    requests[i]->times.inferenceEnd = end;
    links_.postprocess(requests[i]);
  }
}


// ---- lifetime --------------------------------------------------------------------------------

void ModelRunner::Terminate() {
  for (auto& options : runOptions_) options.SetTerminate();
}

void ModelRunner::Interrupt() {
  // The batchers re-decide with the pool closing, which runs whatever is ready without waiting.
  std::lock_guard<std::mutex> lock(readyMutex_);
  readyChanged_.notify_all();
}

void ModelRunner::Stop() {
  // An unload and the pool's close may stop the same runner from two threads: the second waits
  // until the first has joined every thread.
  std::lock_guard<std::mutex> stopLock(stopMutex_);
  if (stopped_) return;
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(readyMutex_);
    stopping_.store(true, std::memory_order_release);
  }
  readyChanged_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // An unload's Stop runs on a thread the pipeline never joins: without this, a Close() that finds the
  // unloaded runner already gone would free the pipeline with no happens-before edge to the reads
  // its instance threads made of it (TSan saw exactly that).
  if (links_.stopped) links_.stopped();
  std::vector<Request*> left;
  {
    std::lock_guard<std::mutex> lock(readyMutex_);
    left.swap(ready_);
    readyCount_.store(0, std::memory_order_relaxed);
  }
  {
    std::lock_guard<std::mutex> lock(parkedMutex_);
    while (Request* r = parked_.PopAny()) left.push_back(r);
    parkedCount_.store(0, std::memory_order_relaxed);
  }
  for (Request* r : left) Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
}

}  // namespace ip
