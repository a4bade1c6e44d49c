#include "core/preprocess.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ip {

NormalizeTable::NormalizeTable(const PreprocessSpec& spec) {
  for (int c = 0; c < 3; ++c) {
    for (int v = 0; v < 256; ++v) {
      // In double, then rounded once, so a plain-JS reference computes the very same float.
      value[c][v] = float((double(v) / 255.0 - spec.mean[c]) / spec.std[c]);
    }
  }
}

namespace {

struct Placement {
  int width, height;  // size of the resized picture inside the input
  int left, top;      // its offset (letterbox padding)
};

Placement Place(int srcW, int srcH, const PreprocessSpec& spec) {
  if (spec.resize == ResizeMode::kStretch) return {spec.width, spec.height, 0, 0};
  double r = std::min(double(spec.width) / srcW, double(spec.height) / srcH);
  int w = std::max(1, int(std::lround(srcW * r)));
  int h = std::max(1, int(std::lround(srcH * r)));
  w = std::min(w, spec.width);
  h = std::min(h, spec.height);
  return {w, h, (spec.width - w) / 2, (spec.height - h) / 2};
}

// Fills the whole tensor with the letterbox grey, normalised per channel.
void FillPadding(const PreprocessSpec& spec, const NormalizeTable& table, float* dst) {
  size_t plane = size_t(spec.width) * spec.height;
  if (spec.layout == TensorLayout::kNchw) {
    for (int c = 0; c < 3; ++c) std::fill(dst + c * plane, dst + (c + 1) * plane, table.value[c][kLetterboxGrey]);
  } else {
    for (size_t i = 0; i < plane; ++i) {
      for (int c = 0; c < 3; ++c) dst[i * 3 + c] = table.value[c][kLetterboxGrey];
    }
  }
}

}  // namespace

DecodeOptions DecodeOptionsFor(const PreprocessSpec& spec, size_t maxPixels) {
  DecodeOptions options;
  options.maxPixels = maxPixels;
  options.targetWidth = spec.width;
  options.targetHeight = spec.height;
  options.letterbox = spec.resize == ResizeMode::kLetterbox;
  return options;
}

ImageTransform ComputeTransform(int srcW, int srcH, const PreprocessSpec& spec) {
  Placement p = Place(srcW, srcH, spec);
  ImageTransform t;
  t.scaleX = double(p.width) / srcW;
  t.scaleY = double(p.height) / srcH;
  t.padX = p.left;
  t.padY = p.top;
  return t;
}

ImageTransform PreprocessInto(const DecodedImage& image, const PreprocessSpec& spec, const NormalizeTable& table,
                              float* dst, cv::Mat& scratch) {
  const cv::Mat& src = image.pixels;
  // Placed from the original size: a JPEG decoded at reduced scale lands exactly where its full decode would.
  Placement p = Place(image.originalWidth, image.originalHeight, spec);
  const cv::Mat* resized = &src;
  if (src.cols != p.width || src.rows != p.height) {
    cv::resize(src, scratch, cv::Size(p.width, p.height), 0, 0, cv::INTER_LINEAR);
    resized = &scratch;
  }
  if (p.width != spec.width || p.height != spec.height) FillPadding(spec, table, dst);

  // Source byte index for each destination channel: the model's order picked from the pixels' order.
  bool swap = (spec.order == ChannelOrder::kRgb) == image.bgr;
  const int s0 = swap ? 2 : 0, s1 = 1, s2 = swap ? 0 : 2;
  const float* t0 = table.value[0];
  const float* t1 = table.value[1];
  const float* t2 = table.value[2];
  const size_t plane = size_t(spec.width) * spec.height;
  for (int y = 0; y < p.height; ++y) {
    const uint8_t* row = resized->ptr<uint8_t>(y);
    size_t base = size_t(y + p.top) * spec.width + p.left;
    if (spec.layout == TensorLayout::kNchw) {
      float* d0 = dst + base;
      float* d1 = d0 + plane;
      float* d2 = d1 + plane;
      for (int x = 0; x < p.width; ++x) {
        const uint8_t* px = row + 3 * x;
        d0[x] = t0[px[s0]];
        d1[x] = t1[px[s1]];
        d2[x] = t2[px[s2]];
      }
    } else {
      float* d = dst + base * 3;
      for (int x = 0; x < p.width; ++x) {
        const uint8_t* px = row + 3 * x;
        d[3 * x] = t0[px[s0]];
        d[3 * x + 1] = t1[px[s1]];
        d[3 * x + 2] = t2[px[s2]];
      }
    }
  }

  ImageTransform t;
  t.scaleX = double(p.width) / image.originalWidth;
  t.scaleY = double(p.height) / image.originalHeight;
  t.padX = p.left;
  t.padY = p.top;
  return t;
}

}  // namespace ip
