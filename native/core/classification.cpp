#include "core/classification.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/errors.h"
#include "core/model_runner.h"

namespace ip {
namespace {

bool IsDistribution(const float* v, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!(v[i] >= 0.f && v[i] <= 1.f)) return false;
    sum += v[i];
  }
  return std::fabs(sum - 1.0) < 1e-3;
}

void Softmax(float* v, size_t n) {
  float max = *std::max_element(v, v + n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    v[i] = std::exp(v[i] - max);
    sum += v[i];
  }
  for (size_t i = 0; i < n; ++i) v[i] = float(v[i] / sum);
}

}  // namespace

void ApplyActivation(float* values, size_t n, Activation activation) {
  if (n == 0) return;
  switch (activation) {
    case Activation::kNone: return;
    case Activation::kSigmoid:
      for (size_t i = 0; i < n; ++i) values[i] = 1.f / (1.f + std::exp(-values[i]));
      return;
    case Activation::kAuto:
      if (IsDistribution(values, n)) return;
      Softmax(values, n);
      return;
    case Activation::kSoftmax: Softmax(values, n); return;
  }
}

void PostprocessClassification(Request& request, const Model& model) {
  const Ort::Value& out = request.batch->values.at(0);
  auto info = out.GetTensorTypeAndShapeInfo();
  auto shape = info.GetShape();
  size_t total = info.GetElementCount();
  int64_t rows = shape.empty() ? 0 : shape[0];
  if (rows != request.batch->runSize || rows <= 0 || total % size_t(rows) != 0) {
    throw PoolError(ErrorCode::kInferenceFailed, "classifier output '" + model.outputs().at(0).name +
                                                     "' does not have the batch size as its first dimension");
  }
  size_t classes = total / size_t(rows);
  const float* row = out.GetTensorData<float>() + size_t(request.batchIndex) * classes;

  ClassificationResult& result = request.result.classification;
  result.scores.Allocate(classes);
  std::copy(row, row + classes, result.scores.data.get());
  ApplyActivation(result.scores.data.get(), classes, model.spec().activation);

  size_t k = std::min(classes, size_t(std::max(request.options.topK, 0)));
  std::vector<int32_t> order(classes);
  std::iota(order.begin(), order.end(), 0);
  const float* s = result.scores.data.get();
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [s](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  result.topIds.assign(order.begin(), order.begin() + k);
}

}  // namespace ip
