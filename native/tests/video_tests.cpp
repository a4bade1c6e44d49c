// Video sources and the video writer (native/core/video_source.h, video_writer.h) on small files
// written here with cv::VideoWriter: both reading modes, open failures, corrupt files, close()
// mid-read, pause/resume, the writer's drawing and queue. Everything they print to stderr (which
// must be nothing: OpenCV and FFmpeg are silenced) is captured and checked.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/video_source.h"
#include "core/video_writer.h"
#include "tests/check.h"

#ifdef INFERENCE_POOL_HAVE_VIDEOIO
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>
#endif

namespace {

using ip_test::Check;
using namespace ip;
using Ms = std::chrono::milliseconds;

#ifdef INFERENCE_POOL_HAVE_VIDEOIO

constexpr int kW = 64, kH = 48, kFrames = 20;
const Ms kWait(15000);

// Frame i is a grey of 10 + 10 * i with some noise (so that the pixels, not the file's headers,
// make most of its bytes): the decoded mean says which frame it was.
cv::Mat TestFrame(int i) {
  cv::Mat noise(kH, kW, CV_8UC3);
  cv::RNG rng(uint64(i + 1));
  rng.fill(noise, cv::RNG::UNIFORM, 0, 17);
  cv::Mat frame(kH, kW, CV_8UC3, cv::Scalar::all(2 + 10 * i));
  frame += noise;
  return frame;
}
int FrameNumber(const cv::Mat& m) { return int(std::lround((cv::mean(m)[0] - 10) / 10)); }

bool WriteTestVideo(const std::string& path, const char* fourcc, int frames) {
  SilenceVideoLogging();
  cv::VideoWriter w(path, cv::CAP_FFMPEG, cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]), 20,
                    cv::Size(kW, kH));
  if (!w.isOpened()) return false;
  for (int i = 0; i < frames; ++i) w.write(TestFrame(i));
  w.release();
  return true;
}

std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

void WriteAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

struct Opened {
  bool ok = false;
  VideoInfo info;
  std::string error;
};

Opened OpenAndWait(VideoSource& source) {
  struct Slot {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Opened result;
  };
  auto slot = std::make_shared<Slot>();
  source.Open([slot](bool ok, const VideoInfo& info, const std::string& error) {
    std::lock_guard<std::mutex> lock(slot->m);
    slot->result = {ok, info, error};
    slot->done = true;
    slot->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(slot->m);
  if (!slot->cv.wait_for(lock, kWait, [&] { return slot->done; })) return {false, {}, "open timed out"};
  return slot->result;
}

template <typename Pred>
bool WaitUntil(Pred pred, Ms timeout = kWait) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(Ms(5));
  }
  return true;
}

void TestLiveDetection() {
  Check(IsLiveSource("rtsp://10.0.0.1/cam"), "rtsp is live");
  Check(IsLiveSource("udp://127.0.0.1:5000"), "udp is live");
  Check(IsLiveSource("HTTP://example.com/a.mjpg"), "http is live");
  Check(!IsLiveSource("/tmp/a.mp4"), "a path is not live");
  Check(!IsLiveSource("file:///tmp/a.mp4"), "file: is not live");
  Check(!IsLiveSource("clip.mp4"), "a relative path is not live");
}

