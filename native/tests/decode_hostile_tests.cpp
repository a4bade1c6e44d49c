// Broken and hostile files: every prefix of a file of each kind and random byte changes decode or
// throw PoolError, and nothing at all reaches stderr (fd 2 is captured while they run). Corrupt
// files fail with the codec's own words, and a failed decode cannot return an earlier image.
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <string>

#include <png.h>
#include <unistd.h>

#include "core/decode.h"
#include "core/errors.h"
#include "core/image_header.h"
#include "tests/check.h"
#include "tests/test_encoders.h"

namespace {

using namespace ip;
using namespace ip_test;

// Points fd 2 at a temporary file while alive; Text() is what was written there.
class StderrCapture {
 public:
  StderrCapture() {
    std::fflush(stderr);
    file_ = std::tmpfile();
    saved_ = dup(2);
    dup2(fileno(file_), 2);
  }
  ~StderrCapture() { Restore(); }
  std::string Text() {
    Restore();
    std::string text;
    std::rewind(file_);
    char buf[512];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, file_)) > 0) text.append(buf, n);
    return text;
  }

 private:
  void Restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }
  std::FILE* file_;
  int saved_;
};

ImageInput Input(const uint8_t* data, size_t length) {
  ImageInput in;
  in.data = data;
  in.length = length;
  return in;
}

enum class Outcome { kDecoded, kRefused, kWrong };

// Decoded (with a consistent size), refused (INVALID_IMAGE, or IMAGE_TOO_LARGE for a header changed
// to claim a huge size), or anything else (wrong).
Outcome TryDecode(const uint8_t* data, size_t length, std::string* why) {
  try {
    DecodedImage d = DecodeImage(Input(data, length), DecodeOptions{});
    if (d.pixels.type() != CV_8UC3 || d.pixels.cols != d.originalWidth || d.pixels.rows != d.originalHeight) {
      *why = "decoded with an inconsistent size";
      return Outcome::kWrong;
    }
    return Outcome::kDecoded;
  } catch (const PoolError& e) {
    if (e.code() == ErrorCode::kInvalidImage || e.code() == ErrorCode::kImageTooLarge) return Outcome::kRefused;
    *why = e.what();
    return Outcome::kWrong;
  } catch (const std::exception& e) {
    *why = std::string("not a PoolError: ") + e.what();
    return Outcome::kWrong;
  }
}

struct Sample {
  std::string name;
  Bytes bytes;
};

