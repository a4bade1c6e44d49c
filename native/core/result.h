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

struct Result {
  ClassificationResult classification;
};

}  // namespace ip
