#include "core/decode.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"
#include "core/exif_orientation.h"
#include "core/image_decoders.h"
#include "core/image_header.h"

namespace ip {
namespace {

void CheckPixelLimit(int width, int height, size_t maxPixels) {
  if (uint64_t(width) * uint64_t(height) > maxPixels) {
    throw PoolError(ErrorCode::kImageTooLarge, "image is " + std::to_string(width) + "x" + std::to_string(height) +
                                                   ", over the limit of " + std::to_string(maxPixels) + " pixels");
  }
}

// The largest JPEG DCT scale-down (1/2, 1/4, 1/8) that still leaves at least as many pixels as the
// picture will have inside the model input, so the later resize never upsamples what a full decode
// would have kept.
int ReducedScale(const ImageHeader& header, const DecodeOptions& options) {
  if (header.type != ImageFileType::kJpeg || options.targetWidth <= 0 || options.targetHeight <= 0) return 1;
  double needW = options.targetWidth, needH = options.targetHeight;
  if (options.letterbox) {
    double r = std::min(needW / header.width, needH / header.height);
    needW = std::round(header.width * r);
    needH = std::round(header.height * r);
  }
  int scale = 1;
  for (int f : {2, 4, 8}) {
    // libjpeg rounds a scaled size up.
    int w = (header.width + f - 1) / f, h = (header.height + f - 1) / f;
    if (w >= needW && h >= needH) scale = f;
  }
  return scale;
}

DecodedImage DecodeEncoded(const ImageInput& input, const DecodeOptions& options) {
  ImageHeader header;
  if (!ReadImageHeader(input.data, input.length, &header)) {
    throw PoolError(ErrorCode::kInvalidImage, "not a JPEG, PNG, BMP or WebP image (" + std::to_string(input.length) +
                                                  " bytes)");
  }
  CheckPixelLimit(header.width, header.height, options.maxPixels);
  CodecImage decoded;
  switch (header.type) {
    case ImageFileType::kJpeg:
      decoded = DecodeJpeg(input.data, input.length, header, ReducedScale(header, options));
      break;
    case ImageFileType::kPng: decoded = DecodePng(input.data, input.length, header); break;
    default: decoded = DecodeWithOpenCv(input.data, input.length, header); break;
  }
  ApplyOrientation(decoded.orientation, decoded.pixels);
  DecodedImage out;
  out.pixels = decoded.pixels;
  out.bgr = true;
  if (header.type == ImageFileType::kJpeg || header.type == ImageFileType::kPng) {
    bool turned = OrientationSwapsAxes(decoded.orientation);
    out.originalWidth = turned ? header.height : header.width;
    out.originalHeight = turned ? header.width : header.height;
  } else {  // full scale, turned by OpenCV if at all
    out.originalWidth = out.pixels.cols;
    out.originalHeight = out.pixels.rows;
  }
  return out;
}

DecodedImage WrapRaw(const ImageInput& input, const DecodeOptions& options) {
  if (input.width <= 0 || input.height <= 0) {
    throw PoolError(ErrorCode::kInvalidImage, "raw image needs a positive width and height");
  }
  CheckPixelLimit(input.width, input.height, options.maxPixels);
  int channels = ChannelCount(input.format);
  uint64_t needed = uint64_t(input.width) * uint64_t(input.height) * uint64_t(channels);
  if (input.length < needed) {
    throw PoolError(ErrorCode::kInvalidImage, "raw image data has " + std::to_string(input.length) + " bytes; " +
                                                  std::to_string(input.width) + "x" + std::to_string(input.height) +
                                                  " with " + std::to_string(channels) + " channels needs " +
                                                  std::to_string(needed));
  }
  cv::Mat view(input.height, input.width, CV_8UC(channels), const_cast<uint8_t*>(input.data));
  DecodedImage out;
  out.originalWidth = input.width;
  out.originalHeight = input.height;
  switch (input.format) {
    case PixelFormat::kRgb:
    case PixelFormat::kBgr:
      out.pixels = view;  // zero copy
      out.bgr = input.format == PixelFormat::kBgr;
      break;
    case PixelFormat::kRgba:
      cv::cvtColor(view, out.pixels, cv::COLOR_RGBA2RGB);
      out.bgr = false;
      break;
    case PixelFormat::kBgra:
      cv::cvtColor(view, out.pixels, cv::COLOR_BGRA2BGR);
      out.bgr = true;
      break;
    case PixelFormat::kGray:
      cv::cvtColor(view, out.pixels, cv::COLOR_GRAY2BGR);
      out.bgr = true;
      break;
  }
  return out;
}

}  // namespace

int ChannelCount(PixelFormat format) {
  switch (format) {
    case PixelFormat::kRgba:
    case PixelFormat::kBgra: return 4;
    case PixelFormat::kGray: return 1;
    default: return 3;
  }
}

DecodedImage DecodeImage(const ImageInput& input, const DecodeOptions& options) {
  if (input.data == nullptr || input.length == 0) throw PoolError(ErrorCode::kInvalidImage, "image is empty");
  return input.encoded ? DecodeEncoded(input, options) : WrapRaw(input, options);
}

}  // namespace ip
