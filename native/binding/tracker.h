// `new Tracker(options)`: ByteTrack for one stream (ip::ByteTracker), run synchronously on the JS
// thread: a frame's association costs microseconds, less than a hop to a worker would.
#pragma once

#include <napi.h>

#include <memory>

#include "core/bytetrack.h"

namespace ipjs {

class Tracker : public Napi::ObjectWrap<Tracker> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Tracker(const Napi::CallbackInfo& info);

 private:
  // update(boxes: Float32Array (n × 4), scores: Float32Array (n), classIds: Int32Array (n)) -> Int32Array (n)
  Napi::Value Update(const Napi::CallbackInfo& info);
  void Reset(const Napi::CallbackInfo& info);

  std::unique_ptr<ip::ByteTracker> tracker_;
};

}  // namespace ipjs
