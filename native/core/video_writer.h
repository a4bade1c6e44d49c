// A video file written on a thread of its own (OpenCV's cv::VideoWriter, FFmpeg backend), fed
// through a bounded queue that never blocks the caller: when the queue is full the frame is dropped
// and counted. Each queued frame owns a copy of its pixels (the caller's buffer may be reused as
// soon as Write() returns) and what to draw on it; the writer thread decodes or converts it to BGR,
// resizes it to the video's size where it differs, draws (DrawOnto) and encodes.
//
// Codec, by the file's extension (what Debian 12's OpenCV 4.6 + FFmpeg 5.1 can write):
//   .mp4 .m4v .mov .mkv  H.264 ('avc1', libx264), else MPEG-4 Part 2 ('mp4v')
//   .avi                 Motion JPEG ('MJPG')
//   anything else        'avc1', then 'MJPG', then 'mp4v': the first the backend accepts.
#pragma once

#include <opencv2/core.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/annotate.h"
#include "core/image_input.h"

namespace cv {
class VideoWriter;
}

namespace ip {

struct VideoWriterOptions {
  double fps = 30;
  int width = 0;
  int height = 0;
  int queueSize = 8;
};

struct VideoWriterTotals {
  uint64_t written = 0;
  uint64_t dropped = 0;  // queue full, or a frame that could not be decoded
};

class VideoWriter {
 public:
  // Opens the file (on this thread: a local file opens quickly, and a failure is reported at once).
  // Throws PoolError: VIDEO_SOURCE_FAILED (videoio missing, no codec, cannot create the file),
  // INVALID_ARGUMENT (bad options).
  VideoWriter(std::string path, VideoWriterOptions options);
  ~VideoWriter();  // Close()
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Copies the image (encoded bytes or raw pixels) and queues it; false when the queue is full or
  // the writer is closed (the frame is dropped and counted). Throws PoolError(INVALID_ARGUMENT)
  // for raw pixels whose length does not match their size.
  bool Write(const ImageInput& image, Drawing drawing);
  // Writes what is queued, closes the file, joins the thread. Safe to call more than once.
  VideoWriterTotals Close();

  VideoWriterTotals Totals() const;
  const std::string& codec() const { return codec_; }  // the FOURCC in use, e.g. "avc1"

 private:
  struct Item {
    std::vector<uint8_t> bytes;
    ImageInput layout;  // data/length point into bytes once dequeued
    Drawing drawing;
  };
  void Run();
  void WriteOne(Item& item);

  const std::string path_;
  const VideoWriterOptions options_;
  std::string codec_;
  std::shared_ptr<cv::VideoWriter> writer_;  // shared_ptr: complete type not needed without videoio

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  bool closing_ = false;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;

  std::mutex closeMutex_;
  std::thread thread_;
};

}  // namespace ip
