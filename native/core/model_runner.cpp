#include "core/model_runner.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace ip {
namespace {

// An idle instance wakes this often to re-run admission, which recovers the rare interleaving in
// which a freed slot and a newly parked request miss each other.
constexpr auto kIdleWake = std::chrono::milliseconds(20);

// Input floats per run on a single-threaded session: one 640x640 image, six at 320x320, eight at 224x224.
constexpr size_t kSliceElements = size_t(1) << 21;

}  // namespace

ModelRunner::ModelRunner(std::unique_ptr<Model> model, std::chrono::microseconds maxQueueDelay, int slotCount,
                         StageLinks links)
    : model_(std::move(model)),
      policy_{model_->maxBatchSize(), maxQueueDelay},
      table_(model_->preprocess()),
      links_(std::move(links)),
      stats_(model_->maxBatchSize()),
      slotCount_(std::max(slotCount, 1)) {}

ModelRunner::~ModelRunner() { Stop(); }

void ModelRunner::Start() {
  const size_t item = model_->itemElements();
  slab_.reset(new float[item * slotCount_]);
  for (int i = 0; i < slotCount_; ++i) freeSlots_.enqueue(i);
  // Batch buffers are allocated by each instance thread when it first runs a batch: instances that
  // never run at once (more instances than cores) never take their memory.
  batchBuffers_.resize(model_->instanceCount());
  for (int i = 0; i < model_->instanceCount(); ++i) runOptions_.emplace_back();
  for (int i = 0; i < model_->instanceCount(); ++i) threads_.emplace_back([this, i] { InstanceLoop(i); });
}

void ModelRunner::Admit(Request* request) {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  stats_.AddRequest();
  parked_.enqueue(request);
  parkedCount_.fetch_add(1, std::memory_order_relaxed);
  // Orders the enqueue before Pump's look at the free slots (the batcher does the mirror image).
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Pump();
}

void ModelRunner::Pump() {
  for (;;) {
    int slot;
    if (!freeSlots_.try_dequeue(slot)) return;
    Request* request;
    if (!parked_.try_dequeue(request)) {
      ReleaseSlot(slot);
      // A request parked while this thread held the slot found no slot free and returned: look again
      // (Admit publishes its request before it looks at the slots; this mirrors it).
      std::atomic_thread_fence(std::memory_order_seq_cst);
      if (parkedCount_.load(std::memory_order_relaxed) == 0) return;
      std::this_thread::yield();
      continue;
    }
    parkedCount_.fetch_sub(1, std::memory_order_relaxed);
    request->slot = slot;
    if (links_.closing()) {
      Fail(request, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
    } else if (request->cancelled.load(std::memory_order_relaxed)) {
      Fail(request, ErrorCode::kAborted, "the request was aborted");
    } else {
      links_.preprocess(request);
    }
  }
}

void ModelRunner::Ready(Request* request) {
  readyCount_.fetch_add(1, std::memory_order_relaxed);
  ready_.enqueue(request);
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

void ModelRunner::InstanceLoop(int instance) {
  const int maxBatch = model_->maxBatchSize();
  std::vector<Request*> batch(maxBatch);
  while (!stopping_.load(std::memory_order_acquire)) {
    int n = 0;
    {
      // The model's one batcher: instances take turns forming batches, so a batch takes everything ready
      // (up to the maximum) rather than being split between instances that woke together.
      std::unique_lock<std::mutex> forming(batcherMutex_);
      if (held_.load(std::memory_order_relaxed)) {
        forming.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      if (!ready_.wait_dequeue_timed(batch[0], kIdleWake)) {
        forming.unlock();
        Pump();
        continue;
      }
      if (batch[0] == nullptr) continue;  // Stop()'s wake-up
      // Taken just as the test hook began to hold: wait with it, so the held batch forms after release.
      while (held_.load(std::memory_order_relaxed) && !stopping_.load(std::memory_order_acquire)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      n = 1;
      // The delay counts from the oldest request in hand (the queue is FIFO per producer only, so
      // that need not be the first one taken).
      Clock::time_point oldest = batch[0]->times.preprocessEnd;
      for (;;) {
        const int before = n;
        n += int(ready_.try_dequeue_bulk(batch.data() + n, size_t(maxBatch - n)));
        for (int i = before; i < n; ++i) {
          if (batch[i] != nullptr) oldest = std::min(oldest, batch[i]->times.preprocessEnd);
        }
        // A closing pool or a stopping runner does not wait for company.
        if (stopping_.load(std::memory_order_acquire) || links_.closing()) break;
        BatchDecision decision = DecideBatch(policy_, n, oldest, Clock::now());
        if (decision.runNow) break;
        auto wait = std::chrono::duration_cast<std::chrono::microseconds>(decision.waitUntil - Clock::now());
        if (wait.count() > 0) {
          const int got = int(ready_.wait_dequeue_bulk_timed(batch.data() + n, size_t(maxBatch - n), wait.count()));
          for (int i = n; i < n + got; ++i) {
            if (batch[i] != nullptr) oldest = std::min(oldest, batch[i]->times.preprocessEnd);
          }
          n += got;
        }
      }
    }
    // Drop Stop()'s wake-ups and requests aborted while they waited.
    int kept = 0;
    for (int i = 0; i < n; ++i) {
      Request* r = batch[i];
      if (r == nullptr) continue;
      readyCount_.fetch_sub(1, std::memory_order_relaxed);
      if (links_.closing()) {
        Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
      } else if (r->cancelled.load(std::memory_order_relaxed)) {
        Fail(r, ErrorCode::kAborted, "the request was aborted");
      } else {
        batch[kept++] = r;
      }
    }
    if (kept > 0) RunBatch(instance, batch.data(), kept);
    Pump();
  }
}

Ort::Session& ModelRunner::ChooseSession(bool* parallel) {
  *parallel = false;
  Ort::Session* shared = model_->parallelSession();
  if (shared == nullptr) return model_->session();
  std::unique_lock<std::mutex> lock(scheduleMutex_);
  if (!runningParallel_ && runningSingle_ == 0 && ready_.size_approx() == 0) {
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
    slice = std::clamp(int(kSliceElements / item), 1, runSize);
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
  for (int i = 0; i < n; ++i) {
    requests[i]->batch = output;
    requests[i]->batchIndex = i;
    requests[i]->batchSize = batchSize;
    requests[i]->times.inferenceEnd = end;
    links_.postprocess(requests[i]);
  }
}

void ModelRunner::Terminate() {
  for (auto& options : runOptions_) options.SetTerminate();
}

void ModelRunner::Interrupt() {
  for (int i = 0; i < model_->instanceCount(); ++i) ready_.enqueue(nullptr);
}

void ModelRunner::Stop() {
  // An unload and the pool's close may stop the same runner from two threads: the second waits
  // until the first has joined every thread.
  std::lock_guard<std::mutex> lock(stopMutex_);
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true, std::memory_order_release);
  for (size_t i = 0; i < threads_.size(); ++i) ready_.enqueue(nullptr);
  for (auto& t : threads_) t.join();
  threads_.clear();
  Request* r;
  while (ready_.try_dequeue(r)) {
    if (r == nullptr) continue;
    readyCount_.fetch_sub(1, std::memory_order_relaxed);
    Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
  }
  while (parked_.try_dequeue(r)) {
    parkedCount_.fetch_sub(1, std::memory_order_relaxed);
    Fail(r, ErrorCode::kPoolClosed, "the pool was closed before this request ran");
  }
}

}  // namespace ip
