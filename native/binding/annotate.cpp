#include "binding/annotate.h"

#include "binding/js_errors.h"
#include "binding/js_options.h"
#include "core/annotate.h"

namespace ipjs {
namespace {

class AnnotateWorker : public Napi::AsyncWorker {
 public:
  AnnotateWorker(Napi::Env env, Napi::Value keep, ip::ImageInput image, ip::Drawing drawing, ip::ImageFormat format,
                 int quality)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        keep_(Napi::Persistent(keep)),
        image_(image),
        drawing_(std::move(drawing)),
        format_(format),
        quality_(quality) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      out_ = ip::Annotate(image_, drawing_, format_, quality_);
    } catch (const ip::PoolError& e) {
      code_ = e.code();
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(std::string("cannot annotate: ") + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(Napi::Buffer<uint8_t>::Copy(Env(), out_.data(), out_.size())); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(MakeError(Env(), code_, e.Message()).Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Value> keep_;  // the image bytes, read in place
  ip::ImageInput image_;
  ip::Drawing drawing_;
  ip::ImageFormat format_;
  int quality_;
  std::vector<uint8_t> out_;
  ip::ErrorCode code_ = ip::ErrorCode::kInvalidImage;
};

ip::DrawnInstance ReadInstance(const Napi::Object& o) {
  ip::DrawnInstance d;
  Napi::Env env = o.Env();
  Napi::Value box = o.Get("box");
  if (!box.IsArray() || box.As<Napi::Array>().Length() != 4) ThrowInvalidArgument(env, "box must be [x1, y1, x2, y2]");
  for (uint32_t i = 0; i < 4; ++i) d.box[i] = box.As<Napi::Array>().Get(i).ToNumber().FloatValue();
  d.classId = o.Get("classId").ToNumber().Int32Value();
  if (o.Get("label").IsString()) d.label = o.Get("label").As<Napi::String>().Utf8Value();
  Napi::Value polygon = o.Get("polygon");
  if (polygon.IsTypedArray() && polygon.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    auto p = polygon.As<Napi::Int32Array>();
    d.polygon.assign(p.Data(), p.Data() + p.ElementLength());
  }
  Napi::Value mask = o.Get("mask");
  if (mask.IsObject()) {
    Napi::Object m = mask.As<Napi::Object>();
    Napi::Value data = m.Get("data");
    d.maskWidth = m.Get("width").ToNumber().Int32Value();
    d.maskHeight = m.Get("height").ToNumber().Int32Value();
    d.maskLeft = m.Get("left").ToNumber().Int32Value();
    d.maskTop = m.Get("top").ToNumber().Int32Value();
    if (!data.IsTypedArray() || d.maskWidth < 0 || d.maskHeight < 0 ||
        data.As<Napi::TypedArray>().ByteLength() < size_t(d.maskWidth) * size_t(d.maskHeight)) {
      ThrowInvalidArgument(env, "a mask needs data of width x height bytes");
    }
    auto bytes = data.As<Napi::Uint8Array>();
    d.mask.assign(bytes.Data(), bytes.Data() + size_t(d.maskWidth) * d.maskHeight);
  }
  return d;
}

}  // namespace

Napi::Value AnnotateImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ip::ImageInput image;
  Napi::Value keep = ReadImage(info[0], &image);
  ip::Drawing drawing;
  if (info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value instances = o.Get("instances");
    if (instances.IsArray()) {
      Napi::Array a = instances.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) drawing.instances.push_back(ReadInstance(a.Get(i).As<Napi::Object>()));
    }
    if (o.Get("title").IsString()) drawing.title = o.Get("title").As<Napi::String>().Utf8Value();
    if (o.Get("strokeWidth").IsNumber()) drawing.strokeWidth = o.Get("strokeWidth").As<Napi::Number>().Int32Value();
  }
  ip::ImageFormat format = ip::ImageFormat::kPng;
  int quality = 90;
  if (info[2].IsObject()) {
    Napi::Object o = info[2].As<Napi::Object>();
    Napi::Value f = o.Get("format");
    if (f.IsString()) {
      std::string s = f.As<Napi::String>().Utf8Value();
      if (s == "jpeg" || s == "jpg") {
        format = ip::ImageFormat::kJpeg;
      } else if (s != "png") {
        ThrowInvalidArgument(env, "format must be 'png' or 'jpeg'");
      }
    }
    if (o.Get("quality").IsNumber()) quality = o.Get("quality").As<Napi::Number>().Int32Value();
  }
  auto* worker = new AnnotateWorker(env, keep, image, std::move(drawing), format, quality);
  worker->Queue();
  return worker->Promise();
}

}  // namespace ipjs
