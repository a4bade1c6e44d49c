// Reads JS option objects into the core's plain structs on the JS thread (as sharp does), so that
// worker threads never touch a JS value. Throws a JS Error with code INVALID_ARGUMENT.
#pragma once

#include <napi.h>

#include "core/image_input.h"
#include "core/model.h"
#include "core/pipeline.h"
#include "core/request.h"

namespace ipjs {

ip::PoolConfig ReadPoolConfig(const Napi::Object& options);
ip::ModelSpec ReadModelSpec(const Napi::Object& spec);
ip::RequestOptions ReadRequestOptions(const Napi::Value& options);
// `image` is a Uint8Array of encoded bytes or { data, width, height, format }. Returns the value
// whose bytes the request borrows, for the caller to keep alive.
Napi::Value ReadImage(const Napi::Value& image, ip::ImageInput* input);

}  // namespace ipjs
