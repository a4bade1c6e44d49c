// Draws what a model found onto the image (boxes, labels, mask overlays, polygons) and encodes it,
// so that a person can look at the result.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/image_input.h"
#include "core/result.h"

namespace ip {

struct DrawnInstance {
  float box[4] = {0, 0, 0, 0};  // x1, y1, x2, y2, original pixels
  int classId = 0;
  std::string label;
  std::vector<int32_t> polygon;  // x, y pairs
  std::vector<uint8_t> mask;     // optional bitmap cropped to (maskLeft, maskTop, maskWidth, maskHeight)
  int maskLeft = 0, maskTop = 0, maskWidth = 0, maskHeight = 0;
};

struct Drawing {
  std::vector<DrawnInstance> instances;
  std::string title;  // e.g. a classifier's top class, drawn in the top-left corner
  int strokeWidth = 0;  // box and polygon lines, pixels; 0: from the image's size
};

enum class ImageFormat { kPng, kJpeg };

// Throws PoolError (INVALID_IMAGE) when the image cannot be decoded.
std::vector<uint8_t> Annotate(const ImageInput& image, const Drawing& drawing, ImageFormat format, int jpegQuality);

}  // namespace ip
