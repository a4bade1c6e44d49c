#include "binding/native_pool.h"

#include <chrono>

#include "binding/addon_data.h"
#include "binding/js_errors.h"
#include "binding/js_options.h"
#include "binding/js_results.h"

namespace ipjs {
namespace {

// Runs `work`, then resolves `deferred` whatever happened; an exception from `work` is thrown on
// afterwards (it becomes the environment's uncaught exception), so nothing is lost silently.
template <typename Work>
void SettleAfter(Napi::Env env, Napi::Promise::Deferred& deferred, Work work) {
  std::exception_ptr failure;
  try {
    work();
  } catch (...) {
    failure = std::current_exception();
  }
  deferred.Resolve(env.Undefined());
  if (failure) std::rethrow_exception(failure);
}

// An AsyncWorker that settles a promise and holds a reference on the pool's JS object while it
// runs, so the pool cannot be collected under it.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, Napi::Object self)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), self_(Napi::Persistent(self)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Fail(ip::ErrorCode code, const std::string& message) {
    code_ = code;
    SetError(message);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(MakeError(Env(), code_, e.Message()).Value()); }

  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference self_;
  ip::ErrorCode code_ = ip::ErrorCode::kInferenceFailed;
};

class LoadWorker : public PromiseWorker {
 public:
  LoadWorker(Napi::Env env, Napi::Object self, ip::Pipeline* pipeline, ip::ModelSpec spec)
      : PromiseWorker(env, self), pipeline_(pipeline), spec_(std::move(spec)) {}

  void Execute() override {
    try {
      runner_ = pipeline_->LoadModel(spec_);
    } catch (const ip::PoolError& e) {
      Fail(e.code(), e.what());
    } catch (const std::exception& e) {
      Fail(ip::ErrorCode::kModelLoadFailed, std::string("cannot load model '") + spec_.id + "': " + e.what());
    }
  }
  void OnOK() override { deferred_.Resolve(MakeModelInfo(Env(), runner_->model())); }

 private:
  ip::Pipeline* pipeline_;
  ip::ModelSpec spec_;
  std::shared_ptr<ip::ModelRunner> runner_;
};

class UnloadWorker : public PromiseWorker {
 public:
  UnloadWorker(Napi::Env env, Napi::Object self, NativePool* pool, std::shared_ptr<ip::ModelRunner> runner)
      : PromiseWorker(env, self), pool_(pool), runner_(std::move(runner)) {}
  // Lets the model's requests finish, then stops its threads. Its memory goes with the last reference.
  void Execute() override {
    runner_->WaitIdle();
    runner_->Stop();
  }
  void OnOK() override {
    // The model's last results settle before the unload does; the unload settles even if that throws.
    SettleAfter(Env(), deferred_, [this] { pool_->DeliverCompleted(Env()); });
  }

 private:
  NativePool* pool_;
  std::shared_ptr<ip::ModelRunner> runner_;
};

class CloseWorker : public PromiseWorker {
 public:
  CloseWorker(Napi::Env env, Napi::Object self, NativePool* pool, ip::Pipeline* pipeline)
      : PromiseWorker(env, self), pool_(pool), pipeline_(pipeline) {}
  void Execute() override { pipeline_->Close(false); }
  void OnOK() override {
    SettleAfter(Env(), deferred_, [this] {
      pool_->DeliverCompleted(Env());  // whatever completed after the last wake-up
      pool_->ReleaseWake();
      pool_->ReleaseCallback();
    });
  }

 private:
  NativePool* pool_;
  ip::Pipeline* pipeline_;
};

}  // namespace

Napi::Function NativePool::Define(Napi::Env env) {
  return DefineClass(env, "NativePool",
                     {
                         InstanceMethod<&NativePool::LoadModel>("loadModel"),
                         InstanceMethod<&NativePool::UnloadModel>("unloadModel"),
                         InstanceMethod<&NativePool::Submit>("submit"),
                         InstanceMethod<&NativePool::Cancel>("cancel"),
                         InstanceMethod<&NativePool::Stats>("stats"),
                         InstanceMethod<&NativePool::SetBatchingHeld>("setBatchingHeld"),
                         InstanceMethod<&NativePool::Close>("close"),
                         InstanceMethod<&NativePool::Runtime>("runtime"),
                     });
}

