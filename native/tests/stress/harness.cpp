#include "harness.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <opencv2/imgcodecs.hpp>

namespace stress {
namespace {

std::atomic<int> g_passed{0}, g_failed{0};

bool IsFile(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

const char* ModelFile(Kind kind) {
  switch (kind) {
    case Kind::kMeanColor: return "mean-color.onnx";
    case Kind::kPalette: return "palette.onnx";
    case Kind::kMeanColorFixedBatch: return "mean-color-fixed-batch.onnx";
    case Kind::kRandomConv: return "random-conv.onnx";
  }
  return "";
}

// The palette model's classes (scripts/models/classifiers.ts PALETTE), as RGB bytes.
constexpr uint8_t kPalette[8][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},     {255, 255, 0},
                                    {0, 255, 255}, {255, 0, 255}, {255, 255, 255}, {0, 0, 0}};

// The mean-colour models answer the channel with the largest mean; a tie has no single answer.
int MeanColorClass(const uint8_t* rgb) {
  int best = int(std::max_element(rgb, rgb + 3) - rgb);
  int ties = int(std::count(rgb, rgb + 3, rgb[best]));
  return ties == 1 ? best : -1;
}

std::vector<TestImage> MakeImages() {
  std::vector<TestImage> images;
  const cv::Size sizes[] = {{40, 30}, {64, 64}, {97, 71}};
  for (int c = 0; c < 8; ++c) {
    const uint8_t* rgb = kPalette[c];
    for (const cv::Size& size : sizes) {
      cv::Mat bgr(size, CV_8UC3, cv::Scalar(rgb[2], rgb[1], rgb[0]));
      for (const char* ext : {".png", ".jpg", "raw"}) {
        TestImage image;
        if (std::string(ext) == "raw") {
          image.bytes.resize(size_t(size.area()) * 3);
          for (size_t i = 0; i < image.bytes.size(); ++i) image.bytes[i] = rgb[i % 3];
          image.input.encoded = false;
          image.input.width = size.width;
          image.input.height = size.height;
          image.input.format = ip::PixelFormat::kRgb;
        } else {
          cv::imencode(ext, bgr, image.bytes);
        }
        image.expected[int(Kind::kMeanColor)] = MeanColorClass(rgb);
        image.expected[int(Kind::kMeanColorFixedBatch)] = MeanColorClass(rgb);
        image.expected[int(Kind::kPalette)] = c;
        image.expected[int(Kind::kRandomConv)] = -1;
        images.push_back(std::move(image));
      }
    }
  }
  // Undecodable bytes (not a cut-off PNG or JPEG: OpenCV's codecs would print to stderr about them).
  for (uint8_t fill : {0x00, 0x5a}) {
    TestImage image;
    image.bytes.assign(300, fill);
    image.valid = false;
    std::fill(std::begin(image.expected), std::end(image.expected), -1);
    images.push_back(std::move(image));
  }
  for (TestImage& image : images) {
    image.input.data = image.bytes.data();
    image.input.length = image.bytes.size();
  }
  return images;
}

// Sanitizers slow the core's own code (not ONNX Runtime's or OpenCV's) several times over.
int Slowdown() {
#if defined(__SANITIZE_THREAD__)
  return 6;
#elif defined(__SANITIZE_ADDRESS__)
  return 3;
#else
  return 1;
#endif
}

}  // namespace

void Check(bool ok, const std::string& what) {
  if (!ok) std::printf("  FAIL: %s\n", what.c_str());
  (ok ? g_passed : g_failed).fetch_add(1);
  std::fflush(stdout);
}

int Passed() { return g_passed.load(); }
int Failures() { return g_failed.load(); }

void Abandon(const std::string& why) {
  std::printf("  FAIL: %s\n%d passed, %d failed\n", why.c_str(), g_passed.load(), g_failed.load() + 1);
  std::fflush(stdout);
  std::_Exit(1);
}

Paths PathsFromEnvironment(std::string* missing) {
  Paths paths;
  const char* lib = std::getenv("INFERENCE_POOL_ORT_LIBRARY");
  const char* dir = std::getenv("INFERENCE_POOL_TEST_MODELS");
  if (lib != nullptr && IsFile(lib)) paths.ortLibrary = lib;
  if (dir != nullptr && IsFile(std::string(dir) + "/" + ModelFile(Kind::kRandomConv))) paths.modelsDir = dir;
  missing->clear();
  if (paths.ortLibrary.empty()) *missing = "INFERENCE_POOL_ORT_LIBRARY names no ONNX Runtime library";
  if (paths.modelsDir.empty()) {
    *missing += std::string(missing->empty() ? "" : "; ") +
                "INFERENCE_POOL_TEST_MODELS names no folder of the generated models (npm run models)";
  }
  return paths;
}

ip::ModelSpec Spec(const Paths& paths, Kind kind, const std::string& id, int instances) {
  ip::ModelSpec spec;
  spec.id = id;
  spec.path = paths.modelsDir + "/" + ModelFile(kind);
  spec.instances = instances;
  return spec;
}

int ClassCount(Kind kind) {
  switch (kind) {
    case Kind::kPalette: return 8;
    case Kind::kRandomConv: return 10;
    default: return 3;
  }
}

const std::vector<TestImage>& Images() {
  static const std::vector<TestImage> images = MakeImages();
  return images;
}

int Rounds(int base) {
  const char* scale = std::getenv("INFERENCE_POOL_STRESS_SCALE");
  double s = scale != nullptr ? std::atof(scale) : 1.0;
  return std::max(1, int(base * (s > 0 ? s : 1.0)));
}

std::chrono::milliseconds Limit(int seconds) { return std::chrono::milliseconds(int64_t(seconds) * 1000 * Slowdown()); }

ip::PoolConfig Config(const Paths& paths, double maxQueueDelayMs) {
  ip::PoolConfig config;
  config.maxBatchSize = 8;
  config.maxQueueDelayMs = maxQueueDelayMs;
  config.preprocessThreads = 2;
  config.postprocessThreads = 2;
  config.runtime.libraryPath = paths.ortLibrary;
  config.runtime.intraOpThreads = 2;
  return config;
}

// ---- Ledger -------------------------------------------------------------------------------

Ledger::~Ledger() = default;

void Ledger::Fault(const std::string& what) {
  // The first few say what went wrong; the count says how often.
  if (++faults_ <= 5) std::printf("    %s\n", what.c_str());
}

bool Ledger::Submit(ip::Pipeline& pipeline, const std::string& modelId, Kind kind, size_t image,
                    const std::set<ip::ErrorCode>& refusals) {
  auto request = std::make_unique<ip::Request>();
  request->image = Images()[image].input;
  ip::Request* r = request.get();
  {
    // In the pool from before Submit: the pipeline may hand it back before Submit returns.
    std::lock_guard<std::mutex> lock(mutex_);
    r->id = nextId_++;
    Entry& e = entries_[r];
    e.request = std::move(request);
    e.image = image;
    e.kind = kind;
    inPool_.push_back(r);
  }
  try {
    pipeline.Submit(r, modelId);
  } catch (const ip::PoolError& error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!refusals.count(error.code())) Fault(std::string("Submit refused with unexpected ") + ip::ErrorCodeName(error.code()));
    RemoveFromPool(r);
    entries_.erase(r);
    ++totals_.refused;
    return false;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++totals_.submitted;
  return true;
}

void Ledger::Returned(ip::Request* r) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(r);
  if (it == entries_.end()) {
    Fault("DrainCompleted returned a request that is not in the pool (returned twice?)");
    return;
  }
  Entry& e = it->second;
  const TestImage& image = Images()[e.image];
  const std::string what = "request " + std::to_string(r->id) + ": ";
  if (r->failed) {
    switch (r->errorCode) {
      case ip::ErrorCode::kAborted:
        ++totals_.aborted;
        if (!e.cancelled) Fault(what + "ABORTED but never cancelled");
        break;
      case ip::ErrorCode::kPoolClosed:
        ++totals_.closed;
        if (!allowed_.count(r->errorCode)) Fault(what + "POOL_CLOSED before the pool was closing");
        break;
      case ip::ErrorCode::kInvalidImage:
        ++totals_.invalid;
        if (image.valid) Fault(what + "INVALID_IMAGE for a valid image: " + r->errorMessage);
        break;
      default:
        if (r->errorCode == ip::ErrorCode::kInferenceFailed) ++totals_.terminated;
        if (!allowed_.count(r->errorCode)) {
          Fault(what + "unexpected " + ip::ErrorCodeName(r->errorCode) + ": " + r->errorMessage);
        }
    }
    if (r->errorMessage.empty()) Fault(what + "an error without a message");
  } else {
    ++totals_.succeeded;
    const ip::ClassificationResult& c = r->result.classification;
    const int expected = image.expected[int(e.kind)];
    if (!image.valid) {
      Fault(what + "a result for undecodable bytes");
    } else if (c.scores.size != size_t(ClassCount(e.kind)) || c.topIds.empty()) {
      Fault(what + "a result without the model's scores");
    } else if (expected >= 0 && c.topIds[0] != expected) {
      // A result must depend only on its own request: another request's image would answer differently.
      Fault(what + "top class " + std::to_string(c.topIds[0]) + ", expected " + std::to_string(expected));
    }
  }
  RemoveFromPool(r);
  entries_.erase(it);  // frees the request, as the addon does
  changed_.notify_all();
}