std::vector<Sample> Samples() {
  cv::Mat bgr = Picture(37, 23, 11), rgb, bgra;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  std::vector<Sample> s;
  auto encode = [&](const char* name, const char* ext, const cv::Mat& m, std::vector<int> params = {}) {
    std::vector<uint8_t> bytes;
    cv::imencode(ext, m, bytes, params);
    s.push_back({name, bytes});
  };
  encode("baseline JPEG", ".jpg", bgr);
  encode("progressive JPEG", ".jpg", bgr, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  JpegOptions cmyk;
  cmyk.inputComponents = 4;
  cmyk.colorSpace = 5;  // JCS_YCCK
  s.push_back({"YCCK JPEG", WriteJpeg(bgra, cmyk)});
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", bgr, jpeg);
  s.push_back({"JPEG with EXIF", InsertApp1(jpeg, ExifBlock(6, true))});
  encode("RGB PNG", ".png", bgr);
  encode("16-bit RGBA PNG", ".png", [&] {
    cv::Mat m;
    bgra.convertTo(m, CV_16U, 257);
    return m;
  }());
  PngOptions palette;
  palette.colorType = PNG_COLOR_TYPE_PALETTE;
  palette.bitDepth = 4;
  palette.interlaced = true;
  palette.transparency = true;
  cv::Mat indices(23, 37, CV_8UC1);
  cv::randu(indices, 0, 16);
  s.push_back({"interlaced palette PNG", WritePng(indices, palette)});
  PngOptions exif;
  exif.exifBeforeData = ExifBlock(8, false);
  s.push_back({"PNG with eXIf", WritePng(rgb, exif)});
  for (auto [kind, name] : {std::pair{BmpKind::kPal1, "1-bit BMP"}, {BmpKind::kPal4, "4-bit BMP"},
                            {BmpKind::kPal8, "8-bit BMP"}, {BmpKind::kBitfields565, "565 BMP"},
                            {BmpKind::kRgb24, "24-bit BMP"}, {BmpKind::kRgb32, "32-bit BMP"},
                            {BmpKind::kRle8, "RLE8 BMP"}, {BmpKind::kRle4, "RLE4 BMP"},
                            {BmpKind::kCore8, "OS/2 8-bit BMP"}}) {
    s.push_back({name, WriteBmp(bgr, kind)});
  }
  encode("lossy WebP", ".webp", bgr, {cv::IMWRITE_WEBP_QUALITY, 80});
  encode("lossless WebP with alpha", ".webp", bgra, {cv::IMWRITE_WEBP_QUALITY, 101});
  return s;
}

// Every prefix and 300 random changes of 1 to 4 bytes (half of them in the first 64 bytes, where
// the headers are), all while fd 2 is captured.
void TestTruncatedAndMutated() {
  std::vector<Sample> samples = Samples();
  cv::RNG rng(12345);
  std::string wrong;
  int decoded = 0, refused = 0, wrongCount = 0;
  std::string printed;
  for (const Sample& s : samples) {
    StderrCapture capture;
    {
      Check(TryDecode(s.bytes.data(), s.bytes.size(), &wrong) == Outcome::kDecoded, s.name + " decodes whole");
      auto count = [&](Outcome o, const std::string& what) {
        if (o == Outcome::kDecoded) ++decoded;
        if (o == Outcome::kRefused) ++refused;
        if (o == Outcome::kWrong && wrongCount++ < 5) Check(false, what + ": " + wrong);
      };
      for (size_t n = 0; n < s.bytes.size(); ++n) {
        // A copy of exactly n bytes, so that a read past the end is a read past an allocation.
        Bytes prefix(s.bytes.begin(), s.bytes.begin() + long(n));
        count(TryDecode(prefix.data(), n, &wrong), s.name + " cut to " + std::to_string(n) + " bytes");
      }
      for (int i = 0; i < 300; ++i) {
        Bytes m = s.bytes;
        int changes = rng.uniform(1, 5);
        for (int c = 0; c < changes; ++c) {
          size_t at = i % 2 ? size_t(rng.uniform(0, std::min<int>(64, int(m.size())))) : size_t(rng.uniform(0, int(m.size())));
          m[at] = uint8_t(rng.uniform(0, 256));
        }
        count(TryDecode(m.data(), m.size(), &wrong), s.name + " with changed bytes (case " + std::to_string(i) + ")");
      }
    }
    std::string text = capture.Text();
    if (!text.empty()) printed += s.name + ": " + text.substr(0, 200) + "\n";
  }
  Check(wrongCount == 0, "every broken file decodes or is refused with INVALID_IMAGE (" + std::to_string(wrongCount) +
                             " did neither)");
  Check(refused > 1000 && decoded > 100, "the broken files include refused and decodable ones (" +
                                             std::to_string(refused) + " refused, " + std::to_string(decoded) +
                                             " decoded)");
  Check(printed.empty(), "nothing is printed on stderr while decoding broken files; got: " + printed.substr(0, 300));
}

std::string RefusalMessage(const Bytes& bytes) {
  try {
    DecodeImage(Input(bytes.data(), bytes.size()), DecodeOptions{});
    return "(decoded)";
  } catch (const PoolError& e) {
    return e.code() == ErrorCode::kInvalidImage ? e.what() : std::string("(wrong code) ") + e.what();
  }
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

void TestCodecMessages() {
  cv::Mat bgr = Picture(32, 32, 13);
  std::vector<uint8_t> png, jpeg;
  cv::imencode(".png", bgr, png);
  cv::imencode(".jpg", bgr, jpeg);
  std::string m = RefusalMessage(Bytes(png.begin(), png.begin() + 40));
  Check(Contains(m, "cannot decode PNG") && Contains(m, "read beyond end of data"), "PNG cut at 40 bytes: " + m);

  Bytes corrupt = png;
  corrupt[29] ^= 0x55;  // IHDR's CRC
  m = RefusalMessage(corrupt);
  Check(Contains(m, "cannot decode PNG: IHDR: CRC error"), "PNG with a wrong IHDR checksum: " + m);

  // Cut before the first scan: libjpeg warns, then finds no image.
  size_t sos = 0;
  for (size_t i = 2; i + 1 < jpeg.size() && sos == 0; ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) sos = i;
  }
  m = RefusalMessage(Bytes(jpeg.begin(), jpeg.begin() + long(sos)));
  Check(Contains(m, "cannot decode JPEG: Invalid JPEG file structure: missing SOS marker") &&
            Contains(m, "Premature end of JPEG file"),
        "JPEG cut before its scan: " + m);

  Bytes badTable = jpeg;  // a quantisation table with an invalid precision/index byte
  for (size_t i = 2; i + 4 < badTable.size(); ++i) {
    if (badTable[i] == 0xFF && badTable[i + 1] == 0xDB) {
      badTable[i + 4] = 0x37;
      break;
    }
  }
  m = RefusalMessage(badTable);
  Check(Contains(m, "cannot decode JPEG: Bogus DQT index 7"), "JPEG with a bad DQT: " + m);

  // Cut inside the scan: a warning only, as with OpenCV; every row is still written (grey below).
  Bytes cut(jpeg.begin(), jpeg.begin() + long(jpeg.size() * 2 / 3));
  std::string why;
  Check(TryDecode(cut.data(), cut.size(), &why) == Outcome::kDecoded, "a JPEG cut inside its scan still decodes");

  Bytes bmp = WriteBmp(bgr, BmpKind::kRgb24);
  m = RefusalMessage(Bytes(bmp.begin(), bmp.end() - 10));
  Check(Contains(m, "cannot decode BMP: truncated pixel data"), "truncated BMP: " + m);
  Bytes rle = WriteBmp(bgr, BmpKind::kRle8);
  m = RefusalMessage(Bytes(rle.begin(), rle.end() - 6));
  Check(Contains(m, "cannot decode BMP: RLE data ends early"), "RLE BMP cut before its last row: " + m);

  std::vector<uint8_t> webp;
  cv::imencode(".webp", bgr, webp);
  Bytes animated = {'R', 'I', 'F', 'F', 30, 0, 0, 0, 'W', 'E', 'B', 'P', 'V', 'P', '8', 'X', 10, 0, 0, 0,
                    0x02, 0, 0, 0, 31, 0, 0, 31, 0, 0, 'A', 'N', 'I', 'M', 6, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  m = RefusalMessage(animated);
  Check(Contains(m, "animated WebP is not supported"), "animated WebP: " + m);

  // A BMP height of INT32_MIN has no absolute value: the header reader refuses it.
  Bytes bmpMin = bmp;
  bmpMin[22] = bmpMin[23] = bmpMin[24] = 0;
  bmpMin[25] = 0x80;
  ImageHeader h;
  Check(!ReadImageHeader(bmpMin.data(), bmpMin.size(), &h), "a BMP height of INT32_MIN is refused");
}

// A progressive JPEG whose last scan repeats 600 times: stopped at 500 scans, not decoded for ever.
void TestScanLimit() {
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", Picture(16, 16, 14), jpeg, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  size_t lastSos = 0;
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) lastSos = i;
  }
  Bytes scan(jpeg.begin() + long(lastSos), jpeg.end() - 2);  // up to EOI
  Bytes bomb(jpeg.begin(), jpeg.end() - 2);
  for (int i = 0; i < 600; ++i) bomb.insert(bomb.end(), scan.begin(), scan.end());
  bomb.insert(bomb.end(), {0xFF, 0xD9});
  std::string m = RefusalMessage(bomb);
  Check(Contains(m, "more than 500 progressive scans"), "a JPEG with 600 scans is refused: " + m.substr(0, 200));
}

