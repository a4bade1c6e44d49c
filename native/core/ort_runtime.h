// The process-wide ONNX Runtime: the shared library, loaded with dlopen() so that one addon binary
// works with any release whose C API is at least the headers' version, and one Ort::Env whose
// global thread pools every session of every pool shares (several models then do not
// oversubscribe the cores). Both live until the process exits: freeing the Env while another
// environment (a worker thread) still runs sessions crashes ONNX Runtime.
#pragma once

#include <onnxruntime_cxx_api.h>

#include <atomic>
#include <string>
#include <vector>

namespace ip {

struct RuntimeOptions {
  std::string libraryPath;  // libonnxruntime.so to load
  int intraOpThreads = 0;   // global intra-op pool size; 0 = ONNX Runtime's default (one per core)
};

class OrtRuntime {
 public:
  // Loads the library and creates the Env on the first call; later calls must name the same
  // library (or none) and get the same runtime. Throws PoolError.
  static OrtRuntime& Acquire(const RuntimeOptions& options);

  Ort::Env& env() { return *env_; }
  const std::string& version() const { return version_; }
  const std::string& libraryPath() const { return libraryPath_; }
  int intraOpThreads() const { return intraOpThreads_; }
  const std::vector<std::string>& providers() const { return providers_; }
  bool HasProvider(const std::string& name) const;
  // False when another user of the same library (onnxruntime-node, say) created the process's Env
  // first, without global thread pools: sessions then get per-session threads.
  bool sharedThreadPools() const { return sharedThreadPools_.load(); }
  void MarkNoSharedThreadPools() { sharedThreadPools_.store(false); }
  // Whether sessions can share the Env's CPU arena.
  bool sharedAllocator() const { return sharedAllocator_; }

 private:
  OrtRuntime() = default;
  Ort::Env* env_ = nullptr;
  std::string version_;
  std::string libraryPath_;
  int intraOpThreads_ = 0;
  std::vector<std::string> providers_;
  std::atomic<bool> sharedThreadPools_{true};
  bool sharedAllocator_ = false;
};

}  // namespace ip
