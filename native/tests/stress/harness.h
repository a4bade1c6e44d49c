// What the pipeline stress cases share: the models and images they feed the pipeline, a ledger that
// checks every submitted request comes back exactly once with a result or an error code, a drainer
// that takes completed requests only when the pipeline's Wake says so (as the addon does), and a
// watchdog that turns a hang into a failure.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/pipeline.h"

namespace stress {

// ---- checks and the summary line test/run.mjs counts ----------------------------------------
void Check(bool ok, const std::string& what);
int Passed();
int Failures();
// Prints "N passed, N failed" and ends the process at once: for a case that leaves threads stuck
// (they cannot be joined), or a hang the watchdog caught.
[[noreturn]] void Abandon(const std::string& why);

// ---- what the tests run on -----------------------------------------------------------------
struct Paths {
  std::string ortLibrary;  // $INFERENCE_POOL_ORT_LIBRARY
  std::string modelsDir;   // $INFERENCE_POOL_TEST_MODELS (models/generated)
};
// Empty fields when a variable is unset or names no file; `missing` says which.
Paths PathsFromEnvironment(std::string* missing);

enum class Kind { kMeanColor, kPalette, kMeanColorFixedBatch, kRandomConv };
constexpr int kKinds = 4;
ip::ModelSpec Spec(const Paths& paths, Kind kind, const std::string& id, int instances = 0);
int ClassCount(Kind kind);

// Solid colours of the palette model, as PNG, JPEG and raw RGB pixels of a few sizes, and
// undecodable bytes. Their bytes live for the whole process (requests borrow them).
struct TestImage {
  std::vector<uint8_t> bytes;
  ip::ImageInput input;
  bool valid = true;
  int expected[kKinds];  // expected top class per model kind; -1 where no single answer
};
const std::vector<TestImage>& Images();

// Scales loop counts and time limits: $INFERENCE_POOL_STRESS_SCALE (default 1) for rounds, and
// the sanitizer's slowdown for time limits.
int Rounds(int base);
std::chrono::milliseconds Limit(int seconds);

// ---- the ledger ----------------------------------------------------------------------------
class Ledger {
 public:
  struct Totals {
    int submitted = 0, refused = 0, succeeded = 0, aborted = 0, closed = 0, invalid = 0, terminated = 0;
  };

  ~Ledger();
  // Submits a new request for image `image` to model `modelId` (of `kind`). False when Submit
  // refused it, with a code that must be in `refusals`.
  bool Submit(ip::Pipeline& pipeline, const std::string& modelId, Kind kind, size_t image,
              const std::set<ip::ErrorCode>& refusals);
  // From DrainCompleted: checks the request came from the pool once, with a right result or an
  // allowed error, and frees it (as the addon does).
  void Returned(ip::Request* r);
  // Marks a random request still in the pool cancelled (as the addon's cancel does). False if none.
  bool CancelRandom(std::mt19937& rng);
  // Marks every request in the pool cancelled; returns how many, and the ABORTED count so far (both
  // at one moment, while other threads may be cancelling too).
  int CancelAll(int* abortedSoFar);
  // From now on `code` is a legitimate answer for any request: POOL_CLOSED once the pool is closing
  // (call before MarkClosing), INFERENCE_FAILED for a batch that Close(true) terminated.
  void Allow(ip::ErrorCode code);
  size_t InPool();
  // Waits until nothing submitted is still out; false on timeout.
  bool WaitAllReturned(std::chrono::milliseconds limit);
  // Every submitted request came back. `lostAllowed`: the pipeline was destroyed before it could be
  // drained, so what it still held is not counted as lost. Frees what is left.
  void Verify(const std::string& label, bool lostAllowed = false);
  Totals totals();

 private:
  struct Entry {
    std::unique_ptr<ip::Request> request;
    size_t image = 0;
    Kind kind = Kind::kMeanColor;
    bool cancelled = false;  // by the test
  };
  void Fault(const std::string& what);
  void RemoveFromPool(ip::Request* r);  // with mutex_ held

  std::mutex mutex_;
  std::condition_variable changed_;
  std::unordered_map<ip::Request*, Entry> entries_;
  std::vector<ip::Request*> inPool_;  // for CancelRandom
  uint64_t nextId_ = 1;
  Totals totals_;
  int faults_ = 0;
  std::set<ip::ErrorCode> allowed_;
};

// ---- the drainer ---------------------------------------------------------------------------
// Owns the thread that drains the pipeline when woken, the way the addon's JS thread does: it never
// polls, so a lost wake-up leaves requests behind and the ledger sees them lost. Create it before the
// pipeline and destroy it after.
class Drainer {
 public:
  explicit Drainer(Ledger& ledger) : ledger_(ledger) {}
  ~Drainer() { Stop(); }
  ip::Pipeline::Wake Wake();
  void Start(ip::Pipeline* pipeline);
  // Joins the thread: before the pipeline goes away.
  void Stop();
  // One last drain on the calling thread, after Close (as the addon's close does).
  void DrainNow(ip::Pipeline* pipeline);
  // Close has returned: a wake-up from now on is a defect.
  void MarkClosed() { closed_.store(true); }
  int wakesAfterClose() const { return wakesAfterClose_.load(); }

 private:
  void Loop();
  Ledger& ledger_;
  ip::Pipeline* pipeline_ = nullptr;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool woken_ = false, stop_ = false;
  std::thread thread_;
  std::atomic<bool> closed_{false};
  std::atomic<int> wakesAfterClose_{0};
};

// ---- the watchdog --------------------------------------------------------------------------
// Abandons the process when a case runs past its limit (a hang is a failure, not a stuck CI job).
class Watchdog {
 public:
  Watchdog(std::string name, std::chrono::milliseconds limit);
  ~Watchdog();

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

ip::PoolConfig Config(const Paths& paths, double maxQueueDelayMs = 0);

}  // namespace stress
