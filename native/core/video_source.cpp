#include "core/video_source.h"

#include <opencv2/core/utils/logger.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sys/stat.h>

#ifdef INFERENCE_POOL_HAVE_VIDEOIO
#include <opencv2/videoio.hpp>
#endif

namespace ip {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kFpsWindow = std::chrono::seconds(3);

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

bool VideoIoAvailable() {
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  return true;
#else
  return false;
#endif
}

const char* VideoIoMissingReason() {
  return "OpenCV's videoio is missing: install libopencv-videoio-dev";
}

void SilenceVideoLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    // OpenCV 4.6's FFmpeg backend reads OPENCV_FFMPEG_LOGLEVEL once, when it first initialises
    // FFmpeg: with it set, it calls av_log_set_level(level) and installs its own log callback,
    // which drops every message above that level (its default, without the variable, is
    // AV_LOG_ERROR through FFmpeg's own callback, which writes to stderr). -8 is AV_LOG_QUIET.
    // A value the user set is kept.
    setenv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0);
    // OpenCV's own messages ("VIDEOIO(FFMPEG): ...", "[ WARN:0@...] global cap_ffmpeg_impl.hpp").
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  });
}

bool IsLiveSource(const std::string& source) {
  size_t colon = source.find("://");
  if (colon == std::string::npos || colon == 0) return false;
  std::string scheme = source.substr(0, colon);
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') return false;
  }
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  return scheme != "file";
}

VideoSource::VideoSource(std::string source, VideoSourceOptions options, EventCallback onEvent,
                         StoppedCallback onStopped)
    : source_(std::move(source)),
      options_(options),
      live_(IsLiveSource(source_)),
      onEvent_(std::move(onEvent)),
      onStopped_(std::move(onStopped)) {
  if (!VideoIoAvailable()) throw PoolError(ErrorCode::kVideoSourceFailed, VideoIoMissingReason());
  if (source_.empty()) throw PoolError(ErrorCode::kInvalidArgument, "a video source needs a path or a URL");
  if (options_.bufferSize < 1) throw PoolError(ErrorCode::kInvalidArgument, "bufferSize must be at least 1");
  if (options_.reconnect < 0) throw PoolError(ErrorCode::kInvalidArgument, "reconnect must be 0 or more");
  if (options_.reconnectDelayMs < 0) {
    throw PoolError(ErrorCode::kInvalidArgument, "reconnectDelayMs must be 0 or more");
  }
  SilenceVideoLogging();
}

VideoSource::~VideoSource() { Close(); }

void VideoSource::Open(OpenCallback done) {
  bool stopped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopped = stopping_;
    if (!started_ && !stopping_) {
      started_ = true;
      std::lock_guard<std::mutex> join(joinMutex_);
      thread_ = std::thread([this, done = std::move(done)]() mutable { Run(std::move(done)); });
      return;
    }
  }
  done(false, VideoInfo{}, "video source " + Quoted(source_) + (stopped ? " was closed" : " was already opened"));
}

void VideoSource::Next(NextCallback done) {
  NextResult result;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!buffer_.empty()) {
      result = TakeLocked();
    } else if (stopping_) {
      result.kind = NextResult::Kind::kEnd;
    } else if (finished_) {
      result.kind = finalKind_;
      result.error = finalError_;
    } else if (!started_) {
      result.kind = NextResult::Kind::kError;
      result.error = "video source " + Quoted(source_) + ": next() before open()";
    } else {
      waiters_.push_back(std::move(done));
      return;
    }
  }
  changed_.notify_all();
  done(std::move(result));
}