void TestEveryFrame(const std::string& file) {
  VideoSourceOptions options;
  options.mode = VideoMode::kEveryFrame;
  options.bufferSize = 2;
  VideoSource source(file, options);
  Opened o = OpenAndWait(source);
  Check(o.ok, "every-frame: opens (" + o.error + ")");
  if (!o.ok) return;
  Check(o.info.width == kW && o.info.height == kH, "every-frame: info has the size");
  Check(std::abs(o.info.fps - 20) < 0.5, "every-frame: info has the fps");
  Check(o.info.frameCount == kFrames, "every-frame: info has the frame count (" + std::to_string(o.info.frameCount) + ")");
  Check(!o.info.live, "every-frame: a file is not live");
  // A slow start: the reader must wait for room, not drop.
  std::this_thread::sleep_for(Ms(150));
  int n = 0;
  bool inOrder = true, sized = true, increasing = true, contents = true;
  double last = -1;
  for (;;) {
    NextResult r = source.NextFor(kWait);
    if (r.kind != NextResult::Kind::kFrame) {
      Check(r.kind == NextResult::Kind::kEnd, "every-frame: the file's end ends the stream (" + r.error + ")");
      break;
    }
    inOrder &= r.frame.index == n;
    sized &= r.frame.image.cols == kW && r.frame.image.rows == kH && r.frame.image.type() == CV_8UC3 &&
             r.frame.image.isContinuous();
    increasing &= r.frame.timestamp > last;
    contents &= FrameNumber(r.frame.image) == n;
    last = r.frame.timestamp;
    ++n;
  }
  Check(n == kFrames, "every-frame: all " + std::to_string(kFrames) + " frames (got " + std::to_string(n) + ")");
  Check(inOrder, "every-frame: indexes 0, 1, 2… in order");
  Check(contents, "every-frame: the frames' pixels come in the order written");
  Check(sized, "every-frame: each frame is a continuous BGR image of the video's size");
  Check(increasing, "every-frame: timestamps increase");
  Check(std::abs(last - (kFrames - 1) * 50.0) < 1, "every-frame: timestamps on the file's clock (50 ms apart)");
  VideoStats s = source.Stats();
  Check(s.read == kFrames && s.dropped == 0, "every-frame: stats read 20, dropped 0");
  Check(source.NextFor(kWait).kind == NextResult::Kind::kEnd, "every-frame: next() after the end is the end again");
}

void TestFreshest(const std::string& file) {
  VideoSourceOptions options;
  options.mode = VideoMode::kFreshest;
  options.bufferSize = 3;
  VideoSource source(file, options);
  Opened o = OpenAndWait(source);
  Check(o.ok, "freshest: opens");
  if (!o.ok) return;
  // A slow consumer: the reader decodes the whole file meanwhile, dropping its oldest frames.
  Check(WaitUntil([&] { return source.Stats().read == kFrames; }), "freshest: the reader never waits");
  NextResult r = source.NextFor(kWait);
  Check(r.kind == NextResult::Kind::kFrame && r.frame.index == kFrames - 1, "freshest: next() hands the newest frame");
  if (r.kind == NextResult::Kind::kFrame) {
    Check(FrameNumber(r.frame.image) == kFrames - 1, "freshest: the newest frame's pixels");
  }
  VideoStats s = source.Stats();
  Check(s.dropped == kFrames - 1, "freshest: the older frames are dropped and counted (" + std::to_string(s.dropped) + ")");
  Check(source.NextFor(kWait).kind == NextResult::Kind::kEnd, "freshest: then the end");
}

void TestOpenFailures(const std::string& dir) {
  const std::string missing = dir + "/no-such-video.mp4";
  VideoSource source(missing, VideoSourceOptions{});
  Opened o = OpenAndWait(source);
  Check(!o.ok, "a missing file fails at open");
  Check(o.error.find(missing) != std::string::npos && o.error.find("no such file") != std::string::npos,
        "the message names the source and says why: " + o.error);
  NextResult r = source.NextFor(kWait);
  Check(r.kind == NextResult::Kind::kError, "next() after a failed open fails");

  const std::string junk = dir + "/junk.mp4";
  WriteAll(junk, std::vector<char>(4096, 'x'));
  VideoSource junkSource(junk, VideoSourceOptions{});
  Opened j = OpenAndWait(junkSource);
  Check(!j.ok && j.error.find(junk) != std::string::npos, "a file of junk fails at open: " + j.error);

  try {
    VideoSourceOptions bad;
    bad.bufferSize = 0;
    VideoSource s("x.mp4", bad);
    Check(false, "bufferSize 0 is refused");
  } catch (const PoolError& e) {
    Check(e.code() == ErrorCode::kInvalidArgument, "bufferSize 0 is refused with INVALID_ARGUMENT");
  }
}

