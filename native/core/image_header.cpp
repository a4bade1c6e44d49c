#include "core/image_header.h"

#include <cstring>

// Every read below is bounds-checked against the buffer's length first: a request's bytes are hostile.

namespace ip {
namespace {

uint32_t Be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }
uint32_t Be32(const uint8_t* p) { return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3]; }
uint32_t Le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t Le24(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16); }
uint32_t Le32(const uint8_t* p) { return Le24(p) | (uint32_t(p[3]) << 24); }

bool ReadPng(const uint8_t* d, size_t n, ImageHeader* h) {
  static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n < 24 || std::memcmp(d, kSig, 8) != 0 || std::memcmp(d + 12, "IHDR", 4) != 0) return false;
  h->type = ImageFileType::kPng;
  h->width = int(Be32(d + 16));
  h->height = int(Be32(d + 20));
  return true;
}

bool ReadJpeg(const uint8_t* d, size_t n, ImageHeader* h) {
  if (n < 4 || d[0] != 0xFF || d[1] != 0xD8) return false;
  size_t i = 2;
  while (i + 4 <= n) {
    if (d[i] != 0xFF) return false;
    uint8_t marker = d[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    uint32_t len = Be16(d + i + 2);
    if (len < 2) return false;
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > n) return false;
      h->type = ImageFileType::kJpeg;
      h->height = int(Be16(d + i + 5));
      h->width = int(Be16(d + i + 7));
      return true;
    }
    i += 2 + len;
  }
  return false;
}

bool ReadBmp(const uint8_t* d, size_t n, ImageHeader* h) {
  if (n < 26 || d[0] != 'B' || d[1] != 'M') return false;
  uint32_t dibSize = Le32(d + 14);
  h->type = ImageFileType::kBmp;
  if (dibSize == 12) {  // OS/2 BITMAPCOREHEADER
    h->width = int(Le16(d + 18));
    h->height = int(Le16(d + 20));
  } else {
    int32_t height = int32_t(Le32(d + 22));
    if (height == INT32_MIN) return false;  // has no positive counterpart
    h->width = int(int32_t(Le32(d + 18)));
    h->height = height < 0 ? -height : height;  // negative height: top-down rows
  }
  return true;
}

bool ReadWebp(const uint8_t* d, size_t n, ImageHeader* h) {
  if (n < 30 || std::memcmp(d, "RIFF", 4) != 0 || std::memcmp(d + 8, "WEBP", 4) != 0) return false;
  const uint8_t* c = d + 12;
  h->type = ImageFileType::kWebp;
  if (std::memcmp(c, "VP8 ", 4) == 0) {  // lossy: frame header after a 3-byte tag and start code
    h->width = int(Le16(c + 14) & 0x3FFF);
    h->height = int(Le16(c + 16) & 0x3FFF);
    return true;
  }
  if (std::memcmp(c, "VP8L", 4) == 0) {  // lossless: 14-bit width-1 and height-1 after the 0x2F byte
    uint32_t bits = Le32(c + 9);
    h->width = int((bits & 0x3FFF) + 1);
    h->height = int(((bits >> 14) & 0x3FFF) + 1);
    return true;
  }
  if (std::memcmp(c, "VP8X", 4) == 0) {  // extended: 24-bit canvas width-1 and height-1
    h->width = int(Le24(c + 12) + 1);
    h->height = int(Le24(c + 15) + 1);
    return true;
  }
  return false;
}

}  // namespace

bool ReadImageHeader(const uint8_t* data, size_t length, ImageHeader* header) {
  if (data == nullptr) return false;
  bool ok = ReadPng(data, length, header) || ReadJpeg(data, length, header) || ReadBmp(data, length, header) ||
            ReadWebp(data, length, header);
  return ok && header->width > 0 && header->height > 0;
}

}  // namespace ip
