#include "binding/video.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "binding/addon_data.h"
#include "binding/annotate.h"
#include "binding/js_errors.h"
#include "binding/js_options.h"
#include "core/video_source.h"
#include "core/video_writer.h"

namespace ipjs {

namespace {

Napi::Error VideoError(Napi::Env env, const std::string& message) {
  return MakeError(env, ip::ErrorCode::kVideoSourceFailed, message);
}

int IntOption(const Napi::Object& o, const char* key, int fallback, int min, int max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) ThrowInvalidArgument(o.Env(), std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < min || d > max || std::floor(d) != d) {
    ThrowInvalidArgument(o.Env(), std::string(key) + " must be an integer from " + std::to_string(min) + " to " +
                                      std::to_string(max));
  }
  return int(d);
}

// Hands an uncaught exception from a callback into JS to the environment (never out of a C callback).
template <typename Fn>
void Guarded(Napi::Env env, Fn fn) {
  try {
    fn();
  } catch (const Napi::Error& e) {
    try {
      e.ThrowAsJavaScriptException();
    } catch (...) {
    }
  } catch (const std::exception& e) {
    try {
      Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
    } catch (...) {
    }
  }
}

// A frame's pixels as a Uint8Array over the cv::Mat's own memory; the finalizer frees the Mat.
Napi::Object MakeFrame(Napi::Env env, ip::VideoFrame& frame) {
  auto* mat = new cv::Mat(std::move(frame.image));
  const size_t bytes = mat->total() * mat->elemSize();
  const int width = mat->cols, height = mat->rows;
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(
        env, mat->data, bytes,
        [](Napi::Env env, void*, cv::Mat* m) {
          int64_t size = int64_t(m->total() * m->elemSize());
          delete m;
          Napi::MemoryManagement::AdjustExternalMemory(env, -size);
        },
        mat);
  } catch (...) {
    delete mat;
    throw;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(bytes));
  Napi::Object image = Napi::Object::New(env);
  image.Set("data", Napi::Uint8Array::New(env, bytes, buffer, 0));
  image.Set("width", Napi::Number::New(env, width));
  image.Set("height", Napi::Number::New(env, height));
  image.Set("format", Napi::String::New(env, "bgr"));
  Napi::Object out = Napi::Object::New(env);
  out.Set("index", Napi::Number::New(env, double(frame.index)));
  out.Set("timestamp", Napi::Number::New(env, frame.timestamp));
  out.Set("image", image);
  return out;
}

// What a source's threads hand to the JS thread.
struct Delivery {
  enum class Kind { kOpened, kEvent, kNext, kStopped };
  Kind kind = Kind::kStopped;
  uint64_t id = 0;  // kNext: which next() call
  bool ok = false;  // kOpened
  ip::VideoInfo info;
  std::string error;
  ip::VideoEvent event;
  ip::NextResult next;
};

}  // namespace

class VideoSourceWrap;

namespace {

// The thread-safe function's context: outlives the wrap while calls are still queued.
struct Bridge {
  VideoSourceWrap* wrap = nullptr;
};

void OnDelivery(Napi::Env env, Napi::Function, Bridge* bridge, Delivery* delivery);
using DeliveryFunction = Napi::TypedThreadSafeFunction<Bridge, Delivery, OnDelivery>;

// Sends deliveries from any thread; after Release() they are dropped.
struct Sender {
  std::mutex mutex;
  bool released = false;
  DeliveryFunction fn;

  void Send(std::unique_ptr<Delivery> d) {
    std::lock_guard<std::mutex> lock(mutex);
    if (released) return;
    if (fn.NonBlockingCall(d.get()) == napi_ok) d.release();
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mutex);
    if (released) return;
    released = true;
    fn.Release();
  }
};

}  // namespace