// Reads a damaged file to its end: returns how many frames came and the final result.
NextResult ReadToEnd(const std::string& file, int* frames, Opened* opened) {
  VideoSource source(file, VideoSourceOptions{});
  *opened = OpenAndWait(source);
  *frames = 0;
  for (;;) {
    NextResult r = source.NextFor(kWait);
    if (r.kind != NextResult::Kind::kFrame) return r;
    ++*frames;
  }
}

void TestCorruptFiles(const std::string& dir, const std::string& avi, const std::string& mp4) {
  // An AVI cut short: its header says 20 frames; the frames up to the cut, then an error.
  std::vector<char> bytes = ReadAll(avi);
  const std::string cut = dir + "/cut.avi";
  WriteAll(cut, std::vector<char>(bytes.begin(), bytes.begin() + bytes.size() * 11 / 20));
  int frames = 0;
  Opened o;
  NextResult r = ReadToEnd(cut, &frames, &o);
  Check(o.ok, "a truncated AVI still opens (" + o.error + ")");
  Check(frames > 0 && frames < kFrames, "a truncated AVI gives the frames before the cut (" + std::to_string(frames) + ")");
  Check(r.kind == NextResult::Kind::kError && r.error.find(cut) != std::string::npos &&
            r.error.find("truncated or corrupt") != std::string::npos,
        "then an error naming the source: " + r.error);

  // Garbage over the middle of the AVI: no crash; frames, then the end or an error.
  std::vector<char> smashed = bytes;
  for (size_t i = smashed.size() / 3; i < smashed.size() * 2 / 3; ++i) smashed[i] = char(i * 7);
  const std::string smashedFile = dir + "/smashed.avi";
  WriteAll(smashedFile, smashed);
  r = ReadToEnd(smashedFile, &frames, &o);
  Check(!o.ok || r.kind == NextResult::Kind::kEnd || r.kind == NextResult::Kind::kError,
        "a file smashed in the middle ends or fails, without crashing");

  if (!mp4.empty()) {
    // An MP4 cut short: its index (moov, at the end) is gone, so it fails at open.
    std::vector<char> mp4Bytes = ReadAll(mp4);
    const std::string cutMp4 = dir + "/cut.mp4";
    WriteAll(cutMp4, std::vector<char>(mp4Bytes.begin(), mp4Bytes.begin() + mp4Bytes.size() / 2));
    r = ReadToEnd(cutMp4, &frames, &o);
    Check((!o.ok && o.error.find(cutMp4) != std::string::npos) || r.kind == NextResult::Kind::kError,
          "a truncated MP4 fails (at open or after its frames): " + (o.ok ? r.error : o.error));
  }
}

void TestCloseMidRead(const std::string& file) {
  {
    VideoSourceOptions options;
    options.bufferSize = 1;
    VideoSource source(file, options);
    Check(OpenAndWait(source).ok, "close mid-read: opens");
    Check(source.NextFor(kWait).kind == NextResult::Kind::kFrame, "close mid-read: a frame");
    // The reader now waits for room; a waiter from another thread is pending on an empty buffer or not.
    std::atomic<int> ended{0};
    std::thread consumer([&] {
      for (int i = 0; i < 3; ++i) {
        if (source.NextFor(kWait).kind == NextResult::Kind::kEnd) ++ended;
      }
    });
    std::this_thread::sleep_for(Ms(20));
    auto t0 = std::chrono::steady_clock::now();
    source.Close();
    consumer.join();
    Check(std::chrono::steady_clock::now() - t0 < Ms(5000), "close() joins the reader promptly");
    Check(source.NextFor(kWait).kind == NextResult::Kind::kEnd, "next() after close() is the end");
    source.Close();  // twice: nothing happens
  }
  {
    // Closed while it opens, and destroyed without close().
    VideoSource source(file, VideoSourceOptions{});
    std::atomic<bool> called{false};
    source.Open([&](bool, const VideoInfo&, const std::string&) { called = true; });
    source.Close();
    Check(called, "close() during open(): the open callback still runs");
  }
  {
    VideoSource source(file, VideoSourceOptions{});
    Check(OpenAndWait(source).ok, "destroyed while reading: opens");
  }
  Check(true, "a source destroyed while reading stops its thread");
}