NextResult VideoSource::NextFor(std::chrono::milliseconds timeout) {
  struct Slot {
    std::mutex m;
    std::condition_variable cv;
    bool ready = false;
    NextResult result;
  };
  auto slot = std::make_shared<Slot>();
  Next([slot](NextResult r) {
    std::lock_guard<std::mutex> lock(slot->m);
    slot->result = std::move(r);
    slot->ready = true;
    slot->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(slot->m);
  if (!slot->cv.wait_for(lock, timeout, [&] { return slot->ready; })) {
    NextResult r;
    r.kind = NextResult::Kind::kError;
    r.error = "timed out";
    return r;  // the waiter stays queued; `slot` outlives it
  }
  return std::move(slot->result);
}

NextResult VideoSource::TakeLocked() {
  NextResult result;
  result.kind = NextResult::Kind::kFrame;
  if (options_.mode == VideoMode::kFreshest) {
    dropped_ += buffer_.size() - 1;
    result.frame = std::move(buffer_.back());
    buffer_.clear();
  } else {
    result.frame = std::move(buffer_.front());
    buffer_.pop_front();
  }
  return result;
}

void VideoSource::Pause() {
  std::lock_guard<std::mutex> lock(mutex_);
  paused_ = true;
}

void VideoSource::Resume() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    paused_ = false;
  }
  changed_.notify_all();
}

void VideoSource::Stop() {
  std::deque<NextCallback> waiters;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    buffer_.clear();
    waiters.swap(waiters_);
  }
  changed_.notify_all();
  for (auto& w : waiters) w(NextResult{});  // kEnd: a pending next() resolves null
}

void VideoSource::Close() {
  Stop();
  std::lock_guard<std::mutex> join(joinMutex_);
  if (thread_.joinable()) thread_.join();
}

VideoStats VideoSource::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  VideoStats s;
  s.read = read_;
  s.dropped = dropped_;
  s.reconnects = reconnects_;
  auto now = Clock::now();
  size_t first = 0;
  while (first < recent_.size() && now - recent_[first] > kFpsWindow) ++first;
  size_t n = recent_.size() - first;
  if (n >= 2) {
    double seconds = std::chrono::duration<double>(recent_.back() - recent_[first]).count();
    if (seconds > 0) s.inputFps = double(n - 1) / seconds;
  }
  return s;
}

bool VideoSource::SleepFor(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, delay, [&] { return stopping_; });
  return !stopping_;
}

void VideoSource::Finish(NextResult::Kind kind, const std::string& error) {
  std::deque<NextCallback> waiters;
  NextResult result;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
    finalKind_ = kind;
    finalError_ = error;
    // Waiters only wait on an empty buffer: each gets the final word.
    waiters.swap(waiters_);
    result.kind = stopping_ ? NextResult::Kind::kEnd : kind;
    result.error = stopping_ ? std::string() : error;
  }
  for (auto& w : waiters) w(result);
  if (onStopped_) onStopped_();
}

bool VideoSource::Deliver(VideoFrame frame) {
  NextCallback waiter;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return false;
    if (paused_ && live_) {
      ++dropped_;  // a paused live source is drained, so that it does not lag
      return true;
    }
    if (!waiters_.empty()) {
      waiter = std::move(waiters_.front());
      waiters_.pop_front();
    } else {
      if (options_.mode == VideoMode::kFreshest && int(buffer_.size()) >= options_.bufferSize) {
        buffer_.pop_front();
        ++dropped_;
      }
      buffer_.push_back(std::move(frame));
      return true;
    }
  }
  NextResult r;
  r.kind = NextResult::Kind::kFrame;
  r.frame = std::move(frame);
  waiter(std::move(r));
  return true;
}

