// The codecs give the very pixels cv::imdecode gives for valid files: JPEG (baseline, progressive,
// grey, RGB, CMYK, YCCK, every chroma sampling) at full and reduced scale, EXIF orientations, PNG of
// every colour type and depth (palette, tRNS, alpha, 16-bit, interlaced, gAMA, eXIf), BMP of every
// depth OpenCV reads, WebP. cv::imdecode is only the reference here; the pool no longer decodes
// JPEG or PNG with it.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <string>

#include <jpeglib.h>
#include <png.h>

#include "core/decode.h"
#include "core/errors.h"
#include "core/image_decoders.h"
#include "core/image_header.h"
#include "tests/check.h"
#include "tests/test_encoders.h"

namespace {

using namespace ip;
using namespace ip_test;

int ReducedFlag(int scale) {
  switch (scale) {
    case 2: return cv::IMREAD_REDUCED_COLOR_2;
    case 4: return cv::IMREAD_REDUCED_COLOR_4;
    case 8: return cv::IMREAD_REDUCED_COLOR_8;
    default: return cv::IMREAD_COLOR;
  }
}

cv::Mat Reference(const Bytes& bytes, int flag = cv::IMREAD_COLOR) {
  return cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data())), flag);
}

bool Same(const cv::Mat& a, const cv::Mat& b) {
  return !a.empty() && a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::string Describe(const cv::Mat& a, const cv::Mat& b) {
  std::string s = std::to_string(a.cols) + "x" + std::to_string(a.rows) + " vs " + std::to_string(b.cols) + "x" +
                  std::to_string(b.rows);
  if (a.size() == b.size() && a.type() == b.type() && !a.empty()) s += ", max diff " + std::to_string(cv::norm(a, b, cv::NORM_INF));
  return s;
}

ImageInput Input(const Bytes& bytes) {
  ImageInput in;
  in.data = bytes.data();
  in.length = bytes.size();
  return in;
}

// Decodes through DecodeImage at `scale` (chosen by the target size, as the pipeline chooses it).
DecodedImage DecodeAtScale(const Bytes& bytes, int scale) {
  ImageHeader h;
  ReadImageHeader(bytes.data(), bytes.size(), &h);
  DecodeOptions o;
  if (scale > 1) {
    o.targetWidth = (h.width + scale - 1) / scale;
    o.targetHeight = (h.height + scale - 1) / scale;
  }
  return DecodeImage(Input(bytes), o);
}

// Compares DecodeImage with imdecode at every scale (scales above 1 only where `reduce`).
void CheckMatchesOpenCv(const Bytes& bytes, const std::string& what, bool reduce) {
  for (int scale : {1, 2, 4, 8}) {
    if (scale > 1 && !reduce) break;
    std::string label = what + (scale > 1 ? " at 1/" + std::to_string(scale) : "");
    try {
      DecodedImage d = DecodeAtScale(bytes, scale);
      cv::Mat ref = Reference(bytes, ReducedFlag(scale));
      Check(Same(d.pixels, ref), label + " equals cv::imdecode (" + Describe(d.pixels, ref) + ")");
    } catch (const std::exception& e) {
      Check(false, label + " threw: " + e.what());
    }
  }
}

void TestJpegVariants() {
  cv::Mat bgr = Picture(101, 67, 1), rgb, gray;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  std::vector<uint8_t> bytes;
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 95});
  CheckMatchesOpenCv(bytes, "baseline JPEG", true);
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, 40, cv::IMWRITE_JPEG_OPTIMIZE, 1});
  CheckMatchesOpenCv(bytes, "optimised JPEG q40", true);
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  CheckMatchesOpenCv(bytes, "progressive JPEG", true);
  cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_RST_INTERVAL, 2});
  CheckMatchesOpenCv(bytes, "JPEG with restart markers", true);
  cv::imencode(".jpg", gray, bytes);
  CheckMatchesOpenCv(bytes, "greyscale JPEG", true);
  cv::imencode(".jpg", Picture(640, 480, 2), bytes);
  CheckMatchesOpenCv(bytes, "640x480 JPEG", true);

  struct Sampling {
    int h, v;
    const char* name;
  };
  for (Sampling s : {Sampling{1, 1, "4:4:4"}, Sampling{2, 1, "4:2:2"}, Sampling{1, 2, "4:4:0"}, Sampling{2, 2, "4:2:0"}}) {
    for (bool progressive : {false, true}) {
      JpegOptions o;
      o.hSampling = s.h;
      o.vSampling = s.v;
      o.progressive = progressive;
      CheckMatchesOpenCv(WriteJpeg(rgb, o), std::string(s.name) + (progressive ? " progressive" : "") + " JPEG", true);
    }
  }
  JpegOptions rgbFile;
  rgbFile.colorSpace = JCS_RGB;
  rgbFile.hSampling = rgbFile.vSampling = 1;
  CheckMatchesOpenCv(WriteJpeg(rgb, rgbFile), "RGB-coded JPEG", true);

  // CMYK and YCCK (Adobe) files: libjpeg gives CMYK, converted to BGR by OpenCV's formula.
  cv::Mat cmyk(67, 101, CV_8UC4);
  cv::randu(cmyk, 0, 256);
  cv::GaussianBlur(cmyk, cmyk, cv::Size(5, 5), 0);
  for (int space : {int(JCS_CMYK), int(JCS_YCCK)}) {
    JpegOptions o;
    o.inputComponents = 4;
    o.colorSpace = space;
    CheckMatchesOpenCv(WriteJpeg(cmyk, o), space == JCS_CMYK ? "CMYK JPEG" : "YCCK JPEG", true);
  }
}

