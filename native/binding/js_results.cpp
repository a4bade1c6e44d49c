#include "binding/js_results.h"

#include "core/model_runner.h"

#include <algorithm>
#include <cstring>

namespace ipjs {
namespace {

double Ms(ip::Clock::time_point from, ip::Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// Hands the array's memory to an ArrayBuffer. Where the runtime forbids external buffers
// (a V8 sandbox), falls back to one copy.
template <typename T>
Napi::ArrayBuffer ToArrayBuffer(Napi::Env env, ip::OwnedArray<T>& array) {
  size_t bytes = array.size * sizeof(T);
  T* data = array.data.release();
  napi_value value;
  napi_status status = napi_create_external_arraybuffer(
      env, data, bytes,
      [](napi_env env, void* data, void* hint) {
        delete[] static_cast<T*>(data);
        int64_t change;
        napi_adjust_external_memory(env, -int64_t(reinterpret_cast<uintptr_t>(hint)), &change);
      },
      reinterpret_cast<void*>(uintptr_t(bytes)), &value);
  if (status == napi_ok) {
    Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(bytes));
    return Napi::ArrayBuffer(env, value);
  }
  Napi::ArrayBuffer copy = Napi::ArrayBuffer::New(env, bytes);
  std::memcpy(copy.Data(), data, bytes);
  delete[] data;
  return copy;
}

Napi::Array ShapeArray(Napi::Env env, const std::vector<int64_t>& shape) {
  Napi::Array a = Napi::Array::New(env, shape.size());
  for (size_t i = 0; i < shape.size(); ++i) a.Set(uint32_t(i), Napi::Number::New(env, double(shape[i])));
  return a;
}

}  // namespace

Napi::Object MakeDetectionObject(Napi::Env env, ip::DetectionResult& d, bool segment, bool withMasks) {
  Napi::Object o = Napi::Object::New(env);
  size_t n = d.scores.size;
  o.Set("boxes", Napi::Float32Array::New(env, n * 4, ToArrayBuffer(env, d.boxes), 0));
  o.Set("scores", Napi::Float32Array::New(env, n, ToArrayBuffer(env, d.scores), 0));
  o.Set("classIds", Napi::Int32Array::New(env, n, ToArrayBuffer(env, d.classIds), 0));
  if (!segment) return o;
  Napi::Array polygons = Napi::Array::New(env, d.polygons.size());
  for (size_t i = 0; i < d.polygons.size(); ++i) {
    const auto& poly = d.polygons[i];
    Napi::Int32Array points = Napi::Int32Array::New(env, poly.size());
    std::copy(poly.begin(), poly.end(), points.Data());
    polygons.Set(uint32_t(i), points);
  }
  o.Set("polygons", polygons);
  if (withMasks) {
    Napi::Array masks = Napi::Array::New(env, d.masks.size());
    for (size_t i = 0; i < d.masks.size(); ++i) {
      ip::InstanceMask& m = d.masks[i];
      Napi::Object mask = Napi::Object::New(env);
      size_t bytes = m.data.size;
      mask.Set("data", Napi::Uint8Array::New(env, bytes, ToArrayBuffer(env, m.data), 0));
      mask.Set("width", m.width);
      mask.Set("height", m.height);
      mask.Set("left", m.left);
      mask.Set("top", m.top);
      masks.Set(uint32_t(i), mask);
    }
    o.Set("masks", masks);
  }
  return o;
}

Napi::Object MakeResult(Napi::Env env, ip::Request& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("width", r.originalWidth);
  o.Set("height", r.originalHeight);
  o.Set("batchSize", r.batchSize);
  const ip::RequestTimes& t = r.times;
  Napi::Object time = Napi::Object::New(env);
  time.Set("queue", Ms(t.submitted, t.preprocessStart) + Ms(t.preprocessEnd, t.inferenceStart) +
                        Ms(t.inferenceEnd, t.postprocessStart));
  time.Set("preprocess", Ms(t.preprocessStart, t.preprocessEnd));
  time.Set("inference", Ms(t.inferenceStart, t.inferenceEnd));
  time.Set("postprocess", Ms(t.postprocessStart, t.postprocessEnd));
  time.Set("total", Ms(t.submitted, t.postprocessEnd));
  o.Set("time", time);

  if (r.runner->model().spec().task == ip::Task::kClassification) {
    ip::ClassificationResult& c = r.result.classification;
    size_t classes = c.scores.size;
    o.Set("scores", Napi::Float32Array::New(env, classes, ToArrayBuffer(env, c.scores), 0));
    Napi::Array top = Napi::Array::New(env, c.topIds.size());
    for (size_t i = 0; i < c.topIds.size(); ++i) top.Set(uint32_t(i), c.topIds[i]);
    o.Set("top", top);
    return o;
  }
  Napi::Object detection = MakeDetectionObject(env, r.result.detection,
                                               r.runner->model().spec().task == ip::Task::kInstanceSegmentation,
                                               r.options.returnMasks);
  for (const auto& key : {"boxes", "scores", "classIds", "polygons", "masks"}) {
    if (detection.Has(key)) o.Set(key, detection.Get(key));
  }
  return o;
}

Napi::Object MakeModelInfo(Napi::Env env, const ip::Model& model) {
  Napi::Object o = Napi::Object::New(env);
  const ip::PreprocessSpec& pre = model.preprocess();
  o.Set("id", model.spec().id);
  o.Set("inputName", model.input().name);
  o.Set("inputShape", ShapeArray(env, model.input().shape));
  o.Set("inputWidth", pre.width);
  o.Set("inputHeight", pre.height);
  o.Set("layout", pre.layout == ip::TensorLayout::kNchw ? "nchw" : "nhwc");
  o.Set("maxBatchSize", model.maxBatchSize());
  o.Set("instances", model.instanceCount());
  Napi::Array outputs = Napi::Array::New(env, model.outputs().size());
  for (size_t i = 0; i < model.outputs().size(); ++i) {
    Napi::Object out = Napi::Object::New(env);
    out.Set("name", model.outputs()[i].name);
    out.Set("shape", ShapeArray(env, model.outputs()[i].shape));
    outputs.Set(uint32_t(i), out);
  }
  o.Set("outputs", outputs);
  Napi::Object metadata = Napi::Object::New(env);
  for (auto& [key, value] : model.metadata()) metadata.Set(key, value);
  o.Set("metadata", metadata);
  return o;
}

}  // namespace ipjs