// The bug this replaced: imdecode into a reused Mat returned the previous image for a PNG whose
// header could not be read. Now the second decode fails, and a third gets its own pixels.
void TestNoEarlierImage() {
  std::vector<uint8_t> red, blue;
  cv::imencode(".png", cv::Mat(32, 32, CV_8UC3, cv::Scalar(0, 0, 255)), red);
  cv::imencode(".png", cv::Mat(32, 32, CV_8UC3, cv::Scalar(255, 0, 0)), blue);
  DecodedImage first = DecodeImage(Input(red.data(), red.size()), DecodeOptions{});
  Check(first.pixels.at<cv::Vec3b>(5, 5) == cv::Vec3b(0, 0, 255), "first image decodes red");
  std::string m = RefusalMessage(Bytes(blue.begin(), blue.begin() + 40));
  Check(Contains(m, "cannot decode PNG"), "the next request's truncated PNG is refused, not given the red pixels");
  DecodedImage third = DecodeImage(Input(blue.data(), blue.size()), DecodeOptions{});
  Check(third.pixels.at<cv::Vec3b>(5, 5) == cv::Vec3b(255, 0, 0), "a later image gets its own pixels");
  Check(first.pixels.at<cv::Vec3b>(5, 5) == cv::Vec3b(0, 0, 255), "an earlier result is not overwritten by a later decode");
}

}  // namespace

void RunHostileDecodeTests() {
  TestTruncatedAndMutated();
  TestCodecMessages();
  TestScanLimit();
  TestNoEarlierImage();
}