// Orientations 1..8 in both byte orders, at full and half scale, with the original size as seen.
void TestJpegOrientation() {
  cv::Mat bgr = Picture(90, 60, 3);
  std::vector<uint8_t> plain;
  cv::imencode(".jpg", bgr, plain);
  for (bool bigEndian : {false, true}) {
    for (int orientation = 1; orientation <= 8; ++orientation) {
      Bytes bytes = InsertApp1(plain, ExifBlock(orientation, bigEndian));
      std::string what = "JPEG with EXIF orientation " + std::to_string(orientation) + (bigEndian ? " (MM)" : " (II)");
      CheckMatchesOpenCv(bytes, what, true);
      DecodedImage d = DecodeAtScale(bytes, 2);
      bool turned = orientation >= 5;
      Check(d.originalWidth == (turned ? 60 : 90) && d.originalHeight == (turned ? 90 : 60),
            what + ": original size as the picture is seen");
      Check(d.pixels.cols == (turned ? 30 : 45) && d.pixels.rows == (turned ? 45 : 30), what + ": half-scale pixels turned");
    }
  }
  // Only the first APP1 counts, as in OpenCV: an XMP segment before the EXIF one hides it.
  Bytes xmpFirst = InsertApp1(InsertApp1(plain, ExifBlock(6, false)), Bytes{'h', 't', 't', 'p', ':', '/', '/'}, false);
  CheckMatchesOpenCv(xmpFirst, "JPEG with XMP before EXIF", false);
  Check(DecodeAtScale(xmpFirst, 1).pixels.cols == 90, "the EXIF after an XMP segment is not applied");
  // A malformed EXIF block (IFD offset past the end) is ignored, not a failure.
  Bytes broken = ExifBlock(6, false);
  broken[4] = 0xF0;
  CheckMatchesOpenCv(InsertApp1(plain, broken), "JPEG with a broken EXIF block", false);
}

