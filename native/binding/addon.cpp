// Module entry: per-environment data, its cleanup hook, and the exported classes.
#include <napi.h>

#include "binding/addon_data.h"
#include "binding/annotate.h"
#include "binding/native_pool.h"
#include "binding/stage_functions.h"
#include "binding/tracker.h"

namespace ipjs {
namespace {

// Stops every pool of one environment: running batches are terminated, every thread is joined.
void ShutdownAll(AddonData* data) {
  if (data == nullptr) return;
  // Copy: Shutdown() unregisters the pool from the set.
  std::set<NativePool*> pools = data->pools;
  for (NativePool* pool : pools) pool->Shutdown();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  env.AddCleanupHook([data] { ShutdownAll(data); });
  exports.Set("NativePool", NativePool::Define(env));
  exports.Set("stages", MakeStageFunctions(env));
  exports.Set("annotate", Napi::Function::New<AnnotateImage>(env, "annotate"));
  exports.Set("Tracker", Tracker::Define(env));
  // process.exit() runs the C library's exit handlers (ONNX Runtime's static destructors among them)
  // without running environment cleanup hooks first, so the TS layer calls this from the process's
  // 'exit' event: every pool stops its threads before anything they use is destroyed.
  exports.Set("shutdownAll", Napi::Function::New(
                                 env, [](const Napi::CallbackInfo& info) {
                                   ShutdownAll(info.Env().GetInstanceData<AddonData>());
                                 },
                                 "shutdownAll"));
  return exports;
}

}  // namespace ipjs

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return ipjs::Init(env, exports); }

NODE_API_MODULE(inference_pool, InitModule)
