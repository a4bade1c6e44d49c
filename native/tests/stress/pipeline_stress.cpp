// Stress tests of ip::Pipeline's threads, on real ONNX Runtime sessions of the generated models:
// submit against close, unload while batches run, close while a model unloads, cancellation at
// every stage, models loaded and unloaded while requests flow, and teardown with requests in flight.
// Every submitted request must come back through DrainCompleted exactly once, with a right result
// or an allowed error code, and Wake must not be called once Close has returned. Meant to run under
// ThreadSanitizer and AddressSanitizer too (test/run.mjs runs each case in a process of its own).
//
//   pipeline_stress --list | pipeline_stress [case...]
//   INFERENCE_POOL_ORT_LIBRARY=libonnxruntime.so.1 INFERENCE_POOL_TEST_MODELS=models/generated
#include <sched.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstring>
#include <functional>

#include <opencv2/core.hpp>

#include "harness.h"

namespace stress {
namespace {

using ip::ErrorCode;
using Ms = std::chrono::milliseconds;
using Us = std::chrono::microseconds;

const std::set<ErrorCode> kNoRefusal;
const std::set<ErrorCode> kClosedRefusal = {ErrorCode::kPoolClosed};
const std::set<ErrorCode> kUnloadedRefusal = {ErrorCode::kModelNotFound};

// A pipeline with its ledger and drainer, destroyed in the right order.
struct Rig {
  Ledger ledger;
  Drainer drainer{ledger};
  std::unique_ptr<ip::Pipeline> pipeline;

