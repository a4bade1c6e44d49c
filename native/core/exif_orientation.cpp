#include "core/exif_orientation.h"

namespace ip {
namespace {

constexpr uint16_t kOrientationTag = 0x0112;
constexpr size_t kEntrySize = 12;  // tag, type, count, value

struct TiffReader {
  const uint8_t* data;
  size_t length;
  bool bigEndian;

  bool U16(size_t at, uint16_t* out) const {
    if (at > length || length - at < 2) return false;
    const uint8_t* p = data + at;
    *out = bigEndian ? uint16_t((p[0] << 8) | p[1]) : uint16_t(p[0] | (p[1] << 8));
    return true;
  }
  bool U32(size_t at, uint32_t* out) const {
    uint16_t a, b;
    if (!U16(at, &a) || !U16(at + 2, &b)) return false;
    *out = bigEndian ? (uint32_t(a) << 16) | b : (uint32_t(b) << 16) | a;
    return true;
  }
};

}  // namespace

int ExifOrientation(const uint8_t* tiff, size_t length) {
  if (tiff == nullptr || length < 8) return 1;
  TiffReader r{tiff, length, false};
  if (tiff[0] == 'M' && tiff[1] == 'M') {
    r.bigEndian = true;
  } else if (!(tiff[0] == 'I' && tiff[1] == 'I')) {
    return 1;
  }
  uint16_t mark, count;
  uint32_t ifd;
  if (!r.U16(2, &mark) || mark != 0x2A || !r.U32(4, &ifd) || !r.U16(ifd, &count)) return 1;
  for (size_t i = 0; i < count; ++i) {
    size_t entry = size_t(ifd) + 2 + i * kEntrySize;
    uint16_t tag, value;
    if (!r.U16(entry, &tag)) return 1;
    if (tag != kOrientationTag) continue;
    // A SHORT: its value sits in the first two bytes of the value field. Like OpenCV, the first
    // orientation entry counts.
    if (!r.U16(entry + 8, &value)) return 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

bool OrientationSwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

void ApplyOrientation(int orientation, cv::Mat& image) {
  switch (orientation) {
    case 2: cv::flip(image, image, 1); break;   // mirrored left-right
    case 3: cv::rotate(image, image, cv::ROTATE_180); break;
    case 4: cv::flip(image, image, 0); break;   // mirrored top-bottom
    case 5: cv::transpose(image, image); break;
    case 6: cv::rotate(image, image, cv::ROTATE_90_CLOCKWISE); break;
    case 7:
      cv::transpose(image, image);
      cv::rotate(image, image, cv::ROTATE_180);
      break;
    case 8: cv::rotate(image, image, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    default: break;  // 1: stored as it is seen
  }
}

}  // namespace ip
