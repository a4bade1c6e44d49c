#include "core/ort_runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <mutex>

#include "core/errors.h"

namespace ip {
namespace {

std::mutex g_mutex;
OrtRuntime* g_runtime = nullptr;  // process-wide on purpose; see the header

}  // namespace

bool OrtRuntime::HasProvider(const std::string& name) const {
  return std::find(providers_.begin(), providers_.end(), name) != providers_.end();
}

OrtRuntime& OrtRuntime::Acquire(const RuntimeOptions& options) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_runtime != nullptr) {
    if (!options.libraryPath.empty() && options.libraryPath != g_runtime->libraryPath_) {
      throw PoolError(ErrorCode::kInvalidArgument, "ONNX Runtime is already loaded from " + g_runtime->libraryPath_ +
                                                       " in this process; cannot load " + options.libraryPath);
    }
    return *g_runtime;
  }
  if (options.libraryPath.empty()) {
    throw PoolError(ErrorCode::kInvalidArgument, "no ONNX Runtime library path given");
  }
  void* handle = dlopen(options.libraryPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    throw PoolError(ErrorCode::kProviderUnavailable,
                    "cannot load ONNX Runtime from " + options.libraryPath + ": " + (why ? why : "unknown error"));
  }
  using GetApiBaseFn = const OrtApiBase* (*)();
  auto getApiBase = reinterpret_cast<GetApiBaseFn>(dlsym(handle, "OrtGetApiBase"));
  if (getApiBase == nullptr) {
    throw PoolError(ErrorCode::kProviderUnavailable, options.libraryPath + " has no OrtGetApiBase symbol");
  }
  const OrtApiBase* base = getApiBase();
  const OrtApi* api = base->GetApi(ORT_API_VERSION);
  std::string version = base->GetVersionString();
  if (api == nullptr) {
    throw PoolError(ErrorCode::kProviderUnavailable, "ONNX Runtime " + version + " at " + options.libraryPath +
                                                         " is older than the headers this addon was built with (API " +
                                                         std::to_string(ORT_API_VERSION) + ")");
  }
  Ort::InitApi(api);

  auto* runtime = new OrtRuntime();
  runtime->version_ = version;
  runtime->libraryPath_ = options.libraryPath;
  runtime->intraOpThreads_ = options.intraOpThreads;
  try {
    Ort::ThreadingOptions threading;
    threading.SetGlobalIntraOpNumThreads(options.intraOpThreads);
    threading.SetGlobalInterOpNumThreads(1);
    // The shared pool runs only a model's lone batch (adaptive instances run it exclusively); spinning
    // keeps its threads hot between operators: a lone YOLOv8n-sized request measured 59 -> 55.5 ms p50.
    threading.SetGlobalSpinControl(1);
    runtime->env_ = new Ort::Env(threading, ORT_LOGGING_LEVEL_FATAL, "inference-pool");
    runtime->env_->DisableTelemetryEvents();
    // One CPU arena for every session in the process (sessions opt in with session.use_env_allocators):
    // memory then peaks with the runs that overlap, not with the number of sessions, and grows by what
    // is asked rather than by powers of two.
    try {
      Ort::ArenaCfg arena(0, 1, -1, -1);
      runtime->env_->CreateAndRegisterAllocator(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault), arena);
      runtime->sharedAllocator_ = true;
    } catch (const Ort::Exception&) {
      // Another user of the library registered one already, or this build cannot: per-session arenas.
    }
    runtime->providers_ = Ort::GetAvailableProviders();
  } catch (const Ort::Exception& e) {
    delete runtime;
    throw PoolError(ErrorCode::kProviderUnavailable, std::string("cannot start ONNX Runtime: ") + e.what());
  }
  g_runtime = runtime;
  return *g_runtime;
}

}  // namespace ip
