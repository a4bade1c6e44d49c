// A video source read on a thread of its own (OpenCV's videoio, FFmpeg backend): a file or a live
// stream (rtsp, udp, http…). Decoded BGR frames wait in a bounded buffer:
//  - every-frame: the reader waits for room, nothing is dropped;
//  - freshest: the reader never waits (a live source must be drained or it lags); a full buffer
//    drops its oldest, and Next() hands the newest buffered frame, dropping (and counting) the rest.
// A live source that fails is reopened with backoff; a file's end ends the stream. Every callback
// runs on the reader thread (or on the caller's, when Next() finds a frame waiting), never under a
// lock of the source. Without OpenCV's videoio (VideoIoAvailable() false) the constructor throws.
#pragma once

#include <opencv2/core.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/errors.h"

namespace cv {
class VideoCapture;
}

namespace ip {

// False when the library was built without OpenCV's videoio; `reason` then names the package.
bool VideoIoAvailable();
const char* VideoIoMissingReason();

// Makes OpenCV's and FFmpeg's logging silent (nothing may reach stderr). Called by the constructors
// of VideoSource and VideoWriter; must run before the first capture or writer is opened, and before
// any other thread reads the environment (it sets OPENCV_FFMPEG_LOGLEVEL unless already set).
void SilenceVideoLogging();

// True for a URL whose scheme is not file: (a network stream).
bool IsLiveSource(const std::string& source);

enum class VideoMode { kEveryFrame, kFreshest };

struct VideoSourceOptions {
  VideoMode mode = VideoMode::kEveryFrame;
  int bufferSize = 4;
  int reconnect = 3;           // live sources: reopen attempts after a failure
  int reconnectDelayMs = 500;  // first backoff delay; doubles per attempt, at most kMaxReconnectDelayMs
  int openTimeoutMs = 10000;   // live sources: how long opening (and probing) may take
  int readTimeoutMs = 5000;    // live sources: no packet for this long means the stream is dead
  static constexpr int kMaxReconnectDelayMs = 5000;
};

struct VideoInfo {
  int width = 0;
  int height = 0;
  double fps = 0;           // 0 when the source does not say
  int64_t frameCount = -1;  // -1: live or unknown length
  bool live = false;
};

struct VideoFrame {
  int64_t index = 0;     // position in the source (dropped frames count)
  double timestamp = 0;  // ms on the source's clock where it has one, else since the source was opened
  cv::Mat image;         // CV_8UC3, BGR, continuous, owned by this frame alone
};

struct VideoEvent {
  enum class Type { kReconnecting, kReconnected };
  Type type = Type::kReconnecting;
  int attempt = 0;
  std::string message;
};

struct VideoStats {
  uint64_t read = 0;        // frames decoded from the source
  uint64_t dropped = 0;     // frames decoded but never handed out
  uint64_t reconnects = 0;  // reconnect attempts
  double inputFps = 0;      // frames decoded per second over the last few seconds
};

// What Next() hands out: a frame, the end of the stream (also after Close()), or a failure.
struct NextResult {
  enum class Kind { kFrame, kEnd, kError };
  Kind kind = Kind::kEnd;
  VideoFrame frame;
  std::string error;  // kError: names the source
};

class VideoSource {
 public:
  using OpenCallback = std::function<void(bool ok, const VideoInfo& info, const std::string& error)>;
  using EventCallback = std::function<void(const VideoEvent& event)>;
  using NextCallback = std::function<void(NextResult result)>;
  // Called once when the reader thread stops producing (end, failure or close): nothing more will
  // be read, though buffered frames may still be handed out.
  using StoppedCallback = std::function<void()>;

  // Throws PoolError(VIDEO_SOURCE_FAILED) when videoio is missing, INVALID_ARGUMENT for bad options.
  VideoSource(std::string source, VideoSourceOptions options, EventCallback onEvent = nullptr,
              StoppedCallback onStopped = nullptr);
  ~VideoSource();  // Close()
  VideoSource(const VideoSource&) = delete;
  VideoSource& operator=(const VideoSource&) = delete;

  // Starts the reader thread, which opens the source and reports through `done` (on that thread).
  // Only once; a second call reports failure at once.
  void Open(OpenCallback done);
  // `done` gets the next result: at once (on this thread) when one is ready, else from the reader
  // thread. Several calls wait in order.
  void Next(NextCallback done);
  // Blocking convenience for tests and tools: the next result, or kError "timed out".
  NextResult NextFor(std::chrono::milliseconds timeout);

  void Pause();
  void Resume();
  // Stops the reader (without waiting for it), drops the buffer, ends pending Next() calls.
  void Stop();
  // Stop(), then joins the reader thread and releases the capture. Safe from several threads.
  void Close();

  VideoStats Stats() const;
  const std::string& source() const { return source_; }
  bool live() const { return live_; }

 private:
  void Run(OpenCallback done);
  bool OpenCapture(cv::VideoCapture& cap, std::string* error);
  // Reopens a failed live source with backoff, counting on from *attempt (the delay doubling from
  // *delay); false when out of attempts or stopping. *why: the failure, then the last one.
  bool Reconnect(cv::VideoCapture& cap, std::string* why, int* attempt, int* delay);
  // Hands `frame` to a waiter or buffers it (mode rules). Returns false when stopping.
  bool Deliver(VideoFrame frame);
  void Finish(NextResult::Kind kind, const std::string& error);
  double Timestamp(cv::VideoCapture& cap);
  NextResult TakeLocked();  // with mutex_ held and something to take
  bool SleepFor(std::chrono::milliseconds delay);  // false when stopped meanwhile

  const std::string source_;
  const VideoSourceOptions options_;
  const bool live_;
  EventCallback onEvent_;
  StoppedCallback onStopped_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // room in the buffer, resume, stop
  std::deque<VideoFrame> buffer_;
  std::deque<NextCallback> waiters_;
  bool started_ = false;
  bool stopping_ = false;
  bool paused_ = false;
  bool finished_ = false;  // the reader produces nothing more
  NextResult::Kind finalKind_ = NextResult::Kind::kEnd;
  std::string finalError_;
  uint64_t read_ = 0, dropped_ = 0, reconnects_ = 0;
  std::deque<std::chrono::steady_clock::time_point> recent_;  // decode times, last kFpsWindow

  // Reader thread only.
  int64_t position_ = 0;
  std::chrono::steady_clock::time_point openedAt_;
  enum class TimeBase { kUnknown, kSource, kWall } timeBase_ = TimeBase::kUnknown;
  double lastTimestamp_ = -1;
  double lastSourceMs_ = -1;
  double sourceOffset_ = 0;  // added to the source's clock after it restarted
  double fps_ = 0;
  std::chrono::steady_clock::time_point lastWall_;
  int64_t expectedFrames_ = -1;

  std::mutex joinMutex_;
  std::thread thread_;
};

}  // namespace ip
