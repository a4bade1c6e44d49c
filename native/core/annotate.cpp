#include "core/annotate.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>

#include "core/decode.h"
#include "core/errors.h"

namespace ip {
namespace {

// A fixed, well-separated palette (BGR), picked by class id.
cv::Scalar ClassColour(int classId) {
  static const cv::Scalar kPalette[] = {
      {56, 56, 255},  {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207}, {10, 249, 72},
      {23, 204, 146}, {134, 219, 61},  {52, 147, 26},  {187, 212, 0},  {168, 153, 44}, {255, 194, 0},
      {147, 69, 52},  {255, 115, 100}, {236, 24, 0},   {255, 56, 132}, {133, 0, 82},   {255, 56, 203},
  };
  const int n = int(sizeof kPalette / sizeof kPalette[0]);
  return kPalette[((classId % n) + n) % n];
}

void DrawLabel(cv::Mat& img, const std::string& text, cv::Point anchor, const cv::Scalar& colour, double scale,
               int thickness) {
  int baseline = 0;
  cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &baseline);
  int top = std::max(0, anchor.y - size.height - baseline - 2);
  cv::Rect bg(anchor.x, top, size.width + 4, size.height + baseline + 4);
  bg &= cv::Rect(0, 0, img.cols, img.rows);
  cv::rectangle(img, bg, colour, cv::FILLED);
  cv::putText(img, text, cv::Point(bg.x + 2, bg.y + size.height + 1), cv::FONT_HERSHEY_SIMPLEX, scale,
              cv::Scalar(255, 255, 255), thickness, cv::LINE_AA);
}

}  // namespace

std::vector<uint8_t> Annotate(const ImageInput& image, const Drawing& drawing, ImageFormat format, int jpegQuality) {
  DecodeOptions options;  // full resolution: no reduced decoding
  options.maxPixels = size_t(1) << 31;
  DecodedImage decoded = DecodeImage(image, options);
  cv::Mat img;
  if (decoded.bgr) {
    img = decoded.pixels.clone();  // never draw on the caller's bytes
  } else {
    cv::cvtColor(decoded.pixels, img, cv::COLOR_RGB2BGR);
  }
  const int side = std::min(img.cols, img.rows);
  const int thickness = drawing.strokeWidth > 0 ? std::min(drawing.strokeWidth, 100) : std::max(1, side / 300);
  const double textScale = std::max(0.4, side / 1200.0);

  // Masks first, blended, so boxes and labels stay crisp on top.
  cv::Mat overlay = img.clone();
  for (const DrawnInstance& d : drawing.instances) {
    if (d.mask.empty()) continue;
    cv::Scalar colour = ClassColour(d.classId);
    for (int y = 0; y < d.maskHeight; ++y) {
      int iy = d.maskTop + y;
      if (iy < 0 || iy >= img.rows) continue;
      for (int x = 0; x < d.maskWidth; ++x) {
        int ix = d.maskLeft + x;
        if (ix < 0 || ix >= img.cols || !d.mask[size_t(y) * d.maskWidth + x]) continue;
        overlay.at<cv::Vec3b>(iy, ix) = cv::Vec3b(uint8_t(colour[0]), uint8_t(colour[1]), uint8_t(colour[2]));
      }
    }
  }
  cv::addWeighted(overlay, 0.45, img, 0.55, 0, img);

  for (const DrawnInstance& d : drawing.instances) {
    cv::Scalar colour = ClassColour(d.classId);
    if (d.polygon.size() >= 4) {
      std::vector<cv::Point> points;
      for (size_t i = 0; i + 1 < d.polygon.size(); i += 2) points.emplace_back(d.polygon[i], d.polygon[i + 1]);
      cv::polylines(img, points, true, colour, thickness, cv::LINE_AA);
    }
    cv::Point p1(int(d.box[0]), int(d.box[1])), p2(int(d.box[2]), int(d.box[3]));
    cv::rectangle(img, p1, p2, colour, thickness, cv::LINE_AA);
    if (!d.label.empty()) DrawLabel(img, d.label, p1, colour, textScale, std::max(1, thickness / 2));
  }
  if (!drawing.title.empty()) {
    DrawLabel(img, drawing.title, cv::Point(0, int(textScale * 40) + 4), cv::Scalar(40, 40, 40), textScale * 1.5,
              std::max(1, thickness));
  }

  std::vector<uint8_t> out;
  bool ok = format == ImageFormat::kPng
                ? cv::imencode(".png", img, out)
                : cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_QUALITY, std::clamp(jpegQuality, 1, 100)});
  if (!ok) throw PoolError(ErrorCode::kInvalidArgument, "cannot encode the annotated image");
  return out;
}

}  // namespace ip
