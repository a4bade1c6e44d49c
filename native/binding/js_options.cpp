#include "binding/js_options.h"

#include <cmath>
#include <initializer_list>
#include <utility>

#include "binding/js_errors.h"

namespace ipjs {
namespace {

bool Has(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return false;
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

double Number(const Napi::Object& o, const char* key, double fallback, double min, double max) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) ThrowInvalidArgument(o.Env(), std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < min || d > max) {
    ThrowInvalidArgument(o.Env(), std::string(key) + " must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ", got " + std::to_string(d));
  }
  return d;
}

int Integer(const Napi::Object& o, const char* key, int fallback, int min, int max) {
  double d = Number(o, key, fallback, min, max);
  if (d != std::floor(d)) ThrowInvalidArgument(o.Env(), std::string(key) + " must be an integer");
  return int(d);
}

std::string String(const Napi::Object& o, const char* key, const std::string& fallback) {
  if (!Has(o, key)) return fallback;
  Napi::Value v = o.Get(key);
  if (!v.IsString()) ThrowInvalidArgument(o.Env(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// A string option that names one of a few values: the table maps each accepted name to its value.
template <typename T>
T Choice(const Napi::Object& o, const char* key, std::initializer_list<std::pair<const char*, T>> table, T fallback) {
  if (!Has(o, key)) return fallback;
  std::string value = String(o, key, "");
  std::string accepted;
  for (const auto& [name, v] : table) {
    if (value == name) return v;
    accepted += std::string(accepted.empty() ? "'" : ", '") + name + "'";
  }
  ThrowInvalidArgument(o.Env(), std::string(key) + " must be one of " + accepted + ", got '" + value + "'");
}

void Triple(const Napi::Object& o, const char* key, double* out) {
  if (!Has(o, key)) return;
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) {
    out[0] = out[1] = out[2] = v.As<Napi::Number>().DoubleValue();
    return;
  }
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
    ThrowInvalidArgument(o.Env(), std::string(key) + " must be a number or an array of 3 numbers");
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) ThrowInvalidArgument(o.Env(), std::string(key) + " must hold numbers");
    out[i] = e.As<Napi::Number>().DoubleValue();
  }
}

}  // namespace

ip::PoolConfig ReadPoolConfig(const Napi::Object& o) {
  ip::PoolConfig c;
  c.maxBatchSize = Integer(o, "maxBatchSize", c.maxBatchSize, 1, 4096);
  c.maxQueueDelayMs = Number(o, "maxQueueDelayMs", c.maxQueueDelayMs, 0, 60'000);
  c.priorityAgingMs = Number(o, "priorityAgingMs", c.priorityAgingMs, 0, 1e9);
  c.maxQueueSize = size_t(Number(o, "maxQueueSize", double(c.maxQueueSize), 1, 1e9));
  c.preprocessThreads = Integer(o, "preprocessThreads", c.preprocessThreads, 1, 256);
  c.postprocessThreads = Integer(o, "postprocessThreads", c.postprocessThreads, 1, 256);
  c.maxImagePixels = size_t(Number(o, "maxImagePixels", double(c.maxImagePixels), 1, 1e12));
  c.runtime.intraOpThreads = Integer(o, "intraOpThreads", 0, 0, 1024);
  c.runtime.libraryPath = String(o, "libraryPath", "");
  c.session.provider = Choice<ip::ExecutionProvider>(
      o, "executionProvider", {{"cpu", ip::ExecutionProvider::kCpu}, {"cuda", ip::ExecutionProvider::kCuda}},
      ip::ExecutionProvider::kCpu);
  c.session.deviceId = Integer(o, "deviceId", 0, 0, 64);
  return c;
}

ip::ModelSpec ReadModelSpec(const Napi::Object& o) {
  ip::ModelSpec s;
  s.id = String(o, "id", "");
  if (s.id.empty()) ThrowInvalidArgument(o.Env(), "a model spec needs a non-empty string id");
  Napi::Value path = o.Get("path");
  if (path.IsString()) {
    s.path = path.As<Napi::String>().Utf8Value();
  } else if (path.IsTypedArray() && path.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto bytes = path.As<Napi::Uint8Array>();
    s.bytes.assign(bytes.Data(), bytes.Data() + bytes.ByteLength());  // copied: loading runs off the JS thread
  } else {
    ThrowInvalidArgument(o.Env(), "model '" + s.id + "': path must be a file path or the ONNX bytes (Uint8Array)");
  }
  s.task = Choice<ip::Task>(o, "task",
                           {{"classification", ip::Task::kClassification},
                            {"object-detection", ip::Task::kObjectDetection},
                            {"instance-segmentation", ip::Task::kInstanceSegmentation}},
                           ip::Task::kClassification);
  if (Has(o, "inputSize")) {
    Napi::Value v = o.Get("inputSize");
    if (!v.IsArray() || v.As<Napi::Array>().Length() != 2) {
      ThrowInvalidArgument(o.Env(), "model '" + s.id + "': inputSize must be [width, height]");
    }
    Napi::Array a = v.As<Napi::Array>();
    Napi::Value w = a.Get(uint32_t(0)), h = a.Get(uint32_t(1));
    if (!w.IsNumber() || !h.IsNumber()) ThrowInvalidArgument(o.Env(), "inputSize must hold numbers");
    s.inputWidth = w.As<Napi::Number>().Int32Value();
    s.inputHeight = h.As<Napi::Number>().Int32Value();
    if (s.inputWidth < 1 || s.inputHeight < 1 || s.inputWidth > 16384 || s.inputHeight > 16384) {
      ThrowInvalidArgument(o.Env(), "inputSize must be positive");
    }
  }
  s.resize = Choice<ip::ResizeMode>(
      o, "resize", {{"stretch", ip::ResizeMode::kStretch}, {"letterbox", ip::ResizeMode::kLetterbox}},
      ip::ResizeMode::kStretch);
  s.order = Choice<ip::ChannelOrder>(o, "channelOrder",
                                     {{"rgb", ip::ChannelOrder::kRgb}, {"bgr", ip::ChannelOrder::kBgr}},
                                     ip::ChannelOrder::kRgb);
  Triple(o, "mean", s.mean);
  Triple(o, "std", s.std);
  for (double v : s.std) {
    if (!(v != 0.0) || !std::isfinite(v)) ThrowInvalidArgument(o.Env(), "std must be finite and non-zero");
  }
  s.activation = Choice<ip::Activation>(o, "activation",
                                        {{"auto", ip::Activation::kAuto},
                                         {"softmax", ip::Activation::kSoftmax},
                                         {"sigmoid", ip::Activation::kSigmoid},
                                         {"none", ip::Activation::kNone}},
                                        ip::Activation::kAuto);
  s.outputLayout = Choice<ip::OutputLayout>(o, "outputLayout",
                                            {{"auto", ip::OutputLayout::kAuto},
                                             {"yolov8", ip::OutputLayout::kYolov8},
                                             {"yolov11", ip::OutputLayout::kYolov8},
                                             {"yolov5", ip::OutputLayout::kYolov5},
                                             {"end-to-end", ip::OutputLayout::kEndToEnd}},
                                            ip::OutputLayout::kAuto);
  s.maxBatchSize = Integer(o, "maxBatchSize", 0, 0, 4096);
  s.instances = Integer(o, "instances", 0, 1, 64);  // 0: adaptive (see ModelSpec)
  s.maxQueueSize = size_t(Number(o, "maxQueueSize", 0, 1, 1e9));
  if (Has(o, "warmup")) {
    Napi::Value v = o.Get("warmup");
    if (v.IsBoolean()) {
      s.warmup = v.As<Napi::Boolean>().Value();
    } else if (v.IsArray()) {
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        double n = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : 0;
        if (!(n >= 1 && n <= 4096) || n != std::floor(n)) {
          ThrowInvalidArgument(o.Env(), "model '" + s.id + "': warmup batch sizes must be integers from 1 to 4096");
        }
        s.warmupBatchSizes.push_back(int(n));
      }
      s.warmup = !s.warmupBatchSizes.empty();  // []: warm nothing
    } else {
      ThrowInvalidArgument(o.Env(), "model '" + s.id + "': warmup must be true, false or an array of batch sizes");
    }
  }
  return s;
}

ip::RequestOptions ReadRequestOptions(const Napi::Value& value) {
  ip::RequestOptions r;
  if (value.IsUndefined() || value.IsNull()) return r;
  if (!value.IsObject()) ThrowInvalidArgument(value.Env(), "options must be an object");
  Napi::Object o = value.As<Napi::Object>();
  r.topK = Integer(o, "topK", r.topK, 0, 1 << 24);
  r.confidence = float(Number(o, "confidence", r.confidence, 0, 1));
  r.iouThreshold = float(Number(o, "iouThreshold", r.iouThreshold, 0, 1));
  if (Has(o, "classAgnosticNms")) r.classAgnosticNms = o.Get("classAgnosticNms").ToBoolean().Value();
  r.maxDetections = Integer(o, "maxDetections", r.maxDetections, 0, 1 << 24);
  r.maxCandidates = Integer(o, "maxCandidates", r.maxCandidates, 0, 1 << 24);
  if (Has(o, "classFilter")) {
    Napi::Value v = o.Get("classFilter");
    if (!v.IsArray()) ThrowInvalidArgument(o.Env(), "classFilter must be an array of class ids");
    Napi::Array a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value e = a.Get(i);
      if (!e.IsNumber()) ThrowInvalidArgument(o.Env(), "classFilter must hold class ids");
      double id = e.As<Napi::Number>().DoubleValue();
      // -1 stands for a class name the model does not have (matches nothing); ids are plain integers.
      if (!(id >= -1 && id <= 2147483647.0) || id != std::floor(id)) {
        ThrowInvalidArgument(o.Env(), "classFilter ids must be integers from 0 to 2147483647");
      }
      r.classFilter.push_back(int(id));
    }
  }
  r.maskDecodeMode = Choice<ip::MaskDecodeMode>(o, "maskDecodeMode",
                                                {{"accurate", ip::MaskDecodeMode::kAccurate},
                                                 {"fast", ip::MaskDecodeMode::kFast},
                                                 {"tradeoff", ip::MaskDecodeMode::kTradeoff}},
                                                ip::MaskDecodeMode::kAccurate);
  r.tradeoffFactor = float(Number(o, "tradeoffFactor", r.tradeoffFactor, 0, 1));
  if (Has(o, "returnMasks")) r.returnMasks = o.Get("returnMasks").ToBoolean().Value();
  if (Has(o, "timeoutMs")) {
    r.timeoutMs = Number(o, "timeoutMs", 0, 0, 1e12);
    if (!(r.timeoutMs > 0)) ThrowInvalidArgument(o.Env(), "timeoutMs must be a finite positive number");
  }
  if (Has(o, "priority")) {
    double p = Number(o, "priority", 0, -9007199254740991.0, 9007199254740991.0);
    if (p != std::floor(p)) ThrowInvalidArgument(o.Env(), "priority must be a safe integer");
    r.priority = int64_t(p);
  }
  return r;
}