bool Ledger::CancelRandom(std::mt19937& rng) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (inPool_.empty()) return false;
  ip::Request* r = inPool_[std::uniform_int_distribution<size_t>(0, inPool_.size() - 1)(rng)];
  entries_[r].cancelled = true;
  r->cancelled.store(true, std::memory_order_relaxed);
  return true;
}

int Ledger::CancelAll(int* abortedSoFar) {
  std::lock_guard<std::mutex> lock(mutex_);
  *abortedSoFar = totals_.aborted;
  for (ip::Request* r : inPool_) {
    entries_[r].cancelled = true;
    r->cancelled.store(true, std::memory_order_relaxed);
  }
  return int(inPool_.size());
}

void Ledger::Allow(ip::ErrorCode code) {
  std::lock_guard<std::mutex> lock(mutex_);
  allowed_.insert(code);
}

void Ledger::RemoveFromPool(ip::Request* r) {
  auto it = std::find(inPool_.begin(), inPool_.end(), r);
  std::swap(*it, inPool_.back());
  inPool_.pop_back();
}

size_t Ledger::InPool() {
  std::lock_guard<std::mutex> lock(mutex_);
  return inPool_.size();
}

bool Ledger::WaitAllReturned(std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, limit, [this] { return inPool_.empty(); });
}