double VideoSource::Timestamp([[maybe_unused]] cv::VideoCapture& cap) {
  auto now = Clock::now();
  const double wallMs = std::chrono::duration<double, std::milli>(now - openedAt_).count();
  double sourceMs = -1;
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  sourceMs = cap.get(cv::CAP_PROP_POS_MSEC);
#endif
  const bool valid = std::isfinite(sourceMs) && sourceMs >= 0;
  // The step to take where the source's clock says nothing useful: a frame's duration where the
  // frame rate is known, else the time that passed.
  const double lastWallMs = std::chrono::duration<double, std::milli>(lastWall_ - openedAt_).count();
  const double step = fps_ > 0 ? 1000.0 / fps_ : std::max(wallMs - lastWallMs, 0.001);
  double ts;
  if (timeBase_ == TimeBase::kUnknown) {
    // The first frame: the source's clock if it reads, decided on the second frame.
    timeBase_ = valid ? TimeBase::kSource : TimeBase::kWall;
    ts = valid ? sourceMs : wallMs;
    sourceOffset_ = 0;
    lastSourceMs_ = valid ? sourceMs : -1;
  } else if (timeBase_ == TimeBase::kSource && position_ == 2 && !(valid && sourceMs > lastSourceMs_)) {
    // No clock after all (it does not move): the time since open, continued.
    timeBase_ = TimeBase::kWall;
    ts = lastTimestamp_ + std::max(wallMs - lastWallMs, 0.001);
  } else if (timeBase_ == TimeBase::kSource) {
    if (valid && sourceMs > lastSourceMs_) {
      ts = sourceMs + sourceOffset_;
    } else {
      // The clock went back or stopped (a live stream restarted after a reconnect; the frames a
      // decoder hands out when draining at the end of a file have none): continue from the last
      // timestamp, and follow the clock again from there.
      ts = lastTimestamp_ + step;
      if (valid) sourceOffset_ = ts - sourceMs;
    }
    if (valid) lastSourceMs_ = sourceMs;
  } else {
    ts = lastTimestamp_ + std::max(wallMs - lastWallMs, 0.001);
  }
  if (ts <= lastTimestamp_) ts = lastTimestamp_ + 0.001;
  lastTimestamp_ = ts;
  lastWall_ = now;
  return ts;
}

#ifdef INFERENCE_POOL_HAVE_VIDEOIO

bool VideoSource::OpenCapture(cv::VideoCapture& cap, std::string* error) {
  // No hardware decoding: probing VA-API/VDPAU drivers prints to stderr and is no use here.
  std::vector<int> params = {cv::CAP_PROP_HW_ACCELERATION, cv::VIDEO_ACCELERATION_NONE};
  if (live_) {
    params.insert(params.end(), {cv::CAP_PROP_OPEN_TIMEOUT_MSEC, std::max(1, options_.openTimeoutMs),
                                 cv::CAP_PROP_READ_TIMEOUT_MSEC, std::max(1, options_.readTimeoutMs)});
  }
  std::string why;
  bool ok = false;
  try {
    ok = cap.open(source_, cv::CAP_FFMPEG, params);
  } catch (const cv::Exception& e) {
    why = e.what();
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (ok) return true;
  cap.release();
  if (why.empty()) {
    if (live_) {
      why = "the stream could not be opened (no answer within " + std::to_string(options_.openTimeoutMs) +
            " ms, or nothing FFmpeg can decode)";
    } else {
      std::string path = source_.rfind("file://", 0) == 0 ? source_.substr(7) : source_;
      struct stat st;
      why = stat(path.c_str(), &st) != 0 ? "no such file" : "not a video FFmpeg can read (or a corrupt one)";
    }
  }
  *error = "cannot open video source " + Quoted(source_) + ": " + why;
  return false;
}

bool VideoSource::Reconnect(cv::VideoCapture& cap, std::string* why, int* attempt, int* delay) {
  cap.release();
  while (*attempt < options_.reconnect) {
    const int n = ++*attempt;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return false;
      ++reconnects_;
    }
    if (onEvent_) {
      onEvent_({VideoEvent::Type::kReconnecting, n,
                *why + "; reconnecting in " + std::to_string(*delay) + " ms (attempt " + std::to_string(n) + " of " +
                    std::to_string(options_.reconnect) + ")"});
    }
    if (!SleepFor(std::chrono::milliseconds(*delay))) return false;
    *delay = std::min(std::max(*delay, 1) * 2, VideoSourceOptions::kMaxReconnectDelayMs);
    std::string error;
    if (OpenCapture(cap, &error)) return true;  // 'reconnected' once a frame comes
    *why = error;
  }
  return false;
}

