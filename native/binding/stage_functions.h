// `stages`: single pipeline stages as synchronous functions (decode, preprocess, detection
// postprocessing, a model's bare run time), so benchmarks and tests can measure and check one stage against a JS reference.
// Not the serving path: those run inside the pool's threads.
#pragma once

#include <napi.h>

namespace ipjs {

Napi::Object MakeStageFunctions(Napi::Env env);

}  // namespace ipjs
