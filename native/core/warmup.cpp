#include "core/warmup.h"

#include <algorithm>
#include <set>
#include <string>

#include "core/errors.h"

namespace ip {

WarmupPlan PlanWarmup(const WarmupShape& shape, const std::vector<int>& batchSizes) {
  std::set<int> parallel, single;
  // The single-threaded session of an adaptive model runs slices of a dynamic batch (as RunBatch does).
  const bool sliced = shape.parallelSession && shape.fixedBatch == 0;
  const int slice = int(std::max<size_t>(1, kWarmupSliceElements / std::max<size_t>(1, shape.itemElements)));
  for (int b : batchSizes) {
    if (b < 1 || b > shape.maxBatchSize) continue;
    const int run = shape.fixedBatch > 0 ? shape.fixedBatch : b;
    if (shape.parallelSession) parallel.insert(run);
    if (!sliced) {
      single.insert(run);
      continue;
    }
    const int s = std::min(slice, run);
    single.insert(s);
    if (run % s != 0) single.insert(run % s);
  }
  return {{parallel.begin(), parallel.end()}, {single.begin(), single.end()}};
}

std::vector<int> WarmupBatchSizes(const Model& model) {
  const ModelSpec& spec = model.spec();
  if (!spec.warmup) return {};
  if (!spec.warmupBatchSizes.empty()) return spec.warmupBatchSizes;
  std::vector<int> all(size_t(model.maxBatchSize()));
  for (int i = 0; i < model.maxBatchSize(); ++i) all[size_t(i)] = i + 1;
  return all;
}

namespace {

void RunZeros(Model& model, Ort::Session& session, std::vector<float>& zeros, int runSize) {
  const PreprocessSpec& pre = model.preprocess();
  const std::vector<int64_t> shape = pre.layout == TensorLayout::kNchw
                                         ? std::vector<int64_t>{runSize, 3, pre.height, pre.width}
                                         : std::vector<int64_t>{runSize, pre.height, pre.width, 3};
  auto memory = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeCPU);
  Ort::Value tensor =
      Ort::Value::CreateTensor<float>(memory, zeros.data(), model.itemElements() * runSize, shape.data(), shape.size());
  const char* inputName = model.inputName();
  const auto& outputNames = model.outputNames();
  session.Run(Ort::RunOptions{}, &inputName, &tensor, 1, outputNames.data(), outputNames.size());
}

WarmupPlan PlanFor(Model& model, const std::vector<int>& batchSizes) {
  WarmupShape shape;
  shape.itemElements = model.itemElements();
  shape.maxBatchSize = model.maxBatchSize();
  shape.fixedBatch = model.fixedBatch();
  shape.parallelSession = model.parallelSession() != nullptr;
  return PlanWarmup(shape, batchSizes);
}

// Runs the plan's sizes on each session; throws PoolError naming the model.
void RunPlan(Model& model, const WarmupPlan& plan) {
  if (plan.parallel.empty() && plan.single.empty()) return;
  int largest = 0;
  for (int n : plan.parallel) largest = std::max(largest, n);
  for (int n : plan.single) largest = std::max(largest, n);
  try {
    std::vector<float> zeros(model.itemElements() * size_t(largest), 0.f);
    if (Ort::Session* parallel = model.parallelSession()) {
      for (int n : plan.parallel) RunZeros(model, *parallel, zeros, n);
    }
    for (int n : plan.single) RunZeros(model, model.session(), zeros, n);
  } catch (const std::exception& e) {  // Ort::Exception, std::bad_alloc...
    throw PoolError(ErrorCode::kModelLoadFailed, "warm-up of model '" + model.spec().id + "' failed: " + e.what());
  }
}

}  // namespace

void WarmUp(Model& model, const std::vector<int>& batchSizes) { RunPlan(model, PlanFor(model, batchSizes)); }

void WarmUpThread(Model& model, const std::vector<int>& batchSizes) {
  WarmupPlan plan = PlanFor(model, batchSizes);
  if (plan.parallel.size() > 1) plan.parallel.resize(1);  // sorted: the smallest
  if (plan.single.size() > 1) plan.single.resize(1);
  RunPlan(model, plan);
}

}  // namespace ip