NativePool::NativePool(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativePool>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[1].IsFunction()) {
    ThrowInvalidArgument(env, "new NativePool(config, onComplete)");
  }
  ip::PoolConfig config = ReadPoolConfig(info[0].As<Napi::Object>());
  // Weak while nothing is in flight (the TS layer holds the callback for as long as the pool lives),
  // strong while requests are, so a pool dropped with requests pending still settles them, and an
  // idle pool dropped without close() can be collected.
  onComplete_ = Napi::Weak(info[1].As<Napi::Function>());
  wake_ = WakeFunction::New(env, "inference-pool completion", 0, 1, this);
  wake_.Unref(env);  // referenced only while requests are in flight, so an idle pool lets the process exit
  try {
    pipeline_ = std::make_unique<ip::Pipeline>(config, [this] { wake_.NonBlockingCall(); });
  } catch (const ip::PoolError& e) {
    ReleaseWake();
    throw MakeError(env, e);
  }
  addon_ = env.GetInstanceData<AddonData>();
  addon_->pools.insert(this);
}

NativePool::~NativePool() { Shutdown(); }

void NativePool::OnWake(Napi::Env env, Napi::Function, NativePool* pool, void*) {
  if (env == nullptr || pool == nullptr || pool->shutDown_) return;
  // An exception must not leave this C callback (it would terminate the process): hand it to JS as
  // an uncaught exception instead. While the environment is being torn down (worker.terminate()),
  // calls into JS fail and there is nobody left to tell.
  try {
    pool->DeliverCompleted(env, true);
  } catch (const Napi::Error& e) {
    try {
      e.ThrowAsJavaScriptException();
    } catch (...) {
    }
  } catch (...) {
  }
}

void NativePool::ReleaseWake() {
  if (wakeReleased_) return;
  wakeReleased_ = true;
  wake_.Release();
}

void NativePool::Shutdown() {
  if (shutDown_) return;
  shutDown_ = true;
  closing_ = true;
  if (pipeline_) {
    pipeline_->MarkClosing();
    pipeline_->Close(true);
    ip::Request* done[256];
    while (size_t n = pipeline_->DrainCompleted(done, 256)) {
      for (size_t i = 0; i < n; ++i) delete done[i];
    }
  }
  pending_.clear();
  ReleaseWake();
  ReleaseCallback();
  if (addon_ != nullptr) addon_->pools.erase(this);
  addon_ = nullptr;
}

void NativePool::ReleaseCallback() {
  if (callbackReleased_) return;
  callbackReleased_ = true;
  onComplete_.Reset();
}

void NativePool::HoldWhileInFlight(Napi::Env env, bool inFlight) {
  if (inFlight == wakeRefed_ || wakeReleased_) return;
  wakeRefed_ = inFlight;
  if (inFlight) {
    wake_.Ref(env);
    if (!callbackReleased_) onComplete_.Ref();
  } else {
    wake_.Unref(env);
    if (!callbackReleased_) onComplete_.Unref();
  }
}

void NativePool::DeliverCompleted(Napi::Env env, bool bounded) {
  if (shutDown_) return;
  // Bounded: after a couple of milliseconds, the rest waits for the next turn of the event loop, so
  // promise continuations, timers and I/O run in between however many results arrive at once.
  constexpr auto kBudget = std::chrono::milliseconds(2);
  constexpr size_t kChunk = 32;
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Napi::Error> firstError;
  for (;;) {
    ip::Request* drained[kChunk];
    const size_t n = pipeline_->DrainCompleted(drained, kChunk);
    if (n == 0) break;
    // Owned and out of the pending table before anything below can throw, so that a throw (an
    // environment that no longer runs JS) leaks none of them and leaves no entry for cancel() to touch.
    std::unique_ptr<ip::Request> done[kChunk];
    for (size_t i = 0; i < n; ++i) done[i].reset(drained[i]);
    for (size_t i = 0; i < n; ++i) pending_.erase(uint32_t(done[i]->id));  // drops the reference on the bytes
    Napi::Value callbackValue = callbackReleased_ ? Napi::Value() : onComplete_.Value();
    for (size_t i = 0; i < n; ++i) {
      std::unique_ptr<ip::Request> r = std::move(done[i]);
      if (callbackValue.IsEmpty() || !callbackValue.IsFunction()) continue;  // nobody is left to tell
      Napi::HandleScope scope(env);
      const uint32_t id = uint32_t(r->id);
      try {
        Napi::Value error = env.Null();
        Napi::Value result = env.Null();
        if (r->failed) {
          error = MakeError(env, r->errorCode, r->errorMessage).Value();
        } else {
          try {
            result = MakeResult(env, *r);
          } catch (const std::bad_alloc&) {
            error = MakeError(env, ip::ErrorCode::kInferenceFailed, "out of memory while building the result").Value();
          }
        }
        r.reset();
        callbackValue.As<Napi::Function>().Call({Napi::Number::New(env, id), error, result});
      } catch (const Napi::Error& e) {
        if (!firstError) firstError = std::make_unique<Napi::Error>(e);
      }
    }
    if (bounded && std::chrono::steady_clock::now() - started > kBudget) {
      wake_.NonBlockingCall();  // come back for the rest
      break;
    }
  }
  if (pending_.empty()) HoldWhileInFlight(env, false);
  if (firstError) throw *firstError;
}

