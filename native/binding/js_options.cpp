#include "binding/js_options.h"

#include <cmath>

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

void Triple(const Napi::Object& o, const char* key, float* out) {
  if (!Has(o, key)) return;
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) {
    out[0] = out[1] = out[2] = v.As<Napi::Number>().FloatValue();
    return;
  }
  if (!v.IsArray() || v.As<Napi::Array>().Length() != 3) {
    ThrowInvalidArgument(o.Env(), std::string(key) + " must be a number or an array of 3 numbers");
  }
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < 3; ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsNumber()) ThrowInvalidArgument(o.Env(), std::string(key) + " must hold numbers");
    out[i] = e.As<Napi::Number>().FloatValue();
  }
}

}  // namespace

ip::PoolConfig ReadPoolConfig(const Napi::Object& o) {
  ip::PoolConfig c;
  c.maxBatchSize = Integer(o, "maxBatchSize", c.maxBatchSize, 1, 4096);
  c.maxQueueDelayMs = Number(o, "maxQueueDelayMs", c.maxQueueDelayMs, 0, 60'000);
  c.maxQueueSize = size_t(Number(o, "maxQueueSize", double(c.maxQueueSize), 1, 1e9));
  c.preprocessThreads = Integer(o, "preprocessThreads", c.preprocessThreads, 1, 256);
  c.postprocessThreads = Integer(o, "postprocessThreads", c.postprocessThreads, 1, 256);
  c.maxImagePixels = size_t(Number(o, "maxImagePixels", double(c.maxImagePixels), 1, 1e12));
  c.runtime.intraOpThreads = Integer(o, "intraOpThreads", 0, 0, 1024);
  c.runtime.libraryPath = String(o, "libraryPath", "");
  std::string provider = String(o, "executionProvider", "cpu");
  if (provider == "cpu") {
    c.session.provider = ip::ExecutionProvider::kCpu;
  } else if (provider == "cuda") {
    c.session.provider = ip::ExecutionProvider::kCuda;
  } else {
    ThrowInvalidArgument(o.Env(), "executionProvider must be 'cpu' or 'cuda', got '" + provider + "'");
  }
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
  std::string task = String(o, "task", "classification");
  if (task == "classification") {
    s.task = ip::Task::kClassification;
  } else if (task == "object-detection") {
    s.task = ip::Task::kObjectDetection;
  } else if (task == "instance-segmentation") {
    s.task = ip::Task::kInstanceSegmentation;
  } else {
    ThrowInvalidArgument(o.Env(), "model '" + s.id + "': unknown task '" + task + "'");
  }
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
  std::string resize = String(o, "resize", "stretch");
  if (resize == "stretch") {
    s.resize = ip::ResizeMode::kStretch;
  } else if (resize == "letterbox") {
    s.resize = ip::ResizeMode::kLetterbox;
  } else {
    ThrowInvalidArgument(o.Env(), "resize must be 'stretch' or 'letterbox', got '" + resize + "'");
  }
  std::string order = String(o, "channelOrder", "rgb");
  if (order == "rgb") {
    s.order = ip::ChannelOrder::kRgb;
  } else if (order == "bgr") {
    s.order = ip::ChannelOrder::kBgr;
  } else {
    ThrowInvalidArgument(o.Env(), "channelOrder must be 'rgb' or 'bgr', got '" + order + "'");
  }
  Triple(o, "mean", s.mean);
  Triple(o, "std", s.std);
  for (float v : s.std) {
    if (!(v != 0.f) || !std::isfinite(v)) ThrowInvalidArgument(o.Env(), "std must be finite and non-zero");
  }
  std::string activation = String(o, "activation", "auto");
  if (activation == "auto") {
    s.activation = ip::Activation::kAuto;
  } else if (activation == "softmax") {
    s.activation = ip::Activation::kSoftmax;
  } else if (activation == "sigmoid") {
    s.activation = ip::Activation::kSigmoid;
  } else if (activation == "none") {
    s.activation = ip::Activation::kNone;
  } else {
    ThrowInvalidArgument(o.Env(), "activation must be 'softmax', 'sigmoid' or 'none', got '" + activation + "'");
  }
  std::string layout = String(o, "outputLayout", "auto");
  if (layout == "auto") {
    s.outputLayout = ip::OutputLayout::kAuto;
  } else if (layout == "yolov8" || layout == "yolov11") {
    s.outputLayout = ip::OutputLayout::kYolov8;
  } else if (layout == "yolov5") {
    s.outputLayout = ip::OutputLayout::kYolov5;
  } else if (layout == "end-to-end") {
    s.outputLayout = ip::OutputLayout::kEndToEnd;
  } else {
    ThrowInvalidArgument(o.Env(), "outputLayout must be 'yolov8', 'yolov11', 'yolov5' or 'end-to-end', got '" + layout + "'");
  }
  s.maxBatchSize = Integer(o, "maxBatchSize", 0, 0, 4096);
  s.instances = Integer(o, "instances", 1, 1, 64);
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
      r.classFilter.push_back(e.As<Napi::Number>().Int32Value());
    }
  }
  std::string mode = String(o, "maskDecodeMode", "accurate");
  if (mode == "accurate") {
    r.maskDecodeMode = ip::MaskDecodeMode::kAccurate;
  } else if (mode == "fast") {
    r.maskDecodeMode = ip::MaskDecodeMode::kFast;
  } else if (mode == "tradeoff") {
    r.maskDecodeMode = ip::MaskDecodeMode::kTradeoff;
  } else {
    ThrowInvalidArgument(o.Env(), "maskDecodeMode must be 'accurate', 'fast' or 'tradeoff', got '" + mode + "'");
  }
  r.tradeoffFactor = float(Number(o, "tradeoffFactor", r.tradeoffFactor, 0, 1));
  if (Has(o, "returnMasks")) r.returnMasks = o.Get("returnMasks").ToBoolean().Value();
  return r;
}

namespace {

bool AsBytes(const Napi::Value& v, const uint8_t** data, size_t* length) {
  if (!v.IsTypedArray()) return false;
  auto t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() != napi_uint8_array && t.TypedArrayType() != napi_uint8_clamped_array) return false;
  auto ab = t.ArrayBuffer();
  *data = static_cast<const uint8_t*>(ab.Data()) + t.ByteOffset();
  *length = t.ByteLength();
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
  std::string format = String(o, "format", "rgb");
  if (format == "rgb") {
    input->format = ip::PixelFormat::kRgb;
  } else if (format == "bgr") {
    input->format = ip::PixelFormat::kBgr;
  } else if (format == "rgba") {
    input->format = ip::PixelFormat::kRgba;
  } else if (format == "bgra") {
    input->format = ip::PixelFormat::kBgra;
  } else if (format == "gray") {
    input->format = ip::PixelFormat::kGray;
  } else {
    ThrowInvalidArgument(env, "format must be 'rgb', 'bgr', 'rgba', 'bgra' or 'gray', got '" + format + "'");
  }
  return data;
}

}  // namespace ipjs