Ledger::Totals Ledger::totals() {
  std::lock_guard<std::mutex> lock(mutex_);
  return totals_;
}

void Ledger::Verify(const std::string& label, bool lostAllowed) {
  std::lock_guard<std::mutex> lock(mutex_);
  const size_t lost = inPool_.size();
  Check(faults_ == 0, label + ": every returned request has a right result or an allowed error (" +
                          std::to_string(faults_) + " wrong)");
  if (!lostAllowed) {
    Check(lost == 0, label + ": every submitted request came back (" + std::to_string(lost) + " of " +
                         std::to_string(totals_.submitted) + " never did)");
  }
  faults_ = 0;
  inPool_.clear();
  entries_.clear();
}

// ---- Drainer ------------------------------------------------------------------------------

ip::Pipeline::Wake Drainer::Wake() {
  return [this] {
    if (closed_.load()) wakesAfterClose_.fetch_add(1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      woken_ = true;
    }
    cv_.notify_one();
  };
}

void Drainer::Start(ip::Pipeline* pipeline) {
  pipeline_ = pipeline;
  thread_ = std::thread([this] { Loop(); });
}

void Drainer::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return woken_ || stop_; });
      if (stop_) return;
      woken_ = false;
    }
    DrainNow(pipeline_);
  }
}

void Drainer::DrainNow(ip::Pipeline* pipeline) {
  ip::Request* done[32];
  while (size_t n = pipeline->DrainCompleted(done, 32)) {
    for (size_t i = 0; i < n; ++i) ledger_.Returned(done[i]);
  }
}

void Drainer::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

// ---- Watchdog -----------------------------------------------------------------------------

Watchdog::Watchdog(std::string name, std::chrono::milliseconds limit) {
  thread_ = std::thread([this, name = std::move(name), limit] {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, limit, [this] { return done_; })) {
      Abandon(name + ": still running after " + std::to_string(limit.count() / 1000) + " s (a hang)");
    }
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

}  // namespace stress
