// What postprocessing produces for one request. Buffers are plain heap arrays whose ownership the
// binding hands to JS as external ArrayBuffers (freed by their finalizer), so nothing is copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace ip {

template <typename T>
struct OwnedArray {
  std::unique_ptr<T[]> data;
  size_t size = 0;

  void Allocate(size_t n) {
    data.reset(new T[n > 0 ? n : 1]);
    size = n;
  }
};

struct ClassificationResult {
  OwnedArray<float> scores;      // every class, after the activation
  std::vector<int32_t> topIds;   // top-K class ids, best first
};

// One instance's mask in original-image pixels, cropped to its box: 1 inside, 0 outside.
struct InstanceMask {
  OwnedArray<uint8_t> data;
  int width = 0, height = 0;
  int left = 0, top = 0;
};

struct DetectionResult {
  OwnedArray<float> boxes;      // n x 4: x1, y1, x2, y2 in original-image pixels, clipped to the image
  OwnedArray<float> scores;     // n
  OwnedArray<int32_t> classIds; // n
  // Segmentation only: each instance's mask and the outer polygon of it (x, y pairs, original pixels).
  std::vector<InstanceMask> masks;
  std::vector<std::vector<int32_t>> polygons;
};

struct Result {
  ClassificationResult classification;
  DetectionResult detection;
};

}  // namespace ip
