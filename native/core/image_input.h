// An image as a request carries it: borrowed bytes (encoded file or raw pixels) that the binding
// keeps alive until the request completes. The core never copies or frees them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ip {

enum class PixelFormat { kRgb, kBgr, kRgba, kBgra, kGray };

int ChannelCount(PixelFormat format);

struct ImageInput {
  const uint8_t* data = nullptr;
  size_t length = 0;
  bool encoded = true;  // false: raw pixels described by width, height, format
  int width = 0;
  int height = 0;
  PixelFormat format = PixelFormat::kRgb;
};

}  // namespace ip
