// Stage 1a: turns an ImageInput into 8-bit pixels. Encoded files are decoded by OpenCV, at a
// reduced scale (JPEG DCT scaling) when the image is at least twice the model input in both
// directions; raw pixels are wrapped without a copy where their layout allows it.
#pragma once

#include <opencv2/core.hpp>

#include "core/image_input.h"

namespace ip {

struct DecodedImage {
  cv::Mat pixels;       // CV_8UC3; may point into the request's borrowed bytes
  bool bgr = true;      // channel order of pixels
  int originalWidth = 0;   // the source image's size, before any reduced-scale decoding
  int originalHeight = 0;
};

struct DecodeOptions {
  size_t maxPixels = 50'000'000;  // larger images are refused with IMAGE_TOO_LARGE
  int targetWidth = 0;            // the model input; 0 disables reduced-scale decoding
  int targetHeight = 0;
  bool letterbox = false;  // the picture then fills only part of the input, at its own aspect ratio
};

// Throws PoolError (INVALID_IMAGE, IMAGE_TOO_LARGE). `reuse`, when given, is the calling thread's
// decode buffer: decoding into it avoids a fresh allocation per image of the same size.
DecodedImage DecodeImage(const ImageInput& input, const DecodeOptions& options, cv::Mat* reuse = nullptr);

}  // namespace ip
