// The codecs behind DecodeImage, each giving 8-bit BGR pixels equal to what OpenCV's imdecode with
// IMREAD_COLOR (or IMREAD_REDUCED_COLOR_n) gives for a valid file, but never printing on stderr and
// never writing into memory that holds an earlier image: every call decodes into a Mat of its own.
//
// JPEG and PNG are decoded by libjpeg(-turbo) and libpng directly, with error and warning handlers
// that keep the codec's text for the error message. BMP and WebP go through cv::imdecode, after
// checks that keep its decoders off the paths where OpenCV prints (a truncated BMP, a short or
// animated WebP). Each throws PoolError(INVALID_IMAGE) naming the codec's complaint.
#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>

#include "core/image_header.h"

namespace ip {

struct CodecImage {
  cv::Mat pixels;       // CV_8UC3 BGR, rows as stored in the file (orientation not applied yet)
  int orientation = 1;  // the file's EXIF orientation, 1..8
};

// `header` is what ReadImageHeader found (and the pixel limit was checked on): a file whose codec
// reports another size is refused before any pixel memory is allocated. `scaleDenom` (1, 2, 4 or 8)
// decodes at that fraction of the size in the DCT domain; the output is the size rounded up.
CodecImage DecodeJpeg(const uint8_t* data, size_t length, const ImageHeader& header, int scaleDenom);

CodecImage DecodePng(const uint8_t* data, size_t length, const ImageHeader& header);

// BMP and WebP, through cv::imdecode into a fresh Mat.
CodecImage DecodeWithOpenCv(const uint8_t* data, size_t length, const ImageHeader& header);

}  // namespace ip
