// The JS face of ip::Pipeline: `new NativePool(config, onComplete)`. Requests are submitted with
// a numeric id; completions are drained in bulk on the JS thread by one thread-safe function and
// reported as onComplete(id, error, result). The TS layer (lib/) owns the promises.
#pragma once

#include <napi.h>

#include <memory>
#include <unordered_map>

#include "core/pipeline.h"

namespace ipjs {

struct AddonData;

class NativePool : public Napi::ObjectWrap<NativePool> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit NativePool(const Napi::CallbackInfo& info);
  ~NativePool() override;

  // Environment teardown (process exit, worker exit): stop every thread now, deliver nothing.
  void Shutdown();
  // Called on the JS thread: settles completed requests; `bounded` stops after a short time budget
  // and schedules the rest for a later turn of the event loop.
  void DeliverCompleted(Napi::Env env, bool bounded = false);
  // Lets go of the completion function once nothing can complete any more.
  void ReleaseWake();
  // Drops the JS completion callback (after close): nothing here keeps the pool's JS objects alive.
  void ReleaseCallback();

 private:
  static void OnWake(Napi::Env env, Napi::Function, NativePool* pool, void*);
  using WakeFunction = Napi::TypedThreadSafeFunction<NativePool, void, OnWake>;

  Napi::Value LoadModel(const Napi::CallbackInfo& info);
  Napi::Value UnloadModel(const Napi::CallbackInfo& info);
  Napi::Value Submit(const Napi::CallbackInfo& info);
  Napi::Value Cancel(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value SetBatchingHeld(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Runtime(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env);
  // Keeps the event loop and the completion callback alive exactly while requests are in flight.
  void HoldWhileInFlight(Napi::Env env, bool inFlight);

  struct Pending {
    ip::Request* request;
    Napi::Reference<Napi::Value> input;  // keeps the borrowed image bytes alive
  };

  AddonData* addon_ = nullptr;
  std::unique_ptr<ip::Pipeline> pipeline_;
  WakeFunction wake_;
  bool wakeReleased_ = false;
  bool wakeRefed_ = false;
  bool callbackReleased_ = false;
  bool closing_ = false;
  bool shutDown_ = false;
  Napi::FunctionReference onComplete_;
  std::unordered_map<uint32_t, Pending> pending_;
};

}  // namespace ipjs
