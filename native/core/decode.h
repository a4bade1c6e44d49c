// Stage 1a: turns an ImageInput into 8-bit pixels. Encoded files are decoded by the codecs of
// image_decoders.h (the same pixels as OpenCV's imdecode, silently, into fresh memory), JPEG at a
// reduced scale (DCT scaling) when the image is at least twice the model input in both directions;
// raw pixels are wrapped without a copy where their layout allows it.
#pragma once

#include <opencv2/core.hpp>

#include "core/image_input.h"

namespace ip {

struct DecodedImage {
  cv::Mat pixels;       // CV_8UC3; a fresh buffer, or (raw input) a view of the request's borrowed bytes
  bool bgr = true;      // channel order of pixels
  int originalWidth = 0;   // the picture's size as it is seen (EXIF orientation applied), before any
                           // reduced-scale decoding
  int originalHeight = 0;
};

struct DecodeOptions {
  size_t maxPixels = 50'000'000;  // larger images are refused with IMAGE_TOO_LARGE
  int targetWidth = 0;            // the model input; 0 disables reduced-scale decoding
  int targetHeight = 0;
  bool letterbox = false;  // the picture then fills only part of the input, at its own aspect ratio
};

// Throws PoolError (INVALID_IMAGE with the codec's own message, IMAGE_TOO_LARGE before any pixel
// memory is allocated). Never decodes into memory that held another image: a failed decode cannot
// hand back an earlier request's pixels.
DecodedImage DecodeImage(const ImageInput& input, const DecodeOptions& options);

}  // namespace ip