void VideoSource::Run(OpenCallback done) {
  cv::VideoCapture cap;
  openedAt_ = Clock::now();
  std::string error;
  bool opened = OpenCapture(cap, &error);
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping = stopping_;
  }
  if (opened && stopping) {
    opened = false;
    error = "video source " + Quoted(source_) + " was closed while it opened";
  }
  if (!opened) {
    cap.release();
    done(false, VideoInfo{}, error);
    Finish(NextResult::Kind::kError, error);
    return;
  }
  VideoInfo info;
  info.width = int(cap.get(cv::CAP_PROP_FRAME_WIDTH));
  info.height = int(cap.get(cv::CAP_PROP_FRAME_HEIGHT));
  double fps = cap.get(cv::CAP_PROP_FPS);
  info.fps = std::isfinite(fps) && fps > 0 && fps < 1000 ? fps : 0;
  fps_ = info.fps;
  info.live = live_;
  double count = cap.get(cv::CAP_PROP_FRAME_COUNT);
  info.frameCount = !live_ && std::isfinite(count) && count > 0 ? int64_t(count) : -1;
  expectedFrames_ = info.frameCount;
  done(true, info, "");

  NextResult::Kind endKind = NextResult::Kind::kEnd;
  std::string endError;
  // Reconnect attempts since frames last came, and the next backoff delay: a stream that reopens
  // but sends nothing is still failing, so only a frame resets them.
  int attempt = 0;
  int delay = options_.reconnectDelayMs;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      // every-frame waits for room; a paused file waits; a paused live source is still drained.
      changed_.wait(lock, [&] {
        if (stopping_) return true;
        if (paused_) return live_;  // (Deliver() drops what a paused live source reads)
        return options_.mode == VideoMode::kFreshest || int(buffer_.size()) < options_.bufferSize;
      });
      if (stopping_) break;
    }
    cv::Mat image;
    bool ok = false;
    try {
      ok = cap.read(image) && !image.empty();
    } catch (const cv::Exception&) {
      ok = false;
    }
    if (!ok) {
      if (live_) {
        std::string why = "video source " + Quoted(source_) + " stopped sending frames";
        if (Reconnect(cap, &why, &attempt, &delay)) continue;
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) break;
        endKind = NextResult::Kind::kError;
        endError = "video source " + Quoted(source_) + " failed and " + std::to_string(options_.reconnect) +
                   " reconnect attempt(s) did not bring it back (" + why + ")";
        break;
      }
      int64_t tolerance = std::max<int64_t>(2, expectedFrames_ / 50);
      if (position_ == 0) {
        endKind = NextResult::Kind::kError;
        endError = "video source " + Quoted(source_) + ": no frame could be decoded (corrupt file?)";
      } else if (expectedFrames_ > 0 && position_ < expectedFrames_ - tolerance) {
        endKind = NextResult::Kind::kError;
        endError = "video source " + Quoted(source_) + " ended after " + std::to_string(position_) + " of " +
                   std::to_string(expectedFrames_) + " frames: the file is truncated or corrupt";
      }
      break;
    }
    if (attempt > 0) {
      if (onEvent_) onEvent_({VideoEvent::Type::kReconnected, attempt, "reconnected to " + Quoted(source_)});
      attempt = 0;
      delay = options_.reconnectDelayMs;
    }
    VideoFrame frame;
    frame.index = position_++;
    frame.timestamp = Timestamp(cap);
    if (image.type() != CV_8UC3) {
      cv::Mat bgr;
      if (image.channels() == 1) {
        cv::Mat gray8;
        image.convertTo(gray8, CV_8U);
        cv::merge(std::vector<cv::Mat>{gray8, gray8, gray8}, bgr);
      } else {
        image.convertTo(bgr, CV_8UC3);
      }
      image = bgr;
    }
    frame.image = image.isContinuous() ? image : image.clone();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++read_;
      auto now = Clock::now();
      recent_.push_back(now);
      while (!recent_.empty() && now - recent_.front() > kFpsWindow) recent_.pop_front();
    }
    if (!Deliver(std::move(frame))) break;
  }
  cap.release();
  Finish(endKind, endError);
}

#else  // without videoio: the constructor throws, so none of these runs

bool VideoSource::OpenCapture(cv::VideoCapture&, std::string* error) {
  *error = VideoIoMissingReason();
  return false;
}
bool VideoSource::Reconnect(cv::VideoCapture&, std::string*, int*, int*) { return false; }
void VideoSource::Run(OpenCallback done) {
  done(false, VideoInfo{}, VideoIoMissingReason());
  Finish(NextResult::Kind::kError, VideoIoMissingReason());
}

#endif

}  // namespace ip