void TestPngVariants() {
  cv::Mat bgr = Picture(45, 31, 4);
  cv::Mat gray, bgra, bgr16, gray16, bgra16;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  for (int y = 0; y < bgra.rows; ++y) {
    for (int x = 0; x < bgra.cols; ++x) bgra.at<cv::Vec4b>(y, x)[3] = uint8_t((x * 13 + y * 7) & 255);
  }
  cv::RNG rng(5);
  bgr16.create(31, 45, CV_16UC3);
  rng.fill(bgr16, cv::RNG::UNIFORM, 0, 65536);
  gray16.create(31, 45, CV_16UC1);
  rng.fill(gray16, cv::RNG::UNIFORM, 0, 65536);
  bgra16.create(31, 45, CV_16UC4);
  rng.fill(bgra16, cv::RNG::UNIFORM, 0, 65536);
  struct Encoded {
    const char* name;
    cv::Mat m;
  };
  for (const Encoded& e : {Encoded{"RGB", bgr}, Encoded{"grey", gray}, Encoded{"RGBA", bgra},
                           Encoded{"16-bit RGB", bgr16}, Encoded{"16-bit grey", gray16},
                           Encoded{"16-bit RGBA", bgra16}}) {
    std::vector<uint8_t> bytes;
    cv::imencode(".png", e.m, bytes);
    CheckMatchesOpenCv(bytes, std::string("imencode's ") + e.name + " PNG", false);
  }

  // libpng-written files: every colour type and depth. Samples are random within the bit depth.
  struct Variant {
    int colorType, bitDepth;
    bool interlaced, transparency, gamma;
  };
  const Variant variants[] = {
      {PNG_COLOR_TYPE_GRAY, 1, false, false, false},       {PNG_COLOR_TYPE_GRAY, 2, false, false, false},
      {PNG_COLOR_TYPE_GRAY, 4, true, false, false},        {PNG_COLOR_TYPE_GRAY, 8, false, true, false},
      {PNG_COLOR_TYPE_GRAY, 16, true, false, true},        {PNG_COLOR_TYPE_GRAY_ALPHA, 8, false, false, false},
      {PNG_COLOR_TYPE_GRAY_ALPHA, 16, false, false, false}, {PNG_COLOR_TYPE_RGB, 8, true, true, true},
      {PNG_COLOR_TYPE_RGB, 16, false, true, false},        {PNG_COLOR_TYPE_RGB_ALPHA, 8, true, false, false},
      {PNG_COLOR_TYPE_RGB_ALPHA, 16, false, false, true},  {PNG_COLOR_TYPE_PALETTE, 1, false, false, false},
      {PNG_COLOR_TYPE_PALETTE, 2, false, true, false},     {PNG_COLOR_TYPE_PALETTE, 4, true, true, false},
      {PNG_COLOR_TYPE_PALETTE, 8, false, true, true},      {PNG_COLOR_TYPE_PALETTE, 8, true, false, false},
  };
  for (const Variant& v : variants) {
    int channels = v.colorType == PNG_COLOR_TYPE_GRAY_ALPHA  ? 2
                   : v.colorType == PNG_COLOR_TYPE_RGB       ? 3
                   : v.colorType == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                                                             : 1;
    cv::Mat samples(29, 37, CV_MAKETYPE(v.bitDepth == 16 ? CV_16U : CV_8U, channels));
    rng.fill(samples, cv::RNG::UNIFORM, 0, 1 << v.bitDepth);
    PngOptions o;
    o.colorType = v.colorType;
    o.bitDepth = v.bitDepth;
    o.interlaced = v.interlaced;
    o.transparency = v.transparency;
    o.gamma = v.gamma;
    std::string what = "PNG colour type " + std::to_string(v.colorType) + ", " + std::to_string(v.bitDepth) + " bits" +
                       (v.interlaced ? ", interlaced" : "") + (v.transparency ? ", tRNS" : "") +
                       (v.gamma ? ", gAMA 1.0" : "");
    CheckMatchesOpenCv(WritePng(samples, o), what, false);
  }

  // eXIf before and after the image data, in both byte orders.
  cv::Mat rgbSamples;
  cv::cvtColor(Picture(40, 24, 6), rgbSamples, cv::COLOR_BGR2RGB);
  for (int orientation : {3, 6, 8}) {
    for (bool after : {false, true}) {
      PngOptions o;
      (after ? o.exifAfterData : o.exifBeforeData) = ExifBlock(orientation, after);
      Bytes bytes = WritePng(rgbSamples, o);
      std::string what = "PNG with eXIf orientation " + std::to_string(orientation) + (after ? " after" : " before") +
                         " the image data";
      CheckMatchesOpenCv(bytes, what, false);
      DecodedImage d = DecodeImage(Input(bytes), DecodeOptions{});
      bool turned = orientation >= 5 && d.pixels.cols == 24;
      Check(d.originalWidth == d.pixels.cols && d.originalHeight == d.pixels.rows && (orientation < 5 || turned),
            what + ": original size as seen");
    }
  }
}

void TestBmpAndWebp() {
  cv::Mat bgr = Picture(37, 23, 7);
  struct Kind {
    BmpKind kind;
    const char* name;
  };
  for (Kind k : {Kind{BmpKind::kPal1, "1-bit"}, Kind{BmpKind::kPal4, "4-bit"}, Kind{BmpKind::kPal8, "8-bit"},
                 Kind{BmpKind::kRgb555, "16-bit 555"}, Kind{BmpKind::kBitfields565, "16-bit 565"},
                 Kind{BmpKind::kRgb24, "24-bit"}, Kind{BmpKind::kRgb32, "32-bit"}, Kind{BmpKind::kRle8, "RLE8"},
                 Kind{BmpKind::kRle4, "RLE4"}, Kind{BmpKind::kCore24, "OS/2 24-bit"},
                 Kind{BmpKind::kCore8, "OS/2 8-bit"}}) {
    CheckMatchesOpenCv(WriteBmp(bgr, k.kind), std::string(k.name) + " BMP", false);
    if (k.kind == BmpKind::kRgb24 || k.kind == BmpKind::kPal8) {
      CheckMatchesOpenCv(WriteBmp(bgr, k.kind, true), std::string(k.name) + " top-down BMP", false);
    }
  }
  std::vector<uint8_t> bytes;
  cv::imencode(".bmp", bgr, bytes);
  CheckMatchesOpenCv(bytes, "imencode's BMP", false);
  cv::imencode(".webp", bgr, bytes, {cv::IMWRITE_WEBP_QUALITY, 80});
  CheckMatchesOpenCv(bytes, "lossy WebP", false);
  cv::imencode(".webp", bgr, bytes, {cv::IMWRITE_WEBP_QUALITY, 101});
  CheckMatchesOpenCv(bytes, "lossless WebP", false);
  cv::Mat bgra;
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  cv::imencode(".webp", bgra, bytes, {cv::IMWRITE_WEBP_QUALITY, 101});
  CheckMatchesOpenCv(bytes, "WebP with alpha", false);
}

}  // namespace

void RunDecodeTests() {
  TestJpegVariants();
  TestJpegOrientation();
  TestPngVariants();
  TestBmpAndWebp();
}