  // `lowPriorityStages`: the pipeline is made on a thread of the lowest priority, so its stage
  // threads (which inherit it) lose the CPU to any other thread that wakes up.
  explicit Rig(const ip::PoolConfig& config, bool lowPriorityStages = false) {
    auto make = [&] { pipeline = std::make_unique<ip::Pipeline>(config, drainer.Wake()); };
    if (lowPriorityStages) {
      std::thread([&] {
        setpriority(PRIO_PROCESS, 0, 19);  // this thread only, on Linux
        make();
      }).join();
    } else {
      make();
    }
    drainer.Start(pipeline.get());
  }
  ~Rig() {
    drainer.Stop();
    pipeline.reset();
  }
  void Load(const Paths& paths, Kind kind, const std::string& id, int instances = 0) {
    pipeline->LoadModel(Spec(paths, kind, id, instances));
  }
};

// How a case ends the pipeline: Close(false) on another thread (the addon's close()), Close(true)
// on the submitting thread (the addon's environment teardown), or the destructor with requests in
// flight and nobody left to drain them.
enum class Ending { kClose, kTerminate, kDestroy };
const char* EndingName(Ending e) { return e == Ending::kClose ? "close" : e == Ending::kTerminate ? "terminate" : "destroy"; }

// Ends the pipeline while it works (with a last drain where the pipeline is still there to drain).
void End(Rig& rig, Ending ending) {
  rig.ledger.Allow(ErrorCode::kPoolClosed);
  if (ending != Ending::kClose) rig.ledger.Allow(ErrorCode::kInferenceFailed);  // a terminated batch
  if (ending == Ending::kDestroy) {
    rig.drainer.Stop();
    rig.pipeline.reset();
    rig.drainer.MarkClosed();
    return;
  }
  rig.pipeline->MarkClosing();
  if (ending == Ending::kClose) {
    std::thread closer([&] { rig.pipeline->Close(false); });
    closer.join();
  } else {
    rig.pipeline->Close(true);
  }
  rig.drainer.MarkClosed();
  rig.drainer.Stop();
  rig.drainer.DrainNow(rig.pipeline.get());
}

// After End: destroys the pipeline, then checks every request came back (unless it was destroyed
// undrained) and no wake-up came late.
void Verify(Rig& rig, Ending ending, const std::string& label) {
  rig.pipeline.reset();
  std::this_thread::sleep_for(Ms(30));  // room for a late wake-up to show
  rig.ledger.Verify(label, ending == Ending::kDestroy);
  Check(rig.drainer.wakesAfterClose() == 0,
        label + ": no wake-up after Close returned (" + std::to_string(rig.drainer.wakesAfterClose()) + ")");
}

void EndAndVerify(Rig& rig, Ending ending, const std::string& label) {
  End(rig, ending);
  Verify(rig, ending, label);
}

size_t RandomImage(std::mt19937& rng) { return std::uniform_int_distribution<size_t>(0, Images().size() - 1)(rng); }
size_t RandomValidImage(std::mt19937& rng) {
  for (;;) {
    const size_t i = RandomImage(rng);
    if (Images()[i].valid) return i;
  }
}
int Uniform(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

// Submits `n` requests spread over `models`, cancelling now and then.
void Burst(Rig& rig, std::mt19937& rng, const std::vector<std::pair<std::string, Kind>>& models, int n,
           const std::set<ErrorCode>& refusals = kNoRefusal, bool validOnly = false) {
  for (int i = 0; i < n; ++i) {
    const auto& [id, kind] = models[size_t(Uniform(rng, 0, int(models.size()) - 1))];
    rig.ledger.Submit(*rig.pipeline, id, kind, validOnly ? RandomValidImage(rng) : RandomImage(rng), refusals);
    if (!validOnly && Uniform(rng, 0, 15) == 0) rig.ledger.CancelRandom(rng);
  }
}

// A thread that runs `work` once and says when it is done. Joined when destroyed: a case that finds
// one stuck abandons the process instead.
class Worker {
 public:
  explicit Worker(std::function<void()> work)
      : thread_([this, work = std::move(work)] {
          work();
          done_.store(true);
        }) {}
  ~Worker() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }
  bool WaitDone(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(Ms(1));
    return done();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// The addon's unloadModel: DetachModel on the submitting thread, then WaitIdle and Stop on a worker.
std::unique_ptr<Worker> Unload(Rig& rig, const std::string& id) {
  std::shared_ptr<ip::ModelRunner> runner = rig.pipeline->DetachModel(id);
  return std::make_unique<Worker>([runner]() mutable {
    runner->WaitIdle();
    runner->Stop();
    runner.reset();  // the model goes with the last reference, wherever that is
  });
}

// Submitting while the pool closes: Submit after MarkClosing is refused, everything accepted comes back.
void SubmitClose(const Paths& paths, std::mt19937& rng) {
  const std::vector<std::pair<std::string, Kind>> models = {
      {"mean", Kind::kMeanColor}, {"palette", Kind::kPalette}, {"fixed", Kind::kMeanColorFixedBatch}};
  for (int round = 0, rounds = Rounds(24); round < rounds; ++round) {
    const Ending ending = Ending(round % 3);
    Rig rig(Config(paths, round % 2 ? 1.0 : 0.0));
    for (const auto& [id, kind] : models) rig.Load(paths, kind, id);
    Burst(rig, rng, models, Uniform(rng, 0, 120));
    if (ending != Ending::kDestroy) {
      rig.ledger.Allow(ErrorCode::kPoolClosed);
      rig.pipeline->MarkClosing();
      bool refused = !rig.ledger.Submit(*rig.pipeline, "mean", Kind::kMeanColor, 0, kClosedRefusal);
      if (round < 3) Check(refused, "Submit after MarkClosing is refused with POOL_CLOSED");
    }
    EndAndVerify(rig, ending, std::string("submit-close/") + EndingName(ending) + " round " + std::to_string(round));
    if (Failures() > 0) return;
  }
}

// Unloading models (DetachModel + WaitIdle + Stop) while their batches run and other models keep
// working; loading them back on a worker thread meanwhile.
void UnloadWhileRunning(const Paths& paths, std::mt19937& rng) {
  Rig rig(Config(paths, 1.0));
  rig.Load(paths, Kind::kPalette, "steady");
  const std::pair<std::string, Kind> steady = {"steady", Kind::kPalette};
  const Kind kinds[] = {Kind::kMeanColor, Kind::kMeanColorFixedBatch, Kind::kRandomConv};
  for (int round = 0, rounds = Rounds(30); round < rounds; ++round) {
    const std::string id = "model-" + std::to_string(round);
    const Kind kind = kinds[round % 3];
    {
      Worker loader([&] { rig.Load(paths, kind, id, round % 2); });
      while (!loader.done()) {
        Burst(rig, rng, {steady}, 2);
        std::this_thread::sleep_for(Us(200));
      }
    }
    Burst(rig, rng, {steady, {id, kind}, {id, kind}}, Uniform(rng, 1, 64));
    auto unloader = Unload(rig, id);
    bool refused = !rig.ledger.Submit(*rig.pipeline, id, kind, 0, kUnloadedRefusal);
    if (round == 0) Check(refused, "Submit to a detached model is refused with MODEL_NOT_FOUND");
    const auto deadline = std::chrono::steady_clock::now() + Limit(10);
    while (!unloader->done() && std::chrono::steady_clock::now() < deadline) {
      Burst(rig, rng, {steady}, 1);
      std::this_thread::sleep_for(Us(200));
    }
    if (!unloader->done()) {
      Abandon("unload-while-running: WaitIdle of a detached model never returned (its requests were lost)");
    }
  }
  Check(rig.ledger.WaitAllReturned(Limit(10)), "unload-while-running: every request came back by wake-ups alone");
  EndAndVerify(rig, Ending::kClose, "unload-while-running");
}

// Close (or teardown) while a detached model is still unloading, with batches of it in flight.
void CloseWhileUnloading(const Paths& paths, std::mt19937& rng) {
  for (int round = 0, rounds = Rounds(24); round < rounds; ++round) {
    const Ending ending = Ending(round % 3);
    const std::string label = std::string("close-while-unloading/") + EndingName(ending) + " round " + std::to_string(round);
    Rig rig(Config(paths, round % 2 ? 2.0 : 0.0));
    rig.Load(paths, Kind::kRandomConv, "leaving");
    rig.Load(paths, Kind::kMeanColor, "staying");
    Burst(rig, rng, {{"leaving", Kind::kRandomConv}, {"staying", Kind::kMeanColor}}, Uniform(rng, 16, 96));
    auto unloader = Unload(rig, "leaving");
    std::this_thread::sleep_for(Us(Uniform(rng, 0, 2000)));
    End(rig, ending);
    if (!unloader->WaitDone(Limit(2))) {
      Check(false, label + ": the detached model's WaitIdle never returned after Close (" +
                       std::to_string(rig.ledger.InPool()) + " requests never came back)");
      // What the embedder does next: tear the pipeline down while the detached model still runs.
      rig.pipeline.reset();
      std::this_thread::sleep_for(Ms(200));
      Abandon(label + ": abandoned with the unloading thread stuck");
    }
    Verify(rig, ending, label);
    if (Failures() > 0) return;
  }
}

// Cancellation while requests wait for a slot, preprocess, wait for a batch (held), run and
// postprocess: each comes back once, ABORTED or with its result, and no other request is touched.
void CancelEveryStage(const Paths& paths, std::mt19937& rng) {
  Rig rig(Config(paths, 2.0));
  const std::vector<std::pair<std::string, Kind>> models = {{"mean", Kind::kMeanColor},
                                                             {"palette", Kind::kPalette},
                                                             {"fixed", Kind::kMeanColorFixedBatch},
                                                             {"conv", Kind::kRandomConv}};
  for (const auto& [id, kind] : models) rig.Load(paths, kind, id);
  std::atomic<bool> stop{false};
  std::thread canceller([&, seed = rng()] {
    std::mt19937 own(seed);
    while (!stop.load()) {
      std::this_thread::sleep_for(Us(Uniform(own, 0, 300)));
      rig.ledger.CancelRandom(own);
    }
  });
  for (int round = 0, rounds = Rounds(40); round < rounds; ++round) {
    Burst(rig, rng, models, Uniform(rng, 1, 48));
    if (round % 8 == 7) {
      // Held: nothing runs, so every request cancelled now (waiting for a slot, in preprocessing or
      // waiting for a batch) must come back ABORTED once batching resumes. Valid images only: an
      // undecodable one cancelled during its decoding rightly comes back INVALID_IMAGE.
      Check(rig.ledger.WaitAllReturned(Limit(10)), "cancel-every-stage: the pool drains before holding");
      rig.pipeline->SetBatchingHeld(true);
      Burst(rig, rng, models, 40, kNoRefusal, true);
      std::this_thread::sleep_for(Ms(5));
      int aborted = 0;
      const int cancelled = rig.ledger.CancelAll(&aborted);
      rig.pipeline->SetBatchingHeld(false);
      Check(rig.ledger.WaitAllReturned(Limit(10)), "cancel-every-stage: held requests come back");
      const Ledger::Totals t = rig.ledger.totals();
      Check(t.aborted - aborted == cancelled, "cancel-every-stage: every request cancelled while held comes back ABORTED (" +
                                                  std::to_string(t.aborted - aborted) + " of " +
                                                  std::to_string(cancelled) + ")");
    }
    std::this_thread::sleep_for(Us(Uniform(rng, 0, 1500)));
  }
  stop.store(true);
  canceller.join();
  Check(rig.ledger.WaitAllReturned(Limit(10)), "cancel-every-stage: every request came back by wake-ups alone");
  const Ledger::Totals t = rig.ledger.totals();
  Check(t.succeeded > 0 && t.aborted > 0, "cancel-every-stage: some requests succeeded and some were aborted (" +
                                              std::to_string(t.succeeded) + ", " + std::to_string(t.aborted) + ")");
  EndAndVerify(rig, Ending::kClose, "cancel-every-stage");
}

// Four model ids loaded and unloaded at random on worker threads while requests flow to all of them.
void ModelsChurn(const Paths& paths, std::mt19937& rng) {
  Rig rig(Config(paths, 0.5));
  const std::vector<std::pair<std::string, Kind>> models = {
      {"m0", Kind::kMeanColor}, {"m1", Kind::kPalette}, {"m2", Kind::kMeanColorFixedBatch}, {"m3", Kind::kRandomConv}};
  enum State { kUnloaded, kLoading, kLoaded, kUnloading };
  std::vector<std::atomic<int>> state(models.size());
  for (auto& s : state) s.store(kUnloaded);
  std::vector<std::unique_ptr<Worker>> workers;
  for (int step = 0, steps = Rounds(600); step < steps; ++step) {
    const size_t m = size_t(Uniform(rng, 0, int(models.size()) - 1));
    const auto& [id, kind] = models[m];
    const int action = Uniform(rng, 0, 9);
    if (action == 0 && state[m].load() == kUnloaded) {
      state[m].store(kLoading);
      const int instances = Uniform(rng, 0, 2);
      workers.push_back(std::make_unique<Worker>([&, m, instances] {
        try {
          rig.Load(paths, models[m].second, models[m].first, instances);
          state[m].store(kLoaded);
        } catch (const ip::PoolError& e) {
          Check(false, std::string("models-churn: LoadModel failed: ") + e.what());
          state[m].store(kUnloaded);
        }
      }));
    } else if (action == 1 && state[m].load() == kLoaded) {
      state[m].store(kUnloading);
      std::shared_ptr<ip::ModelRunner> runner = rig.pipeline->DetachModel(id);
      workers.push_back(std::make_unique<Worker>([&, m, runner]() mutable {
        runner->WaitIdle();
        runner->Stop();
        runner.reset();
        state[m].store(kUnloaded);
      }));
    } else {
      Burst(rig, rng, {models[m]}, Uniform(rng, 1, 8), kUnloadedRefusal);
    }
    if (step % 50 == 49) std::this_thread::sleep_for(Ms(2));
  }
  for (auto& w : workers) {
    if (!w->WaitDone(Limit(10))) Abandon("models-churn: an unload's WaitIdle never returned (requests were lost)");
  }
  workers.clear();
  Check(rig.ledger.WaitAllReturned(Limit(10)), "models-churn: every request came back by wake-ups alone");
  EndAndVerify(rig, Ending::kClose, "models-churn");
}

// A detached model whose last requests fail in preprocessing (undecodable or cancelled): the last
// reference to the model may then be dropped while the preprocess thread is still inside it.
void DetachedLastReference(const Paths& paths, std::mt19937& rng) {
  // On one CPU, with the preprocess threads at the lowest priority, the unloading thread woken by the
  // last completion preempts the preprocess thread that completed it, and the window between that
  // completion and the preprocess thread's next use of the model opens (threads made from here on
  // inherit the CPU).
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  sched_setaffinity(0, sizeof one, &one);
  Rig rig(Config(paths), true);
  const size_t firstBad = Images().size() - 2;
  for (int round = 0, rounds = Rounds(150); round < rounds; ++round) {
    rig.Load(paths, Kind::kMeanColor, "short-lived", 1);
    const int n = Uniform(rng, 1, 12);
    for (int i = 0; i < n; ++i) {
      const bool bad = Uniform(rng, 0, 3) != 0;
      rig.ledger.Submit(*rig.pipeline, "short-lived", Kind::kMeanColor,
                        bad ? firstBad + size_t(Uniform(rng, 0, 1)) : RandomImage(rng), kNoRefusal);
      if (!bad) rig.ledger.CancelRandom(rng);
    }
    auto unloader = Unload(rig, "short-lived");
    if (!unloader->WaitDone(Limit(10))) Abandon("detached-last-reference: WaitIdle never returned");
  }
  Check(rig.ledger.WaitAllReturned(Limit(10)), "detached-last-reference: every request came back by wake-ups alone");
  EndAndVerify(rig, Ending::kClose, "detached-last-reference");
}

struct Case {
  const char* name;
  void (*run)(const Paths&, std::mt19937&);
  int limitSeconds;  // before the watchdog calls it a hang (scaled for sanitizers)
};

const Case kCases[] = {
    {"submit-close", SubmitClose, 60},
    {"unload-while-running", UnloadWhileRunning, 60},
    {"close-while-unloading", CloseWhileUnloading, 90},
    {"cancel-every-stage", CancelEveryStage, 60},
    {"models-churn", ModelsChurn, 60},
    {"detached-last-reference", DetachedLastReference, 60},
};

}  // namespace
}  // namespace stress

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

int main(int argc, char** argv) {
  using namespace stress;
  if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
    for (const Case& c : kCases) std::printf("%s\n", c.name);
    return 0;
  }
  std::string missing;
  const Paths paths = PathsFromEnvironment(&missing);
  if (!missing.empty()) {
    std::printf("SKIPPED: %s\n0 passed, 0 failed\n", missing.c_str());
    return 0;
  }
#if defined(__SANITIZE_THREAD__)
  // OpenCV's own (TBB) workers are not instrumented; the core does not depend on them, so under
  // ThreadSanitizer resizing runs on the calling thread.
  cv::setNumThreads(0);
#endif
  const char* seedText = std::getenv("INFERENCE_POOL_STRESS_SEED");
  const unsigned seed = seedText != nullptr ? unsigned(std::strtoul(seedText, nullptr, 10)) : std::random_device{}();
  std::printf("seed %u (INFERENCE_POOL_STRESS_SEED)\n", seed);
  Images();  // encoded once, before any pipeline thread runs
  int ran = 0;
  for (const Case& c : kCases) {
    bool wanted = argc == 1;
    for (int i = 1; i < argc; ++i) wanted = wanted || std::strcmp(argv[i], c.name) == 0;
    if (!wanted) continue;
    ++ran;
    std::printf("%s\n", c.name);
    std::fflush(stdout);
    std::mt19937 rng(seed);
    Watchdog watchdog(c.name, Limit(c.limitSeconds));
    const auto started = std::chrono::steady_clock::now();
    c.run(paths, rng);
    std::printf("  %.1f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
  if (ran == 0) Check(false, "no case matched the arguments (see --list)");
  std::printf("%d passed, %d failed\n", Passed(), Failures());
  std::fflush(stdout);
  int code = Failures() == 0 ? 0 : 1;
#if defined(__SANITIZE_ADDRESS__)
  if (__lsan_do_recoverable_leak_check() != 0) code = 1;  // what the exit-time check would do
#endif
  // ONNX Runtime's Env lives for the whole process (freeing it while sessions may run crashes it), so
  // its global pool's threads are still alive while static destructors run at exit, and ASan once saw
  // one of them read a static that ONNX Runtime's own exit handlers had freed. Every pipeline here is
  // closed and joined by now; leave without running the exit handlers.
  std::fflush(nullptr);
  std::_Exit(code);
}
