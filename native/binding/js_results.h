// Builds the JS value of a completed request. Native result buffers become external ArrayBuffers
// (no copy) whose finalizer frees them; their size is reported to V8 as external memory.
#pragma once

#include <napi.h>

#include "core/model.h"
#include "core/request.h"

namespace ipjs {

Napi::Object MakeResult(Napi::Env env, ip::Request& request);
// boxes, scores, classIds (+ polygons, masks) of a detection result; takes its buffers.
Napi::Object MakeDetectionObject(Napi::Env env, ip::DetectionResult& result, bool segment, bool withMasks);
Napi::Object MakeModelInfo(Napi::Env env, const ip::Model& model);

}  // namespace ipjs
