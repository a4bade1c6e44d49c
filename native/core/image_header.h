// Reads an encoded image's dimensions from its header without decoding it, so that oversized
// images are refused before any pixel memory is allocated and the decoder can pick a reduced scale.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ip {

enum class ImageFileType { kUnknown, kJpeg, kPng, kBmp, kWebp };

struct ImageHeader {
  ImageFileType type = ImageFileType::kUnknown;
  int width = 0;
  int height = 0;
};

// Returns false when the bytes are not a JPEG, PNG, BMP or WebP file with a readable size.
bool ReadImageHeader(const uint8_t* data, size_t length, ImageHeader* header);

}  // namespace ip
