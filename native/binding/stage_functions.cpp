#include "binding/stage_functions.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "binding/js_errors.h"
#include "binding/js_options.h"
#include "binding/js_results.h"
#include "core/decode.h"
#include "core/detection.h"
#include "core/model.h"
#include "core/ort_runtime.h"
#include "core/preprocess.h"

namespace ipjs {
namespace {

int IntField(const Napi::Object& o, const char* key, int fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

std::vector<int64_t> Shape(const Napi::Value& v) {
  std::vector<int64_t> shape;
  if (!v.IsArray()) return shape;
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) shape.push_back(a.Get(i).ToNumber().Int64Value());
  return shape;
}

ip::PreprocessSpec ReadSpec(const Napi::Object& o) {
  ip::PreprocessSpec spec;
  spec.width = IntField(o, "width", 0);
  spec.height = IntField(o, "height", 0);
  if (spec.width <= 0 || spec.height <= 0) ThrowInvalidArgument(o.Env(), "width and height must be positive");
  Napi::Value resize = o.Get("resize");
  spec.resize = resize.IsString() && resize.As<Napi::String>().Utf8Value() == "letterbox" ? ip::ResizeMode::kLetterbox
                                                                                          : ip::ResizeMode::kStretch;
  return spec;
}

// decode(bytes, targetWidth = 0, targetHeight = 0) -> { width, height, decodedWidth, decodedHeight }
Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ip::ImageInput image;
  ReadImage(info[0], &image);
  ip::DecodeOptions options;
  options.targetWidth = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  options.targetHeight = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
  try {
    ip::DecodedImage d = ip::DecodeImage(image, options);
    Napi::Object o = Napi::Object::New(env);
    o.Set("width", d.originalWidth);
    o.Set("height", d.originalHeight);
    o.Set("decodedWidth", d.pixels.cols);
    o.Set("decodedHeight", d.pixels.rows);
    return o;
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
}

// preprocess(image, { width, height, resize }) -> Float32Array (NCHW, RGB, pixels / 255)
Napi::Value Preprocess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ip::ImageInput image;
  ReadImage(info[0], &image);
  ip::PreprocessSpec spec = ReadSpec(info[1].As<Napi::Object>());
  ip::NormalizeTable table(spec);
  try {
    ip::DecodedImage d = ip::DecodeImage(image, ip::DecodeOptionsFor(spec, ip::DecodeOptions{}.maxPixels));
    Napi::Float32Array out = Napi::Float32Array::New(env, size_t(spec.width) * spec.height * 3);
    cv::Mat scratch;
    ip::PreprocessInto(d, spec, table, out.Data(), scratch);
    return out;
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
}

// detect(head, headShape, protos | null, protoShape | null, geometry, options) -> the pool's native result fields.
// geometry: { inputWidth, inputHeight, originalWidth, originalHeight, resize, segment, outputLayout }
Napi::Value Detect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto isFloat32 = [](const Napi::Value& v) {
    return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_float32_array;
  };
  if (!isFloat32(info[0]) || !info[4].IsObject() || (!info[2].IsNull() && !info[2].IsUndefined() && !isFloat32(info[2]))) {
    ThrowInvalidArgument(env, "detect(head: Float32Array, shape, protos: Float32Array | null, shape, geometry, options)");
  }
  Napi::Float32Array head = info[0].As<Napi::Float32Array>();
  Napi::Object g = info[4].As<Napi::Object>();
  ip::DetectionInputs in;
  in.head = head.Data();
  in.headShape = Shape(info[1]);
  // The shapes come from the caller: they must describe at most the arrays given, one image's worth.
  auto fits = [](const std::vector<int64_t>& shape, size_t elements) {
    if (shape.empty() || shape[0] != 1) return false;
    double count = 1;
    for (int64_t d : shape) {
      if (d < 0) return false;
      count *= double(d);
    }
    return count <= double(elements);
  };
  if (!fits(in.headShape, head.ElementLength())) {
    ThrowInvalidArgument(env, "detect(): headShape must be [1, a, b] and describe at most the head array");
  }
  if (isFloat32(info[2])) {
    Napi::Float32Array protos = info[2].As<Napi::Float32Array>();
    in.protos = protos.Data();
    in.protoShape = Shape(info[3]);
    if (!fits(in.protoShape, protos.ElementLength())) {
      ThrowInvalidArgument(env, "detect(): protoShape must be [1, nm, h, w] and describe at most the protos array");
    }
  }
  ip::DetectionContext ctx;
  ctx.segment = g.Get("segment").ToBoolean().Value();
  ctx.inputWidth = IntField(g, "inputWidth", 0);
  ctx.inputHeight = IntField(g, "inputHeight", 0);
  ip::PreprocessSpec spec;
  spec.width = ctx.inputWidth;
  spec.height = ctx.inputHeight;
  Napi::Value resize = g.Get("resize");
  spec.resize = resize.IsString() && resize.As<Napi::String>().Utf8Value() == "stretch" ? ip::ResizeMode::kStretch
                                                                                        : ip::ResizeMode::kLetterbox;
  int ow = IntField(g, "originalWidth", ctx.inputWidth), oh = IntField(g, "originalHeight", ctx.inputHeight);
  if (ctx.inputWidth < 1 || ctx.inputHeight < 1 || ow < 1 || oh < 1) {
    ThrowInvalidArgument(env, "detect(): the input and original sizes must be positive");
  }
  ip::RequestOptions options = ReadRequestOptions(info[5]);
  ip::DetectionResult result;
  try {
    ip::DecodeDetections(in, ctx, options, ip::ComputeTransform(ow, oh, spec), ow, oh, &result);
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
  return MakeDetectionObject(env, result, ctx.segment, options.returnMasks);
}

// timeModel(path, batch, seconds, libraryPath, intraOpThreads, sideBySide) -> { msPerRun, imagesPerSecond }:
// the model on a pre-made batch through the same runtime and sessions as a pool, with nothing else
// running: the model-only ceiling. sideBySide: the adaptive instances' single-threaded sessions, one
// per intra-op thread, each running batches on its own thread; else one session on all the threads.
Napi::Value TimeModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ip::ModelSpec spec;
  spec.id = "timed";
  spec.path = info[0].As<Napi::String>().Utf8Value();
  const int batch = info[1].As<Napi::Number>().Int32Value();
  const double seconds = info[2].As<Napi::Number>().DoubleValue();
  ip::RuntimeOptions runtimeOptions;
  runtimeOptions.libraryPath = info[3].As<Napi::String>().Utf8Value();
  runtimeOptions.intraOpThreads = info[4].As<Napi::Number>().Int32Value();
  const bool sideBySide = info[5].ToBoolean().Value();
  spec.instances = sideBySide ? 0 : 1;
  try {
    ip::OrtRuntime& runtime = ip::OrtRuntime::Acquire(runtimeOptions);
    auto model = ip::Model::Load(runtime, spec, ip::SessionConfig{});
    const ip::PreprocessSpec& pre = model->preprocess();
    std::vector<float> data(model->itemElements() * batch);
    for (size_t i = 0; i < data.size(); ++i) data[i] = float((i * 2654435761u) % 256) / 255.f;
    std::vector<int64_t> shape = pre.layout == ip::TensorLayout::kNchw
                                     ? std::vector<int64_t>{batch, 3, pre.height, pre.width}
                                     : std::vector<int64_t>{batch, pre.height, pre.width, 3};
    auto memory = Ort::MemoryInfo::CreateCpu(OrtDeviceAllocator, OrtMemTypeCPU);
    const char* inputName = model->inputName();
    const auto& outputNames = model->outputNames();
    const int lanes = sideBySide ? model->instanceCount() : 1;
    std::vector<std::vector<double>> times(lanes);
    std::vector<std::thread> threads;
    const auto started = ip::Clock::now();
    for (int lane = 0; lane < lanes; ++lane) {
      threads.emplace_back([&, lane] {
        Ort::Value input = Ort::Value::CreateTensor<float>(memory, data.data(), data.size(), shape.data(), shape.size());
        Ort::RunOptions runOptions;
        Ort::Session& session = model->session();
        session.Run(runOptions, &inputName, &input, 1, outputNames.data(), outputNames.size());  // warm-up
        while (times[lane].size() < 3 || std::chrono::duration<double>(ip::Clock::now() - started).count() < seconds) {
          auto t0 = ip::Clock::now();
          session.Run(runOptions, &inputName, &input, 1, outputNames.data(), outputNames.size());
          times[lane].push_back(std::chrono::duration<double, std::milli>(ip::Clock::now() - t0).count());
        }
      });
    }
    for (auto& t : threads) t.join();
    double imagesPerSecond = 0;
    std::vector<double> all;
    for (auto& lane : times) {
      std::sort(lane.begin(), lane.end());
      imagesPerSecond += batch * 1000.0 / lane[lane.size() / 2];
      all.insert(all.end(), lane.begin(), lane.end());
    }
    std::sort(all.begin(), all.end());
    Napi::Object out = Napi::Object::New(env);
    out.Set("msPerRun", all[all.size() / 2]);
    out.Set("imagesPerSecond", imagesPerSecond);
    return out;
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  } catch (const Ort::Exception& e) {
    throw MakeError(env, ip::ErrorCode::kInferenceFailed, e.what());
  }
}

}  // namespace

Napi::Object MakeStageFunctions(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("decode", Napi::Function::New<Decode>(env, "decode"));
  o.Set("preprocess", Napi::Function::New<Preprocess>(env, "preprocess"));
  o.Set("detect", Napi::Function::New<Detect>(env, "detect"));
  o.Set("timeModel", Napi::Function::New<TimeModel>(env, "timeModel"));
  return o;
}

}  // namespace ipjs