namespace {

// Reads the typed array's own view, whatever backs it: an ArrayBuffer or a SharedArrayBuffer (whose
// buffer napi_get_arraybuffer_info refuses).
bool AsBytes(const Napi::Value& v, const uint8_t** data, size_t* length) {
  if (!v.IsTypedArray()) return false;
  napi_typedarray_type type;
  size_t count = 0;
  void* bytes = nullptr;
  napi_status status = napi_get_typedarray_info(v.Env(), v, &type, &count, &bytes, nullptr, nullptr);
  if (status != napi_ok) return false;
  if (type != napi_uint8_array && type != napi_uint8_clamped_array) return false;
  *data = static_cast<const uint8_t*>(bytes);
  *length = count;
  return true;
}

}  // namespace

Napi::Value ReadImage(const Napi::Value& image, ip::ImageInput* input) {
  Napi::Env env = image.Env();
  if (AsBytes(image, &input->data, &input->length)) {
    input->encoded = true;
    return image;
  }
  if (!image.IsObject()) {
    ThrowInvalidArgument(env, "image must be encoded bytes (Buffer or Uint8Array) or { data, width, height, format }");
  }
  Napi::Object o = image.As<Napi::Object>();
  Napi::Value data = o.Get("data");
  if (!AsBytes(data, &input->data, &input->length)) {
    ThrowInvalidArgument(env, "a raw image needs data as a Uint8Array");
  }
  input->encoded = false;
  input->width = Integer(o, "width", 0, 0, 1 << 20);
  input->height = Integer(o, "height", 0, 0, 1 << 20);
  input->format = Choice<ip::PixelFormat>(o, "format",
                                          {{"rgb", ip::PixelFormat::kRgb},
                                           {"bgr", ip::PixelFormat::kBgr},
                                           {"rgba", ip::PixelFormat::kRgba},
                                           {"bgra", ip::PixelFormat::kBgra},
                                           {"gray", ip::PixelFormat::kGray}},
                                          ip::PixelFormat::kRgb);
  return data;
}

}  // namespace ipjs
