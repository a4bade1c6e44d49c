// Deterministic tests of the core's pure units: the batching policy, image headers, decoding and
// the fused preprocessing (the codecs in decode_tests.cpp and decode_hostile_tests.cpp). Run by
// test/run.mjs; prints "N passed, N failed".
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>

#include "core/decode.h"
#include "core/errors.h"
#include "core/image_header.h"
#include "core/preprocess.h"

#include "tests/check.h"

namespace {

using ip_test::Check;
using namespace ip;
using Ms = std::chrono::milliseconds;

std::vector<uint8_t> Encode(const char* ext, const cv::Mat& m) {
  std::vector<uint8_t> out;
  cv::imencode(ext, m, out);
  return out;
}

void TestImageHeaders() {
  cv::Mat m(37, 53, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp"}) {
    auto bytes = Encode(ext, m);
    ImageHeader h;
    bool ok = ReadImageHeader(bytes.data(), bytes.size(), &h);
    Check(ok && h.width == 53 && h.height == 37, std::string("header size of ") + ext);
  }
  uint8_t junk[64] = {1, 2, 3};
  ImageHeader h;
  Check(!ReadImageHeader(junk, sizeof junk, &h), "junk is not an image");
  auto png = Encode(".png", m);
  Check(!ReadImageHeader(png.data(), 10, &h), "a truncated header is refused");
}

void TestDecodeErrors() {
  cv::Mat m(20, 30, CV_8UC3, cv::Scalar(1, 2, 3));
  auto png = Encode(".png", m);
  ImageInput in;
  in.data = png.data();
  in.length = png.size();
  DecodeOptions small;
  small.maxPixels = 599;
  try {
    DecodeImage(in, small);
    Check(false, "pixel limit");
  } catch (const PoolError& e) {
    Check(e.code() == ErrorCode::kImageTooLarge, "pixel limit gives IMAGE_TOO_LARGE");
  }
  std::vector<uint8_t> cut(png.begin(), png.begin() + png.size() / 2);
  in.data = cut.data();
  in.length = cut.size();
  try {
    DecodeImage(in, DecodeOptions{});
    Check(false, "truncated png");
  } catch (const PoolError& e) {
    Check(e.code() == ErrorCode::kInvalidImage, "a truncated PNG gives INVALID_IMAGE");
  }
}

void TestLetterbox() {
  // A 40x20 white image into a 32x32 input: scale 0.8, placed 32x16 at top 8.
  std::vector<uint8_t> pixels(40 * 20 * 3, 255);
  ImageInput in;
  in.data = pixels.data();
  in.length = pixels.size();
  in.encoded = false;
  in.width = 40;
  in.height = 20;
  DecodedImage img = DecodeImage(in, DecodeOptions{});
  PreprocessSpec spec;
  spec.width = 32;
  spec.height = 32;
  spec.resize = ResizeMode::kLetterbox;
  NormalizeTable table(spec);
  std::vector<float> dst(32 * 32 * 3, -1.f);
  cv::Mat scratch;
  ImageTransform t = PreprocessInto(img, spec, table, dst.data(), scratch);
  Check(std::fabs(t.scaleX - 0.8) < 1e-9 && std::fabs(t.scaleY - 0.8) < 1e-9, "letterbox scale");
  Check(t.padX == 0 && t.padY == 8, "letterbox padding is centred");
  float grey = float(114.0 / 255.0);
  Check(dst[0] == grey && dst[7 * 32] == grey, "padding rows are grey 114");
  Check(dst[8 * 32] == 1.f && dst[23 * 32 + 31] == 1.f, "picture rows are white");
  Check(dst[24 * 32] == grey, "padding below the picture");
  Check(dst[2 * 1024 + 8 * 32] == 1.f, "third plane is filled too");
}

void TestChannelOrderAndNorm() {
  std::vector<uint8_t> pixels = {255, 0, 51};  // one RGB pixel
  ImageInput in;
  in.data = pixels.data();
  in.length = 3;
  in.encoded = false;
  in.width = in.height = 1;
  DecodedImage img = DecodeImage(in, DecodeOptions{});
  PreprocessSpec spec;
  spec.width = spec.height = 1;
  spec.order = ChannelOrder::kBgr;
  spec.mean[0] = 0.5f;
  spec.std[0] = 2.f;
  NormalizeTable table(spec);
  float dst[3];
  cv::Mat scratch;
  PreprocessInto(img, spec, table, dst, scratch);
  Check(std::fabs(dst[0] - float((0.2 - 0.5) / 2.0)) < 1e-7, "bgr model: first plane is blue, normalised");
  Check(dst[1] == 0.f && dst[2] == 1.f, "bgr model: green then red");
}

}  // namespace

int main() {
  RunBatchPolicyTests();
  TestImageHeaders();
  TestDecodeErrors();
  TestLetterbox();
  TestChannelOrderAndNorm();
  RunDecodeTests();
  RunHostileDecodeTests();
  RunLatencyHistogramTests();
  RunWarmupTests();
  RunByteTrackTests();
  std::printf("%d passed, %d failed\n", ip_test::g_passed, ip_test::g_failed);
  return ip_test::g_failed == 0 ? 0 : 1;
}
