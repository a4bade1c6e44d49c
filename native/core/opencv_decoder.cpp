// BMP and WebP through cv::imdecode, always into a fresh Mat. OpenCV 4.6's imdecode prints any
// exception a decoder throws on stderr ("imdecode_(''): can't read data: ... Unexpected end of input
// stream"), which a truncated BMP or a WebP shorter than 32 bytes sets off (an animated WebP fails a
// check as well). The checks here refuse those files first, reading the same header fields OpenCV's
// BmpDecoder reads, so that its decoder never reads past the buffer.
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "core/errors.h"
#include "core/image_decoders.h"

namespace ip {
namespace {

uint32_t Le16(const uint8_t* p) { return uint32_t(p[0]) | (uint32_t(p[1]) << 8); }
uint32_t Le32(const uint8_t* p) { return Le16(p) | (Le16(p + 2) << 16); }

enum BmpCompression : uint32_t { kBmpRgb = 0, kBmpRle8 = 1, kBmpRle4 = 2, kBmpBitfields = 3 };

// The combinations OpenCV's BmpDecoder::readHeader accepts.
bool BmpSupported(int bpp, uint32_t compression) {
  switch (compression) {
    case kBmpRgb: return bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32;
    case kBmpBitfields: return bpp == 16 || bpp == 32;
    case kBmpRle4: return bpp == 4;
    case kBmpRle8: return bpp == 8;
    default: return false;
  }
}

// Whether OpenCV's RLE decoding (BmpDecoder::readData) stays inside the n bytes. It reads code by
// code until the last row is passed or a run would overflow its row, so this replays its moves
// (pixel positions only, in the same order) and says whether a read would run past the end. Note
// that OpenCV's RLE4 path treats end-of-bitmap like end-of-line, so it may read on after it.
class RleReplay {
 public:
  RleReplay(const uint8_t* d, size_t n, size_t at, int64_t width, int64_t height)
      : d_(d), n_(n), at_(at), width_(width), height_(height) {}

  bool StaysInside(bool rle8) { return rle8 ? Rle8() : Rle4(); }

 private:
  bool Take(size_t count, const uint8_t** out = nullptr) {
    if (n_ - at_ < count) return false;
    if (out) *out = d_ + at_;
    at_ += count;
    return true;
  }

  // FillUniColor: moves `count` pixels on, wrapping to the next row at each row's end.
  void Advance(int64_t count) {
    do {
      int64_t step = std::min(count, width_ - x_);
      count -= step;
      x_ += step;
      if (x_ >= width_) {
        x_ = 0;
        if (++y_ >= height_) break;
      }
    } while (count > 0);
  }

  bool Rle4() {
    for (;;) {
      const uint8_t* w;
      if (!Take(2, &w)) return false;
      int64_t len = w[0], code = w[1];
      if (len != 0) {  // a run
        if (x_ + len > width_) return true;  // OpenCV stops: a bad file, refused silently
        x_ += len;
      } else if (code > 2) {  // literal pixels, padded to 16 bits
        if (x_ + code > width_) return true;
        if (!Take(size_t((((code + 1) >> 1) + 1) & ~1))) return false;
        x_ += code;
      } else {  // end of line, end of bitmap, or delta (dx only)
        int64_t shift = width_ - x_;
        if (code == 2) {
          const uint8_t* delta;
          if (!Take(2, &delta)) return false;
          shift = delta[0];
        }
        Advance(shift);
        if (y_ >= height_) return true;
      }
    }
  }

  bool Rle8() {
    bool lineEnded = false;  // the last run ended its row exactly (a following end-of-line is a no-op)
    for (;;) {
      const uint8_t* w;
      if (!Take(2, &w)) return false;
      int64_t len = w[0], code = w[1];
      if (len != 0) {
        if (x_ + len > width_) return true;
        int64_t row = y_;
        Advance(len);
        lineEnded = y_ != row;
        if (y_ >= height_) return true;
      } else if (code > 2) {
        if (x_ + code > width_) return true;
        if (!Take(size_t((code + 1) & ~1))) return false;
        x_ += code;
        lineEnded = false;
      } else {
        int64_t shift = width_ - x_, rows = height_ - y_;
        if (code != 0 || !lineEnded || shift < width_) {
          if (code == 2) {
            const uint8_t* delta;
            if (!Take(2, &delta)) return false;
            shift = delta[0];
            rows = delta[1];
          }
          if (code != 0) shift += rows * width_;
          if (y_ >= height_) return true;
          Advance(shift);
          if (y_ >= height_) return true;
        }
        lineEnded = false;
        if (y_ >= height_) return true;
      }
    }
  }

