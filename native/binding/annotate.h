// `annotate(image, drawing, options) -> Promise<Buffer>`: draws a result onto its image off the JS thread.
#pragma once

#include <napi.h>

#include "core/annotate.h"

namespace ipjs {

Napi::Value AnnotateImage(const Napi::CallbackInfo& info);
// A NativeDrawing ({ instances, title?, strokeWidth? }); anything else draws nothing.
// Throws INVALID_ARGUMENT for malformed instances.
ip::Drawing ReadDrawing(const Napi::Value& value);

}  // namespace ipjs
