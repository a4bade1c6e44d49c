#include "tests/test_encoders.h"

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <jpeglib.h>
#include <png.h>

namespace ip_test {

cv::Mat Picture(int width, int height, uint32_t seed) {
  cv::Mat m(height, width, CV_8UC3);
  cv::RNG rng(seed);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      int jitter = rng.uniform(0, 24);
      bool disc = (x - width / 3) * (x - width / 3) + (y - height / 2) * (y - height / 2) < width * height / 16;
      m.at<cv::Vec3b>(y, x) = disc ? cv::Vec3b(30, 200, 240)
                                   : cv::Vec3b(uint8_t(((x + y) * 7 + jitter) & 255), uint8_t(255 * y / height),
                                               uint8_t(std::min(255, 255 * x / width + jitter)));
    }
  }
  return m;
}

// --- JPEG -----------------------------------------------------------------------------------

Bytes WriteJpeg(const cv::Mat& pixels, const JpegOptions& o) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);  // test inputs are valid: libjpeg's default exit() on error is fine here
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = pixels.cols;
  c.image_height = pixels.rows;
  c.input_components = o.inputComponents;
  c.in_color_space = o.inputComponents == 4 ? JCS_CMYK : JCS_RGB;
  jpeg_set_defaults(&c);
  if (o.colorSpace != 0) jpeg_set_colorspace(&c, J_COLOR_SPACE(o.colorSpace));
  c.comp_info[0].h_samp_factor = o.hSampling;
  c.comp_info[0].v_samp_factor = o.vSampling;
  jpeg_set_quality(&c, o.quality, TRUE);
  if (o.progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  while (c.next_scanline < c.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(pixels.ptr<uint8_t>(int(c.next_scanline)));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  Bytes bytes(out, out + size);
  free(out);
  return bytes;
}

Bytes InsertApp1(const Bytes& jpeg, const Bytes& payload, bool exif) {
  Bytes segment = {0xFF, 0xE1, 0, 0};
  if (exif) segment.insert(segment.end(), {'E', 'x', 'i', 'f', 0, 0});
  segment.insert(segment.end(), payload.begin(), payload.end());
  size_t length = segment.size() - 2;
  segment[2] = uint8_t(length >> 8);
  segment[3] = uint8_t(length & 0xFF);
  Bytes out;
  out.reserve(jpeg.size() + segment.size());
  out.push_back(jpeg[0]);  // SOI
  out.push_back(jpeg[1]);
  out.insert(out.end(), segment.begin(), segment.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

Bytes ExifBlock(int orientation, bool bigEndian) {
  auto u16 = [&](Bytes& b, unsigned v) {
    if (bigEndian) {
      b.insert(b.end(), {uint8_t(v >> 8), uint8_t(v)});
    } else {
      b.insert(b.end(), {uint8_t(v), uint8_t(v >> 8)});
    }
  };
  auto u32 = [&](Bytes& b, uint32_t v) {
    if (bigEndian) {
      u16(b, v >> 16);
      u16(b, v & 0xFFFF);
    } else {
      u16(b, v & 0xFFFF);
      u16(b, v >> 16);
    }
  };
  Bytes b = bigEndian ? Bytes{'M', 'M'} : Bytes{'I', 'I'};
  u16(b, 0x2A);
  u32(b, 8);   // IFD0 right after the header
  u16(b, 2);   // two entries
  u16(b, 0x010F);  // Make, ASCII, 4 bytes inline
  u16(b, 2);
  u32(b, 4);
  b.insert(b.end(), {'c', 'a', 'm', 0});
  u16(b, 0x0112);  // Orientation, SHORT, 1
  u16(b, 3);
  u32(b, 1);
  u16(b, unsigned(orientation));
  u16(b, 0);
  u32(b, 0);  // no next IFD
  return b;
}

// --- PNG ------------------------------------------------------------------------------------

namespace {

void PngWrite(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

// A palette whose entries are all different, so index errors show.
std::vector<png_color> TestPalette(int entries) {
  std::vector<png_color> p(static_cast<size_t>(entries));
  for (int i = 0; i < entries; ++i) p[size_t(i)] = {uint8_t(i * 53 + 7), uint8_t(255 - i * 31), uint8_t(i * 97 + 40)};
  return p;
}

}  // namespace

Bytes WritePng(const cv::Mat& samples, const PngOptions& o) {
  Bytes out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) throw std::runtime_error("libpng could not write a test PNG");
  png_set_write_fn(png, &out, PngWrite, nullptr);
  png_set_IHDR(png, info, samples.cols, samples.rows, o.bitDepth, o.colorType,
               o.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  std::vector<png_color> palette;
  std::vector<png_byte> alphas;
  if (o.colorType == PNG_COLOR_TYPE_PALETTE) {
    palette = TestPalette(1 << o.bitDepth);
    png_set_PLTE(png, info, palette.data(), int(palette.size()));
    if (o.transparency) {
      for (size_t i = 0; i < palette.size(); ++i) alphas.push_back(png_byte(i * 41));
      png_set_tRNS(png, info, alphas.data(), int(alphas.size()), nullptr);
    }
  } else if (o.transparency) {
    png_color_16 key{};
    key.red = key.green = key.blue = key.gray = 1;
    png_set_tRNS(png, info, nullptr, 0, &key);
  }
  if (o.gamma) png_set_gAMA_fixed(png, info, PNG_FP_1);
  if (!o.exifBeforeData.empty()) {
    png_set_eXIf_1(png, info, png_uint_32(o.exifBeforeData.size()), const_cast<uint8_t*>(o.exifBeforeData.data()));
  }
  png_write_info(png, info);
  if (o.bitDepth < 8) png_set_packing(png);
  if (o.bitDepth == 16) png_set_swap(png);  // Mat samples are little-endian
  int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < samples.rows; ++y) png_write_row(png, const_cast<uint8_t*>(samples.ptr<uint8_t>(y)));
  }
  if (!o.exifAfterData.empty()) {
    png_set_eXIf_1(png, info, png_uint_32(o.exifAfterData.size()), const_cast<uint8_t*>(o.exifAfterData.data()));
  }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

// --- BMP ------------------------------------------------------------------------------------

namespace {

void Put16(Bytes& b, size_t at, uint32_t v) {
  b[at] = uint8_t(v);
  b[at + 1] = uint8_t(v >> 8);
}
void Put32(Bytes& b, size_t at, uint32_t v) {
  Put16(b, at, v & 0xFFFF);
  Put16(b, at + 2, v >> 16);
}

// Nearest of a fixed palette of `entries` colours (BGR as BMP stores it).
int Nearest(const cv::Vec3b& p, int entries) {
  return (p[0] / 64 + p[1] / 32 * 3 + p[2] / 16 * 5) % entries;
}
cv::Vec3b PaletteColour(int i) { return cv::Vec3b(uint8_t(i * 59 + 3), uint8_t(i * 23 + 100), uint8_t(255 - i * 37)); }

// RLE: per row, runs of equal indices (at most 255), an absolute run for the first pixels of every
// other row (to exercise that code), an end of line, then end of bitmap.
Bytes EncodeRle(const std::vector<std::vector<int>>& rows, bool rle8) {
  Bytes s;
  for (size_t r = 0; r < rows.size(); ++r) {
    const std::vector<int>& row = rows[r];
    size_t x = 0;
    if (r % 2 == 1 && row.size() >= 6) {  // absolute run of 5 pixels
      size_t n = 5;
      s.insert(s.end(), {0, uint8_t(n)});
      if (rle8) {
        for (size_t i = 0; i < n; ++i) s.push_back(uint8_t(row[i]));
        if (n % 2) s.push_back(0);
      } else {
        Bytes nib;
        for (size_t i = 0; i < n; i += 2) nib.push_back(uint8_t(row[i] << 4 | (i + 1 < n ? row[i + 1] : 0)));
        s.insert(s.end(), nib.begin(), nib.end());
        if (nib.size() % 2) s.push_back(0);
      }
      x = n;
    }
    while (x < row.size()) {
      size_t n = 1;
      if (rle8) {
        while (x + n < row.size() && row[x + n] == row[x] && n < 255) ++n;
        s.insert(s.end(), {uint8_t(n), uint8_t(row[x])});
      } else {  // alternate two indices: a run repeats the pair
        while (x + n < row.size() && n < 254 && row[x + n] == row[x + (n % 2)]) ++n;
        int second = x + 1 < row.size() ? row[x + 1] : 0;
        s.insert(s.end(), {uint8_t(n), uint8_t(row[x] << 4 | second)});
      }
      x += n;
    }
    s.insert(s.end(), {0, 0});
  }
  s.insert(s.end(), {0, 1});
  return s;
}

}  // namespace

Bytes WriteBmp(const cv::Mat& pixels, BmpKind kind, bool topDown) {
  const int w = pixels.cols, h = pixels.rows;
  const bool core = kind == BmpKind::kCore24 || kind == BmpKind::kCore8;
  int bpp = 24, entries = 0;
  uint32_t compression = 0;
  switch (kind) {
    case BmpKind::kPal1: bpp = 1, entries = 2; break;
    case BmpKind::kPal4: bpp = 4, entries = 16; break;
    case BmpKind::kPal8: case BmpKind::kCore8: bpp = 8, entries = 256; break;
    case BmpKind::kRgb555: bpp = 16; break;
    case BmpKind::kBitfields565: bpp = 16, compression = 3; break;
    case BmpKind::kRgb24: case BmpKind::kCore24: bpp = 24; break;
    case BmpKind::kRgb32: bpp = 32; break;
    case BmpKind::kRle8: bpp = 8, entries = 256, compression = 1; break;
    case BmpKind::kRle4: bpp = 4, entries = 16, compression = 2; break;
  }
  std::vector<std::vector<int>> indices(static_cast<size_t>(h), std::vector<int>(static_cast<size_t>(w)));
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) indices[size_t(y)][size_t(x)] = entries ? Nearest(pixels.at<cv::Vec3b>(y, x), entries) : 0;
  }
  // Pixel data, bottom row first unless top-down.
  Bytes data;
  if (compression == 1 || compression == 2) {
    std::vector<std::vector<int>> stored(indices.rbegin(), indices.rend());
    data = EncodeRle(topDown ? indices : stored, compression == 1);
  } else {
    size_t pitch = ((size_t(w) * bpp + 31) / 32) * 4;
    data.assign(pitch * size_t(h), 0);
    for (int y = 0; y < h; ++y) {
      uint8_t* row = data.data() + pitch * size_t(topDown ? y : h - 1 - y);
      for (int x = 0; x < w; ++x) {
        cv::Vec3b p = pixels.at<cv::Vec3b>(y, x);
        int i = indices[size_t(y)][size_t(x)];
        switch (bpp) {
          case 1: row[x / 8] |= uint8_t(i << (7 - x % 8)); break;
          case 4: row[x / 2] |= uint8_t(x % 2 ? i : i << 4); break;
          case 8: row[x] = uint8_t(i); break;
          case 16: {
            uint32_t v = compression == 3 ? (p[2] >> 3) << 11 | (p[1] >> 2) << 5 | p[0] >> 3
                                          : (p[2] >> 3) << 10 | (p[1] >> 3) << 5 | p[0] >> 3;
            row[2 * x] = uint8_t(v);
            row[2 * x + 1] = uint8_t(v >> 8);
            break;
          }
          case 24: std::memcpy(row + 3 * x, &p[0], 3); break;
          case 32:
            std::memcpy(row + 4 * x, &p[0], 3);
            row[4 * x + 3] = 255;
            break;
        }
      }
    }
  }
  const size_t dib = core ? 12 : 40;
  const size_t table = entries * (core ? 3 : 4) + (compression == 3 ? 12 : 0);
  const size_t offset = 14 + dib + table;
  Bytes b(offset, 0);
  b[0] = 'B';
  b[1] = 'M';
  Put32(b, 2, uint32_t(offset + data.size()));
  Put32(b, 10, uint32_t(offset));
  Put32(b, 14, uint32_t(dib));
  if (core) {
    Put16(b, 18, uint32_t(w));
    Put16(b, 20, uint32_t(h));
    Put16(b, 22, 1);
    Put16(b, 24, uint32_t(bpp));
  } else {
    Put32(b, 18, uint32_t(w));
    Put32(b, 22, uint32_t(topDown ? -h : h));
    Put16(b, 26, 1);
    Put16(b, 28, uint32_t(bpp));
    Put32(b, 30, compression);
    Put32(b, 34, uint32_t(data.size()));
    Put32(b, 46, uint32_t(entries));
  }
  size_t at = 14 + dib;
  for (int i = 0; i < entries; ++i) {
    cv::Vec3b c = PaletteColour(i);
    std::memcpy(&b[at], &c[0], 3);
    at += core ? 3 : 4;
  }
  if (compression == 3) {  // 565 masks: red, green, blue
    Put32(b, at, 0xF800);
    Put32(b, at + 4, 0x07E0);
    Put32(b, at + 8, 0x001F);
  }
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

}  // namespace ip_test
