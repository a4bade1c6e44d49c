#include "binding/tracker.h"

#include <cmath>
#include <string>

#include "binding/js_errors.h"

namespace ipjs {
namespace {

// An option that is absent (or undefined) keeps supervision's default; one that is present must be a
// finite number in [min, max] (and whole where `integer`).
double Option(const Napi::Object& o, const char* key, double fallback, double min, double max, bool integer) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!std::isfinite(d) || d < min || d > max || (integer && d != std::floor(d))) {
    std::string what = v.IsNumber() ? std::to_string(d) : "a non-number";
    ThrowInvalidArgument(o.Env(), std::string("tracker option ") + key + " must be " +
                                      (integer ? "an integer" : "a number") + " from " + std::to_string(min) +
                                      " to " + std::to_string(max) + ", got " + what);
  }
  return d;
}

template <typename Array>
Array TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    ThrowInvalidArgument(info.Env(), std::string("tracker.update: ") + what);
  }
  return v.As<Array>();
}

}  // namespace

Napi::Function Tracker::Define(Napi::Env env) {
  return DefineClass(env, "Tracker",
                     {
                         InstanceMethod<&Tracker::Update>("update"),
                         InstanceMethod<&Tracker::Reset>("reset"),
                     });
}

Tracker::Tracker(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Tracker>(info) {
  Napi::Env env = info.Env();
  ip::ByteTrackOptions o;
  if (!info[0].IsUndefined()) {
    if (!info[0].IsObject()) ThrowInvalidArgument(env, "new Tracker(options): options must be an object");
    Napi::Object js = info[0].As<Napi::Object>();
    o.trackActivationThreshold = Option(js, "trackActivationThreshold", o.trackActivationThreshold, 0, 1, false);
    o.lostTrackBuffer = int(Option(js, "lostTrackBuffer", o.lostTrackBuffer, 0, 1e6, true));
    o.minimumMatchingThreshold = Option(js, "minimumMatchingThreshold", o.minimumMatchingThreshold, 0, 1, false);
    o.frameRate = Option(js, "frameRate", o.frameRate, 0, 1e4, false);
    // A source that does not know its rate says 0 (NativeVideoInfo.fps): the caller substitutes a default.
    if (!(o.frameRate > 0)) ThrowInvalidArgument(env, "tracker option frameRate must be above 0");
    o.minimumConsecutiveFrames = int(Option(js, "minimumConsecutiveFrames", o.minimumConsecutiveFrames, 1, 1e6, true));
  }
  try {
    tracker_ = std::make_unique<ip::ByteTracker>(o);
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
}

Napi::Value Tracker::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto boxes = TypedArg<Napi::Float32Array>(info, 0, napi_float32_array, "boxes must be a Float32Array");
  auto scores = TypedArg<Napi::Float32Array>(info, 1, napi_float32_array, "scores must be a Float32Array");
  auto classIds = TypedArg<Napi::Int32Array>(info, 2, napi_int32_array, "classIds must be an Int32Array");
  size_t n = scores.ElementLength();
  if (boxes.ElementLength() != 4 * n || classIds.ElementLength() != n) {
    ThrowInvalidArgument(env, "tracker.update: boxes must hold 4 numbers per score and classIds one per score (got " +
                                  std::to_string(boxes.ElementLength()) + " box numbers, " + std::to_string(n) +
                                  " scores, " + std::to_string(classIds.ElementLength()) + " class ids)");
  }
  // Class ids are not used for association (as in supervision: one object may flip between classes).
  Napi::Int32Array ids = Napi::Int32Array::New(env, n);
  tracker_->Update(boxes.Data(), scores.Data(), n, ids.Data());
  return ids;
}

void Tracker::Reset(const Napi::CallbackInfo&) { tracker_->Reset(); }

}  // namespace ipjs