void TestPauseResume(const std::string& file) {
  VideoSourceOptions options;
  options.mode = VideoMode::kFreshest;  // the reader never waits for room: only pause() stops it
  options.bufferSize = 64;
  VideoSource source(file, options);
  source.Pause();
  Check(OpenAndWait(source).ok, "pause: opens");
  std::this_thread::sleep_for(Ms(200));
  Check(source.Stats().read == 0, "pause: a paused file is not read");
  source.Resume();
  Check(WaitUntil([&] { return source.Stats().read == kFrames; }), "resume: the reading goes on");
  source.Close();
}

void TestWriter(const std::string& dir) {
  for (const char* name : {"drawn.mp4", "drawn.avi"}) {
    const std::string path = dir + "/" + name;
    VideoWriterOptions options;
    options.fps = 25;
    options.width = 96;
    options.height = 64;
    options.queueSize = 64;
    VideoWriter writer(path, options);
    Check(std::string(name).find(".mp4") == std::string::npos || writer.codec() == "avc1",
          std::string("writer: H.264 for .mp4 (") + writer.codec() + ")");
    Check(std::string(name).find(".avi") == std::string::npos || writer.codec() == "MJPG", "writer: MJPEG for .avi");
    Drawing drawing;
    DrawnInstance box;
    box.box[0] = 10;
    box.box[1] = 10;
    box.box[2] = 60;
    box.box[3] = 50;
    box.classId = 0;  // palette colour (56, 56, 255): red
    drawing.instances.push_back(box);
    drawing.strokeWidth = 4;
    std::vector<uint8_t> pixels(96 * 64 * 3, 128);
    int accepted = 0;
    for (int i = 0; i < 15; ++i) {
      ImageInput in;
      in.data = pixels.data();
      in.length = pixels.size();
      in.encoded = false;
      in.width = 96;
      in.height = 64;
      in.format = PixelFormat::kBgr;
      accepted += writer.Write(in, drawing) ? 1 : 0;
      std::fill(pixels.begin(), pixels.end(), 0);  // the caller's buffer is reused at once
      std::fill(pixels.begin(), pixels.end(), 128);
    }
    VideoWriterTotals totals = writer.Close();
    Check(accepted == 15 && totals.written == 15 && totals.dropped == 0,
          std::string("writer: 15 frames written to ") + name + " (" + std::to_string(totals.written) + ")");
    VideoSource source(path, VideoSourceOptions{});
    Opened o = OpenAndWait(source);
    Check(o.ok && o.info.width == 96 && o.info.height == 64, std::string("writer: ") + name + " reopens at 96x64");
    int n = 0;
    bool drawn = true;
    for (;;) {
      NextResult r = source.NextFor(kWait);
      if (r.kind != NextResult::Kind::kFrame) break;
      cv::Vec3b edge = r.frame.image.at<cv::Vec3b>(30, 11);   // on the box's left edge
      cv::Vec3b inside = r.frame.image.at<cv::Vec3b>(30, 35);  // inside it, untouched
      drawn &= edge[2] > 180 && edge[0] < 110 && std::abs(int(inside[1]) - 128) < 20;
      ++n;
    }
    Check(n == 15, std::string("writer: ") + name + " has 15 frames (" + std::to_string(n) + ")");
    Check(drawn, std::string("writer: the drawing is on every frame of ") + name);
  }
  {
    // Resized and converted: an RGB image of another size.
    VideoWriterOptions options;
    options.fps = 10;
    options.width = 32;
    options.height = 32;
    options.queueSize = 1;
    VideoWriter writer(dir + "/small.avi", options);
    std::vector<uint8_t> rgb(100 * 50 * 3, 200);
    ImageInput in;
    in.data = rgb.data();
    in.length = rgb.size();
    in.encoded = false;
    in.width = 100;
    in.height = 50;
    in.format = PixelFormat::kRgb;
    int accepted = 0;
    for (int i = 0; i < 200; ++i) accepted += writer.Write(in, Drawing{}) ? 1 : 0;
    VideoWriterTotals totals = writer.Close();
    Check(totals.written == uint64_t(accepted) && totals.written + totals.dropped == 200,
          "writer: a full queue drops and counts, never blocks (written " + std::to_string(totals.written) +
              ", dropped " + std::to_string(totals.dropped) + ")");
    in.length = 10;
    try {
      VideoWriter w2(dir + "/short.avi", options);
      w2.Write(in, Drawing{});
      Check(false, "writer: short raw data is refused");
    } catch (const PoolError& e) {
      Check(e.code() == ErrorCode::kInvalidArgument, "writer: short raw data is refused with INVALID_ARGUMENT");
    }
  }
  try {
    VideoWriterOptions options;
    options.width = 32;
    options.height = 32;
    VideoWriter writer(dir + "/no/such/folder/x.mp4", options);
    Check(false, "writer: an unwritable path fails");
  } catch (const PoolError& e) {
    Check(e.code() == ErrorCode::kVideoSourceFailed, "writer: an unwritable path fails with VIDEO_SOURCE_FAILED");
  }
}