class VideoSourceWrap : public Napi::ObjectWrap<VideoSourceWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VideoSource",
                       {
                           InstanceMethod<&VideoSourceWrap::Open>("open"),
                           InstanceMethod<&VideoSourceWrap::Next>("next"),
                           InstanceMethod<&VideoSourceWrap::Pause>("pause"),
                           InstanceMethod<&VideoSourceWrap::Resume>("resume"),
                           InstanceMethod<&VideoSourceWrap::Close>("close"),
                           InstanceMethod<&VideoSourceWrap::Stats>("stats"),
                       });
  }

  explicit VideoSourceWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoSourceWrap>(info) {
    Napi::Env env = info.Env();
    if (!ip::VideoIoAvailable()) throw VideoError(env, ip::VideoIoMissingReason());
    if (!info[0].IsString() || !info[1].IsObject()) {
      ThrowInvalidArgument(env, "new VideoSource(source, options, onEvent)");
    }
    std::string source = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].As<Napi::Object>();
    ip::VideoSourceOptions options;
    Napi::Value mode = o.Get("mode");
    if (!mode.IsUndefined()) {
      std::string m = mode.IsString() ? mode.As<Napi::String>().Utf8Value() : "";
      if (m == "every-frame") {
        options.mode = ip::VideoMode::kEveryFrame;
      } else if (m == "freshest") {
        options.mode = ip::VideoMode::kFreshest;
      } else {
        ThrowInvalidArgument(env, "mode must be 'every-frame' or 'freshest'");
      }
    }
    options.bufferSize = IntOption(o, "bufferSize", options.bufferSize, 1, 1 << 16);
    options.reconnect = IntOption(o, "reconnect", options.reconnect, 0, 1 << 20);
    options.reconnectDelayMs = IntOption(o, "reconnectDelayMs", options.reconnectDelayMs, 0, 3'600'000);
    // Beyond the typed contract (lib/native.ts): how long a live source may take to open, and how
    // long without a packet before it counts as dead. Defaults 10 s and 5 s.
    options.openTimeoutMs = IntOption(o, "openTimeoutMs", options.openTimeoutMs, 1, 3'600'000);
    options.readTimeoutMs = IntOption(o, "readTimeoutMs", options.readTimeoutMs, 1, 3'600'000);
    if (info[2].IsFunction()) onEvent_ = Napi::Persistent(info[2].As<Napi::Function>());

    bridge_ = new Bridge{this};
    sender_ = std::make_shared<Sender>();
    sender_->fn = DeliveryFunction::New(env, "inference-pool video source", 0, 1, bridge_,
                                        [](Napi::Env, void*, Bridge* bridge) { delete bridge; });
    sender_->fn.Unref(env);
    std::shared_ptr<Sender> sender = sender_;
    try {
      source_ = std::make_shared<ip::VideoSource>(
          source, options,
          [sender](const ip::VideoEvent& event) {
            auto d = std::make_unique<Delivery>();
            d->kind = Delivery::Kind::kEvent;
            d->event = event;
            sender->Send(std::move(d));
          },
          [sender] {
            auto d = std::make_unique<Delivery>();
            d->kind = Delivery::Kind::kStopped;
            sender->Send(std::move(d));
          });
    } catch (const ip::PoolError& e) {
      bridge_->wrap = nullptr;
      sender_->Release();
      throw MakeError(env, e);
    }
    addon_ = env.GetInstanceData<AddonData>();
    addon_->videoSources.insert(this);
  }

  ~VideoSourceWrap() override { Shutdown(); }

  // Environment teardown, or the wrap collected: stop and join the reader, deliver nothing more.
  void Shutdown() {
    if (shutDown_) return;
    shutDown_ = true;
    closed_ = true;
    if (bridge_ != nullptr) bridge_->wrap = nullptr;
    if (source_) source_->Close();
    if (sender_) sender_->Release();
    onEvent_.Reset();
    if (held_) self_.Reset();
    held_ = false;
    pending_.clear();
    if (addon_ != nullptr) addon_->videoSources.erase(this);
    addon_ = nullptr;
  }

  void Handle(Napi::Env env, Delivery& d) {
    switch (d.kind) {
      case Delivery::Kind::kOpened: {
        opening_ = false;
        if (!openDeferred_) break;
        auto deferred = std::move(openDeferred_);
        if (d.ok) {
          Napi::Object info = Napi::Object::New(env);
          info.Set("width", Napi::Number::New(env, d.info.width));
          info.Set("height", Napi::Number::New(env, d.info.height));
          info.Set("fps", Napi::Number::New(env, d.info.fps));
          info.Set("frameCount", Napi::Number::New(env, double(d.info.frameCount)));
          info.Set("live", Napi::Boolean::New(env, d.info.live));
          deferred->Resolve(info);
        } else {
          deferred->Reject(VideoError(env, d.error).Value());
        }
        break;
      }
      case Delivery::Kind::kEvent: {
        if (onEvent_.IsEmpty() || closed_) break;
        Napi::Object event = Napi::Object::New(env);
        event.Set("type", Napi::String::New(env, d.event.type == ip::VideoEvent::Type::kReconnecting ? "reconnecting"
                                                                                                  : "reconnected"));
        event.Set("attempt", Napi::Number::New(env, d.event.attempt));
        event.Set("message", Napi::String::New(env, d.event.message));
        Guarded(env, [&] { onEvent_.Call(Value(), {event}); });
        break;
      }
      case Delivery::Kind::kNext: {
        auto it = pending_.find(d.id);
        if (it == pending_.end()) break;
        Napi::Promise::Deferred deferred = it->second;
        pending_.erase(it);
        Guarded(env, [&] {
          if (d.next.kind == ip::NextResult::Kind::kFrame) {
            deferred.Resolve(MakeFrame(env, d.next.frame));
          } else if (d.next.kind == ip::NextResult::Kind::kError) {
            deferred.Reject(VideoError(env, d.next.error).Value());
          } else {
            deferred.Resolve(env.Null());
          }
        });
        break;
      }
      case Delivery::Kind::kStopped:
        reading_ = false;
        onEvent_.Reset();  // no event can come any more; nothing keeps the callback alive
        break;
    }
    UpdateHold(env);
  }

 private:
  // Holds the event loop and this object while reading or while a promise is pending.
  void UpdateHold(Napi::Env env) {
    if (shutDown_) return;
    bool want = reading_ || opening_ || !pending_.empty();
    if (want == held_) return;
    held_ = want;
    if (want) {
      sender_->fn.Ref(env);
      self_ = Napi::Persistent(Value());
    } else {
      sender_->fn.Unref(env);
      self_.Reset();
    }
  }

  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    if (closed_) {
      deferred.Reject(VideoError(env, "video source '" + source_->source() + "' is closed").Value());
      return deferred.Promise();
    }
    if (openCalled_) {
      deferred.Reject(VideoError(env, "video source '" + source_->source() + "': open() was already called").Value());
      return deferred.Promise();
    }
    openCalled_ = true;
    opening_ = true;
    reading_ = true;
    openDeferred_ = std::make_unique<Napi::Promise::Deferred>(deferred);
    UpdateHold(env);
    std::shared_ptr<Sender> sender = sender_;
    source_->Open([sender](bool ok, const ip::VideoInfo& vi, const std::string& error) {
      auto d = std::make_unique<Delivery>();
      d->kind = Delivery::Kind::kOpened;
      d->ok = ok;
      d->info = vi;
      d->error = error;
      sender->Send(std::move(d));
    });
    return deferred.Promise();
  }

  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    if (closed_) {
      deferred.Resolve(env.Null());
      return deferred.Promise();
    }
    uint64_t id = ++nextId_;
    pending_.emplace(id, deferred);
    UpdateHold(env);
    std::shared_ptr<Sender> sender = sender_;
    source_->Next([sender, id](ip::NextResult result) {
      auto d = std::make_unique<Delivery>();
      d->kind = Delivery::Kind::kNext;
      d->id = id;
      d->next = std::move(result);
      sender->Send(std::move(d));
    });
    return deferred.Promise();
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) {
    if (!closed_) source_->Pause();
    return info.Env().Undefined();
  }

  Napi::Value Resume(const Napi::CallbackInfo& info) {
    if (!closed_) source_->Resume();
    return info.Env().Undefined();
  }

  // Stops the reader at once (pending next() calls resolve null); the thread is joined off the JS
  // thread, since a live source may sit in a read for up to its read timeout.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return env.Undefined();
    closed_ = true;
    source_->Stop();
    if (!openCalled_) reading_ = false;
    // A pending open() settles through its delivery (the reader reports "closed while it opened").
    (new JoinWorker(env, source_))->Queue();
    UpdateHold(env);
    return env.Undefined();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ip::VideoStats s = source_->Stats();
    Napi::Object out = Napi::Object::New(env);
    out.Set("read", Napi::Number::New(env, double(s.read)));
    out.Set("dropped", Napi::Number::New(env, double(s.dropped)));
    out.Set("reconnects", Napi::Number::New(env, double(s.reconnects)));
    out.Set("inputFps", Napi::Number::New(env, s.inputFps));
    return out;
  }

  class JoinWorker : public Napi::AsyncWorker {
   public:
    JoinWorker(Napi::Env env, std::shared_ptr<ip::VideoSource> source)
        : Napi::AsyncWorker(env, "inference-pool video close"), source_(std::move(source)) {}
    void Execute() override { source_->Close(); }

   private:
    std::shared_ptr<ip::VideoSource> source_;
  };

  AddonData* addon_ = nullptr;
  std::shared_ptr<ip::VideoSource> source_;
  std::shared_ptr<Sender> sender_;
  Bridge* bridge_ = nullptr;  // owned by the thread-safe function (freed by its finalizer)
  Napi::FunctionReference onEvent_;
  Napi::ObjectReference self_;
  std::unique_ptr<Napi::Promise::Deferred> openDeferred_;
  std::map<uint64_t, Napi::Promise::Deferred> pending_;
  uint64_t nextId_ = 0;
  bool openCalled_ = false;
  bool opening_ = false;
  bool reading_ = false;  // open() called and the reader has not stopped
  bool held_ = false;
  bool closed_ = false;
  bool shutDown_ = false;
};

