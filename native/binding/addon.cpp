// Module entry: per-environment data, its cleanup hook, and the exported classes.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/annotate.h"
#include "binding/native_pool.h"
#include "binding/stage_functions.h"

namespace ipjs {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  env.AddCleanupHook([data] {
    // Copy: Shutdown() may unregister the pool from the set.
    std::set<NativePool*> pools = data->pools;
    for (NativePool* pool : pools) pool->Shutdown();
  });
  exports.Set("NativePool", NativePool::Define(env));
  exports.Set("stages", MakeStageFunctions(env));
  exports.Set("annotate", Napi::Function::New<AnnotateImage>(env, "annotate"));
  return exports;
}

}  // namespace ipjs

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ipjs::Init(env, exports); }

NODE_API_MODULE(inference_pool, InitModule)