// Everything written to stderr while `fn` runs. Not in the sanitized builds: a report (stderr)
// ends the program, and must not end up in a file nobody reads.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
template <typename Fn>
std::string CaptureStderr(const std::string&, Fn fn) {
  fn();
  return "";
}
#else
template <typename Fn>
std::string CaptureStderr(const std::string& file, Fn fn) {
  std::fflush(stderr);
  int saved = dup(2);
  int fd = open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
  dup2(fd, 2);
  close(fd);
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::vector<char> bytes = ReadAll(file);
  return std::string(bytes.begin(), bytes.end());
}
#endif

#endif

}  // namespace

void RunVideoTests() {
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  char tmpl[] = "/tmp/ip-video-tests-XXXXXX";
  const char* made = mkdtemp(tmpl);
  if (made == nullptr) {
    Check(false, "video: a temporary folder");
    return;
  }
  const std::string dir = made;
  std::string logged = CaptureStderr(dir + "/stderr.txt", [&] {
    const std::string avi = dir + "/clip.avi", mp4 = dir + "/clip.mp4";
    bool haveAvi = WriteTestVideo(avi, "MJPG", kFrames);
    bool haveMp4 = WriteTestVideo(mp4, "avc1", kFrames);
    Check(haveAvi, "video: cv::VideoWriter writes an MJPEG AVI");
    Check(haveMp4, "video: cv::VideoWriter writes an H.264 MP4");
    TestLiveDetection();
    if (haveAvi) {
      TestEveryFrame(avi);
      TestFreshest(avi);
      TestCloseMidRead(avi);
      TestPauseResume(avi);
      TestCorruptFiles(dir, avi, haveMp4 ? mp4 : "");
    }
    if (haveMp4) TestEveryFrame(mp4);
    TestOpenFailures(dir);
    TestWriter(dir);
  });
  Check(logged.empty(), "video: nothing reaches stderr (got: " + logged.substr(0, 400) + ")");
  std::string cleanup = "rm -rf '" + dir + "'";
  if (std::system(cleanup.c_str()) != 0) std::printf("  (could not remove %s)\n", dir.c_str());
#else
  std::printf("SKIPPED: video tests (built without OpenCV's videoio)\n");
#endif
}