namespace {

void OnDelivery(Napi::Env env, Napi::Function, Bridge* bridge, Delivery* delivery) {
  std::unique_ptr<Delivery> owned(delivery);
  if (env == nullptr || bridge == nullptr || bridge->wrap == nullptr || owned == nullptr) return;
  Napi::HandleScope scope(env);
  bridge->wrap->Handle(env, *owned);
}

}  // namespace

class VideoWriterWrap : public Napi::ObjectWrap<VideoWriterWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VideoWriter",
                       {
                           InstanceMethod<&VideoWriterWrap::Write>("write"),
                           InstanceMethod<&VideoWriterWrap::Close>("close"),
                       });
  }

  explicit VideoWriterWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VideoWriterWrap>(info) {
    Napi::Env env = info.Env();
    if (!ip::VideoIoAvailable()) throw VideoError(env, ip::VideoIoMissingReason());
    if (!info[0].IsString() || !info[1].IsObject()) {
      ThrowInvalidArgument(env, "new VideoWriter(path, { fps, width, height, queueSize })");
    }
    Napi::Object o = info[1].As<Napi::Object>();
    ip::VideoWriterOptions options;
    Napi::Value fps = o.Get("fps");
    if (!fps.IsNumber()) ThrowInvalidArgument(env, "fps must be a number");
    options.fps = fps.As<Napi::Number>().DoubleValue();
    options.width = IntOption(o, "width", 0, 1, 16384);
    options.height = IntOption(o, "height", 0, 1, 16384);
    options.queueSize = IntOption(o, "queueSize", options.queueSize, 1, 1 << 16);
    try {
      writer_ = std::make_shared<ip::VideoWriter>(info[0].As<Napi::String>().Utf8Value(), options);
    } catch (const ip::PoolError& e) {
      throw MakeError(env, e);
    }
    addon_ = env.GetInstanceData<AddonData>();
    addon_->videoWriters.insert(this);
  }

  ~VideoWriterWrap() override { Shutdown(); }

  // Environment teardown or the wrap collected: writes what is queued and closes the file.
  void Shutdown() {
    if (writer_) writer_->Close();
    closed_ = true;
    if (addon_ != nullptr) addon_->videoWriters.erase(this);
    addon_ = nullptr;
  }

 private:
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) throw VideoError(env, "the video writer is closed");
    ip::ImageInput image;
    ReadImage(info[0], &image);
    ip::Drawing drawing = ReadDrawing(info[1]);
    try {
      return Napi::Boolean::New(env, writer_->Write(image, std::move(drawing)));
    } catch (const ip::PoolError& e) {
      throw MakeError(env, e);
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    closed_ = true;
    auto* worker = new CloseWorker(info.Env(), Value(), writer_);
    worker->Queue();
    return worker->Promise();
  }

  class CloseWorker : public Napi::AsyncWorker {
   public:
    CloseWorker(Napi::Env env, Napi::Object self, std::shared_ptr<ip::VideoWriter> writer)
        : Napi::AsyncWorker(env, "inference-pool video writer close"),
          deferred_(Napi::Promise::Deferred::New(env)),
          self_(Napi::Persistent(self)),
          writer_(std::move(writer)) {}
    Napi::Promise Promise() { return deferred_.Promise(); }
    void Execute() override { totals_ = writer_->Close(); }
    void OnOK() override {
      Napi::Object out = Napi::Object::New(Env());
      out.Set("written", Napi::Number::New(Env(), double(totals_.written)));
      out.Set("dropped", Napi::Number::New(Env(), double(totals_.dropped)));
      deferred_.Resolve(out);
    }
    void OnError(const Napi::Error& e) override { deferred_.Reject(VideoError(Env(), e.Message()).Value()); }

   private:
    Napi::Promise::Deferred deferred_;
    Napi::ObjectReference self_;
    std::shared_ptr<ip::VideoWriter> writer_;
    ip::VideoWriterTotals totals_;
  };

  AddonData* addon_ = nullptr;
  std::shared_ptr<ip::VideoWriter> writer_;
  bool closed_ = false;
};

Napi::Object MakeVideoBinding(Napi::Env env) {
  Napi::Object video = Napi::Object::New(env);
  video.Set("available", Napi::Boolean::New(env, ip::VideoIoAvailable()));
  if (!ip::VideoIoAvailable()) video.Set("reason", Napi::String::New(env, ip::VideoIoMissingReason()));
  video.Set("VideoSource", VideoSourceWrap::Define(env));
  video.Set("VideoWriter", VideoWriterWrap::Define(env));
  return video;
}

void ShutdownVideo(AddonData* data) {
  if (data == nullptr) return;
  // Copies: Shutdown() unregisters from the sets.
  std::set<VideoSourceWrap*> sources = data->videoSources;
  for (VideoSourceWrap* s : sources) s->Shutdown();
  std::set<VideoWriterWrap*> writers = data->videoWriters;
  for (VideoWriterWrap* w : writers) w->Shutdown();
}

}  // namespace ipjs