  const uint8_t* d_;
  size_t n_, at_;
  int64_t width_, height_;
  int64_t x_ = 0, y_ = 0;
};

// Empty when OpenCV's BMP decoder stays inside the n bytes; otherwise why it would not.
std::string BmpProblem(const uint8_t* d, size_t n) {
  if (n < 18) return "truncated header";
  int64_t offset = int32_t(Le32(d + 10));
  int64_t dibSize = int32_t(Le32(d + 14));
  int64_t width, height, tableEnd;
  int bpp;
  uint32_t compression = kBmpRgb;
  if (dibSize >= 36) {
    if (n < 50) return "truncated header";
    width = int32_t(Le32(d + 18));
    height = int32_t(Le32(d + 22));
    bpp = int(Le32(d + 26) >> 16);
    compression = Le32(d + 30);
    int64_t colorsUsed = int32_t(Le32(d + 46));
    if (!BmpSupported(bpp, compression)) {
      return "unsupported: " + std::to_string(bpp) + " bits a pixel, compression " + std::to_string(compression);
    }
    tableEnd = 14 + dibSize;
    if (bpp <= 8) {
      if (colorsUsed < 0 || colorsUsed > 256) return "bad palette size " + std::to_string(colorsUsed);
      tableEnd += 4 * (colorsUsed == 0 ? int64_t(1) << bpp : colorsUsed);
    } else if (bpp == 16 && compression == kBmpBitfields) {
      tableEnd += 12;  // the three colour masks
    }
  } else if (dibSize == 12) {  // OS/2 BITMAPCOREHEADER
    if (n < 26) return "truncated header";
    width = Le16(d + 18);
    height = Le16(d + 20);
    bpp = int(Le32(d + 22) >> 16);
    if (compression != kBmpRgb || !BmpSupported(bpp, kBmpRgb) || bpp == 16) {
      return "unsupported: " + std::to_string(bpp) + " bits a pixel";
    }
    tableEnd = 26 + (bpp <= 8 ? 3 * (int64_t(1) << bpp) : 0);
  } else {
    return "unsupported header size " + std::to_string(dibSize);
  }
  if (tableEnd > int64_t(n)) return "truncated colour table";
  if (width <= 0 || height == 0) return "bad size";
  if (offset < 0 || offset > int64_t(n)) return "pixel data offset outside the file";
  uint64_t rows = uint64_t(height < 0 ? -height : height);
  if (compression == kBmpRle8 || compression == kBmpRle4) {
    RleReplay replay(d, n, size_t(offset), width, int64_t(rows));
    return replay.StaysInside(compression == kBmpRle8) ? "" : "RLE data ends early";
  }
  uint64_t pitch = ((uint64_t(width) * uint64_t(bpp) + 7) / 8 + 3) & ~uint64_t(3);
  if (pitch > (n - uint64_t(offset)) / rows) return "truncated pixel data";
  return "";
}

std::string WebpProblem(const uint8_t* d, size_t n) {
  if (n < 32) return "truncated header";  // OpenCV's WebPDecoder reads 32 bytes first
  if (std::memcmp(d + 12, "VP8X", 4) == 0 && (d[20] & 0x02) != 0) return "animated WebP is not supported";
  return "";
}

}  // namespace

CodecImage DecodeWithOpenCv(const uint8_t* data, size_t length, const ImageHeader& header) {
  const char* name = header.type == ImageFileType::kBmp ? "BMP" : "WebP";
  std::string problem = header.type == ImageFileType::kBmp    ? BmpProblem(data, length)
                        : header.type == ImageFileType::kWebp ? WebpProblem(data, length)
                                                              : "not a BMP or WebP file";
  if (problem.empty() && length > size_t(INT_MAX)) problem = "file over 2 GiB";
  if (!problem.empty()) throw PoolError(ErrorCode::kInvalidImage, std::string("cannot decode ") + name + ": " + problem);

  // Wraps the borrowed bytes: imdecode reads them in place. The result is a Mat of its own.
  cv::Mat bytes(1, int(length), CV_8UC1, const_cast<uint8_t*>(data));
  CodecImage out;
  try {
    out.pixels = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw PoolError(ErrorCode::kInvalidImage, std::string("cannot decode ") + name + ": " + e.what());
  }
  if (out.pixels.empty()) {
    throw PoolError(ErrorCode::kInvalidImage, std::string("cannot decode ") + name + ": corrupt or truncated data");
  }
  // OpenCV may have applied an orientation of its own; any other size means it read another header.
  cv::Size got = out.pixels.size();
  if (out.pixels.type() != CV_8UC3 || (got != cv::Size(header.width, header.height) &&
                                       got != cv::Size(header.height, header.width))) {
    throw PoolError(ErrorCode::kInvalidImage, std::string("cannot decode ") + name + ": decoded " +
                                                  std::to_string(got.width) + "x" + std::to_string(got.height) +
                                                  " but its header said " + std::to_string(header.width) + "x" +
                                                  std::to_string(header.height));
  }
  return out;
}

}  // namespace ip
