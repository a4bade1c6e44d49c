#include "core/masks.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace ip {
namespace {

// One axis of the sampling: for each original pixel along it, the two prototype cells to blend and
// the weight of the second. Separable, so a mask costs one multiply-add pass per pixel.
struct AxisSampler {
  std::vector<int> lo, hi;
  std::vector<float> w;
};

// Original pixel p (centre p + 0.5) -> input coordinate -> working-grid cell (nearest) -> that cell's
// centre in prototype coordinates (half-pixel centres, as cv::resize) -> linear blend of two cells.
AxisSampler MakeSampler(int start, int count, double scale, double pad, int inputSize, int gridSize, int protoSize) {
  AxisSampler s;
  s.lo.resize(count);
  s.hi.resize(count);
  s.w.resize(count);
  for (int i = 0; i < count; ++i) {
    double in = (start + i + 0.5) * scale + pad;
    int cell = std::clamp(int(std::floor(in * gridSize / inputSize)), 0, gridSize - 1);
    double centre = (cell + 0.5) * double(inputSize) / gridSize;
    double p = centre * protoSize / inputSize - 0.5;
    p = std::clamp(p, 0.0, double(protoSize - 1));
    int p0 = int(std::floor(p));
    int p1 = std::min(p0 + 1, protoSize - 1);
    s.lo[i] = p0;
    s.hi[i] = p1;
    s.w[i] = float(p - p0);
  }
  return s;
}

int GridSize(MaskDecodeMode mode, float factor, int protoSize, int inputSize) {
  switch (mode) {
    case MaskDecodeMode::kFast: return protoSize;
    case MaskDecodeMode::kAccurate: return inputSize;
    case MaskDecodeMode::kTradeoff: {
      float f = std::clamp(factor, 0.f, 1.f);
      return std::max(1, int(std::lround(protoSize + (inputSize - protoSize) * f)));
    }
  }
  return inputSize;
}

}  // namespace

void DecodeInstanceMask(const ProtoView& protos, const float* coefficients, const float box[4], const MaskGeometry& g,
                        MaskDecodeMode mode, float tradeoffFactor, InstanceMask* mask, std::vector<int32_t>* polygon) {
  polygon->clear();
  int left = std::clamp(int(std::floor(box[0])), 0, g.originalWidth);
  int top = std::clamp(int(std::floor(box[1])), 0, g.originalHeight);
  int right = std::clamp(int(std::ceil(box[2])), 0, g.originalWidth);
  int bottom = std::clamp(int(std::ceil(box[3])), 0, g.originalHeight);
  int width = std::max(0, right - left), height = std::max(0, bottom - top);
  mask->left = left;
  mask->top = top;
  mask->width = width;
  mask->height = height;
  mask->data.Allocate(size_t(width) * height);
  if (width == 0 || height == 0) return;

  const ImageTransform& t = g.transform;
  AxisSampler sx = MakeSampler(left, width, t.scaleX, t.padX, g.inputWidth,
                               GridSize(mode, tradeoffFactor, protos.pw, g.inputWidth), protos.pw);
  AxisSampler sy = MakeSampler(top, height, t.scaleY, t.padY, g.inputHeight,
                               GridSize(mode, tradeoffFactor, protos.ph, g.inputHeight), protos.ph);

  // The linear combination of prototypes, only over the cells the box touches.
  int px0 = *std::min_element(sx.lo.begin(), sx.lo.end()), px1 = *std::max_element(sx.hi.begin(), sx.hi.end());
  int py0 = *std::min_element(sy.lo.begin(), sy.lo.end()), py1 = *std::max_element(sy.hi.begin(), sy.hi.end());
  int cw = px1 - px0 + 1, ch = py1 - py0 + 1;
  std::vector<float> logits(size_t(cw) * ch, 0.f);
  const size_t plane = size_t(protos.ph) * protos.pw;
  for (int k = 0; k < protos.nm; ++k) {
    const float c = coefficients[k];
    const float* p = protos.data + k * plane;
    for (int y = 0; y < ch; ++y) {
      const float* row = p + size_t(py0 + y) * protos.pw + px0;
      float* dst = logits.data() + size_t(y) * cw;
      for (int x = 0; x < cw; ++x) dst[x] += c * row[x];
    }
  }

  // Crop to the box: a pixel belongs when its centre lies inside the box.
  uint8_t* out = mask->data.data.get();
  for (int y = 0; y < height; ++y) {
    float cy = top + y + 0.5f;
    bool rowInside = cy >= box[1] && cy <= box[3];
    const float* r0 = logits.data() + size_t(sy.lo[y] - py0) * cw;
    const float* r1 = logits.data() + size_t(sy.hi[y] - py0) * cw;
    float wy = sy.w[y];
    for (int x = 0; x < width; ++x) {
      float cx = left + x + 0.5f;
      uint8_t v = 0;
      if (rowInside && cx >= box[0] && cx <= box[2]) {
        int a = sx.lo[x] - px0, b = sx.hi[x] - px0;
        float wx = sx.w[x];
        float upper = r0[a] + (r0[b] - r0[a]) * wx;
        float lower = r1[a] + (r1[b] - r1[a]) * wx;
        v = (upper + (lower - upper) * wy) > 0.f ? 1 : 0;
      }
      out[size_t(y) * width + x] = v;
    }
  }

  // The outer polygon: the largest external contour.
  cv::Mat bitmap(height, width, CV_8UC1, out);
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(bitmap, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  const std::vector<cv::Point>* best = nullptr;
  double bestArea = -1;
  for (const auto& c : contours) {
    double area = cv::contourArea(c) + double(c.size()) * 1e-6;  // a line of pixels still counts
    if (area > bestArea) {
      bestArea = area;
      best = &c;
    }
  }
  if (best != nullptr) {
    polygon->reserve(best->size() * 2);
    for (const cv::Point& p : *best) {
      polygon->push_back(p.x + left);
      polygon->push_back(p.y + top);
    }
  }
}

}  // namespace ip
