#include "core/video_writer.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/decode.h"
#include "core/errors.h"
#include "core/video_source.h"

#ifdef INFERENCE_POOL_HAVE_VIDEOIO
#include <opencv2/videoio.hpp>
#endif

namespace ip {

namespace {

std::string Extension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::vector<std::string> CodecsFor(const std::string& path) {
  std::string ext = Extension(path);
  if (ext == "mp4" || ext == "m4v" || ext == "mov" || ext == "mkv") return {"avc1", "mp4v"};
  if (ext == "avi") return {"MJPG"};
  return {"avc1", "MJPG", "mp4v"};
}

}  // namespace

VideoWriter::VideoWriter(std::string path, VideoWriterOptions options)
    : path_(std::move(path)), options_(options) {
  if (!VideoIoAvailable()) throw PoolError(ErrorCode::kVideoSourceFailed, VideoIoMissingReason());
  if (path_.empty()) throw PoolError(ErrorCode::kInvalidArgument, "a video writer needs a file path");
  if (!(options_.fps > 0 && options_.fps <= 1000)) {
    throw PoolError(ErrorCode::kInvalidArgument, "fps must be above 0 and at most 1000");
  }
  if (options_.width <= 0 || options_.height <= 0 || options_.width > 16384 || options_.height > 16384) {
    throw PoolError(ErrorCode::kInvalidArgument, "width and height must be between 1 and 16384");
  }
  if (options_.queueSize < 1) throw PoolError(ErrorCode::kInvalidArgument, "queueSize must be at least 1");
  SilenceVideoLogging();
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  std::string tried;
  for (const std::string& fourcc : CodecsFor(path_)) {
    auto writer = std::make_shared<cv::VideoWriter>();
    bool ok = false;
    try {
      ok = writer->open(path_, cv::CAP_FFMPEG, cv::VideoWriter::fourcc(fourcc[0], fourcc[1], fourcc[2], fourcc[3]),
                        options_.fps, cv::Size(options_.width, options_.height),
                        {cv::VIDEOWRITER_PROP_IS_COLOR, 1, cv::VIDEOWRITER_PROP_HW_ACCELERATION,
                         cv::VIDEO_ACCELERATION_NONE});
    } catch (const cv::Exception&) {
      ok = false;
    }
    if (ok && writer->isOpened()) {
      writer_ = std::move(writer);
      codec_ = fourcc;
      break;
    }
    tried += (tried.empty() ? "" : ", ") + fourcc;
  }
  if (!writer_) {
    throw PoolError(ErrorCode::kVideoSourceFailed, "cannot write video '" + path_ + "' (tried " + tried +
                                                       "): the folder is missing or not writable, or no codec fits");
  }
  thread_ = std::thread([this] { Run(); });
#endif
}

VideoWriter::~VideoWriter() { Close(); }

bool VideoWriter::Write(const ImageInput& image, Drawing drawing) {
  size_t length = image.length;
  if (!image.encoded) {
    if (image.width <= 0 || image.height <= 0) {
      throw PoolError(ErrorCode::kInvalidArgument, "a raw image needs a positive width and height");
    }
    size_t needed = size_t(image.width) * size_t(image.height) * size_t(ChannelCount(image.format));
    if (image.length < needed) {
      throw PoolError(ErrorCode::kInvalidArgument, "raw image data has " + std::to_string(image.length) +
                                                       " bytes; its size and format need " + std::to_string(needed));
    }
    length = needed;
  } else if (image.data == nullptr || image.length == 0) {
    throw PoolError(ErrorCode::kInvalidArgument, "image is empty");
  }
  std::unique_lock<std::mutex> lock(mutex_);
  if (closing_ || int(queue_.size()) >= options_.queueSize) {
    ++dropped_;
    return false;
  }
  lock.unlock();
  // The copy is made outside the lock (room is checked again after it).
  Item item;
  item.bytes.assign(image.data, image.data + length);
  item.layout = image;
  item.layout.data = nullptr;
  item.layout.length = length;
  item.drawing = std::move(drawing);
  lock.lock();
  if (closing_ || int(queue_.size()) >= options_.queueSize) {
    ++dropped_;
    return false;
  }
  queue_.push_back(std::move(item));
  lock.unlock();
  changed_.notify_all();
  return true;
}

VideoWriterTotals VideoWriter::Close() {
  std::lock_guard<std::mutex> guard(closeMutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  if (writer_) {
    try {
      writer_->release();
    } catch (const cv::Exception&) {
    }
    writer_.reset();
  }
#endif
  return Totals();
}

VideoWriterTotals VideoWriter::Totals() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {written_, dropped_};
}

void VideoWriter::Run() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing, and everything queued is written
      item = std::move(queue_.front());
      queue_.pop_front();
    }
    WriteOne(item);
  }
}

void VideoWriter::WriteOne([[maybe_unused]] Item& item) {
  bool ok = false;
#ifdef INFERENCE_POOL_HAVE_VIDEOIO
  try {
    item.layout.data = item.bytes.data();
    item.layout.length = item.bytes.size();
    DecodeOptions options;
    options.maxPixels = size_t(1) << 31;
    DecodedImage decoded = DecodeImage(item.layout, options);
    cv::Mat frame = decoded.pixels;  // may be a view of item.bytes: ours to draw on
    if (!decoded.bgr) cv::cvtColor(frame, frame, cv::COLOR_RGB2BGR);
    DrawOnto(frame, item.drawing);
    if (frame.cols != options_.width || frame.rows != options_.height) {
      cv::Mat resized;
      cv::resize(frame, resized, cv::Size(options_.width, options_.height), 0, 0, cv::INTER_AREA);
      frame = resized;
    }
    writer_->write(frame);
    ok = true;
  } catch (const std::exception&) {
    ok = false;  // an image that cannot be decoded: counted as dropped
  }
#endif
  std::lock_guard<std::mutex> lock(mutex_);
  ok ? ++written_ : ++dropped_;
}

}  // namespace ip