void NativePool::CheckOpen(Napi::Env env) {
  if (closing_) throw MakeError(env, ip::ErrorCode::kPoolClosed, "the pool is closed");
}

Napi::Value NativePool::LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!info[0].IsObject()) ThrowInvalidArgument(env, "loadModel(spec) needs a model spec object");
  auto* worker = new LoadWorker(env, info.This().As<Napi::Object>(), pipeline_.get(),
                                ReadModelSpec(info[0].As<Napi::Object>()));
  worker->Queue();
  return worker->Promise();
}

Napi::Value NativePool::UnloadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!info[0].IsString()) ThrowInvalidArgument(env, "unloadModel(id) needs a model id");
  std::shared_ptr<ip::ModelRunner> runner;
  try {
    runner = pipeline_->DetachModel(info[0].As<Napi::String>().Utf8Value());
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
  auto* worker = new UnloadWorker(env, info.This().As<Napi::Object>(), this, std::move(runner));
  worker->Queue();
  return worker->Promise();
}

Napi::Value NativePool::Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (!info[0].IsNumber()) ThrowInvalidArgument(env, "submit(id, modelId, image, options)");
  if (!info[1].IsString()) ThrowInvalidArgument(env, "the model id must be a string");
  uint32_t id = info[0].As<Napi::Number>().Uint32Value();
  auto request = std::make_unique<ip::Request>();
  request->id = id;
  Napi::Value keep = ReadImage(info[2], &request->image);
  request->options = ReadRequestOptions(info[3]);
  try {
    pipeline_->Submit(request.get(), info[1].As<Napi::String>().Utf8Value());
  } catch (const ip::PoolError& e) {
    throw MakeError(env, e);
  }
  // Completion is delivered on this thread, so the entry exists before anyone can look for it.
  pending_.emplace(id, Pending{request.release(), Napi::Persistent(keep)});
  HoldWhileInFlight(env, true);
  return env.Undefined();
}

Napi::Value NativePool::Cancel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) return Napi::Boolean::New(env, true);
  auto it = pending_.find(info[0].As<Napi::Number>().Uint32Value());
  if (it == pending_.end()) return Napi::Boolean::New(env, true);  // native code holds nothing of it
  // true: native code has let go of the image bytes (or never held them), so the request may settle
  // now; false: it is reading them, and the request settles when it completes.
  return Napi::Boolean::New(env, it->second.request->Cancel());
}

