// `annotate(image, drawing, options) -> Promise<Buffer>`: draws a result onto its image off the JS thread.
#pragma once

#include <napi.h>

namespace ipjs {

Napi::Value AnnotateImage(const Napi::CallbackInfo& info);

}  // namespace ipjs
