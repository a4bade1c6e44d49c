// Image files for the decode tests, in the variants cv::imencode cannot write: CMYK, YCCK and RGB
// JPEGs and chosen chroma sampling (libjpeg), every PNG colour type and bit depth with palettes,
// tRNS, gAMA, interlacing and eXIf (libpng), BMPs of every depth OpenCV reads, RLE included.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

namespace ip_test {

using Bytes = std::vector<uint8_t>;

// A smooth picture with some noise, closer to a photo than noise is; BGR.
cv::Mat Picture(int width, int height, uint32_t seed);

struct JpegOptions {
  int inputComponents = 3;   // 3: `pixels` is RGB; 4: CMYK (each a CV_8UC3 / CV_8UC4 Mat)
  int colorSpace = 0;        // J_COLOR_SPACE written to the file; 0: libjpeg's default for the input
  int hSampling = 2, vSampling = 2;  // of the first component
  bool progressive = false;
  int quality = 90;
};
Bytes WriteJpeg(const cv::Mat& pixels, const JpegOptions& options);

// `tiff` as the file's first APP1 segment, after "Exif\0\0" (or raw, as another APP1, when !exif).
Bytes InsertApp1(const Bytes& jpeg, const Bytes& payload, bool exif = true);

// A TIFF block whose IFD0 holds an orientation tag (and a tag before it), in either byte order.
Bytes ExifBlock(int orientation, bool bigEndian);

struct PngOptions {
  int colorType = 2;  // PNG_COLOR_TYPE_*
  int bitDepth = 8;
  bool interlaced = false;
  bool transparency = false;  // a tRNS chunk (palette alpha, or one transparent grey / RGB value)
  bool gamma = false;         // gAMA 1.0, which OpenCV ignores
  Bytes exifBeforeData, exifAfterData;  // eXIf chunk contents
};
// `samples`: one value per channel in the file's order (grey, grey+alpha, RGB, RGBA, or palette
// indices), CV_8U or CV_16U to match bitDepth (values already within the bit depth).
Bytes WritePng(const cv::Mat& samples, const PngOptions& options);

enum class BmpKind { kPal1, kPal4, kPal8, kRgb555, kBitfields565, kRgb24, kRgb32, kRle8, kRle4, kCore24, kCore8 };
// `pixels` BGR; palette kinds map it to indices of a fixed palette. topDown: negative height.
Bytes WriteBmp(const cv::Mat& pixels, BmpKind kind, bool topDown = false);

}  // namespace ip_test