Napi::Value NativePool::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  if (!pipeline_ || closing_) return out;
  for (auto& [id, s] : pipeline_->Stats()) {
    Napi::Object m = Napi::Object::New(env);
    m.Set("requests", double(s.requests));
    m.Set("completed", double(s.completed));
    m.Set("failed", double(s.failed));
    m.Set("batches", double(s.batches));
    Napi::Array hist = Napi::Array::New(env, s.batchSizeHistogram.size());
    double items = 0;
    for (size_t i = 0; i < s.batchSizeHistogram.size(); ++i) {
      hist.Set(uint32_t(i), double(s.batchSizeHistogram[i]));
      items += double(i) * double(s.batchSizeHistogram[i]);
    }
    m.Set("batchSizeHistogram", hist);
    m.Set("meanBatchSize", s.batches > 0 ? items / double(s.batches) : 0.0);
    m.Set("queueDepth", double(s.waiting + s.prepared));
    m.Set("waiting", double(s.waiting));
    m.Set("prepared", double(s.prepared));
    m.Set("meanQueueMs", s.meanQueueMs);
    m.Set("meanPreprocessMs", s.meanPreprocessMs);
    m.Set("meanInferenceMs", s.meanInferenceMs);
    m.Set("meanPostprocessMs", s.meanPostprocessMs);
    m.Set("expired", double(s.expired));
    m.Set("rejected", double(s.rejected));
    m.Set("inFlight", double(s.inFlight));
    auto summary = [&](const ip::LatencySummary& l) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("p50", l.p50);
      o.Set("p90", l.p90);
      o.Set("p99", l.p99);
      o.Set("max", l.max);
      return o;
    };
    Napi::Object latency = Napi::Object::New(env);
    latency.Set("queue", summary(s.queue));
    latency.Set("preprocess", summary(s.preprocess));
    latency.Set("inference", summary(s.inference));
    latency.Set("postprocess", summary(s.postprocess));
    latency.Set("total", summary(s.total));
    m.Set("latencyMs", latency);
    // A fresh object each time, so `histogram` and `histograms.total` hold equal values but share nothing.
    auto cumulative = [&](const ip::CumulativeHistogram& h) {
      Napi::Object o = Napi::Object::New(env);
      Napi::Array bounds = Napi::Array::New(env, ip::kLatencyBoundsMs.size());
      Napi::Array counts = Napi::Array::New(env, h.counts.size());
      for (size_t i = 0; i < ip::kLatencyBoundsMs.size(); ++i) bounds.Set(uint32_t(i), ip::kLatencyBoundsMs[i]);
      for (size_t i = 0; i < h.counts.size(); ++i) counts.Set(uint32_t(i), double(h.counts[i]));
      o.Set("bucketsMs", bounds);
      o.Set("counts", counts);
      o.Set("sumMs", h.sumMs);
      o.Set("count", double(h.count));
      return o;
    };
    m.Set("histogram", cumulative(s.histograms.total));
    Napi::Object histograms = Napi::Object::New(env);
    histograms.Set("queue", cumulative(s.histograms.queue));
    histograms.Set("preprocess", cumulative(s.histograms.preprocess));
    histograms.Set("inference", cumulative(s.histograms.inference));
    histograms.Set("postprocess", cumulative(s.histograms.postprocess));
    histograms.Set("total", cumulative(s.histograms.total));
    m.Set("histograms", histograms);
    Napi::Object priorities = Napi::Object::New(env);
    for (const auto& [level, p] : s.priorities) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("completed", double(p.completed));
      o.Set("p50", p.p50);
      o.Set("p99", p.p99);
      priorities.Set(std::to_string(level), o);
    }
    m.Set("priorities", priorities);
    out.Set(id, m);
  }
  return out;
}

Napi::Value NativePool::SetBatchingHeld(const Napi::CallbackInfo& info) {
  if (pipeline_) pipeline_->SetBatchingHeld(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value NativePool::Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closing_) {
    auto deferred = Napi::Promise::Deferred::New(env);
    deferred.Resolve(env.Undefined());
    return deferred.Promise();
  }
  closing_ = true;
  pipeline_->MarkClosing();
  pipeline_->SetBatchingHeld(false);
  auto* worker = new CloseWorker(env, info.This().As<Napi::Object>(), this, pipeline_.get());
  worker->Queue();
  return worker->Promise();
}

Napi::Value NativePool::Runtime(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  ip::OrtRuntime& rt = pipeline_->runtime();
  o.Set("version", rt.version());
  o.Set("libraryPath", rt.libraryPath());
  o.Set("intraOpThreads", rt.intraOpThreads());
  Napi::Array providers = Napi::Array::New(env, rt.providers().size());
  for (size_t i = 0; i < rt.providers().size(); ++i) providers.Set(uint32_t(i), rt.providers()[i]);
  o.Set("providers", providers);
  return o;
}

}  // namespace ipjs
