#include "core/stage_pool.h"

namespace ip {

StagePool::StagePool(int threads, Work work) : work_(std::move(work)) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

StagePool::~StagePool() { Stop(); }

void StagePool::Loop() {
  for (;;) {
    Request* request = nullptr;
    queue_.wait_dequeue(request);
    if (request == nullptr) return;  // the stop sentinel
    work_(request);
  }
}

void StagePool::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (size_t i = 0; i < threads_.size(); ++i) queue_.enqueue(nullptr);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace ip
