// Stage 1b: resize (stretch or centred letterbox), normalise and lay out one image as the model's
// input tensor, in one pass written straight into the destination (a tensor slot of the model).
#pragma once

#include <opencv2/core.hpp>

#include "core/decode.h"

namespace ip {

enum class ResizeMode { kStretch, kLetterbox };
enum class ChannelOrder { kRgb, kBgr };
enum class TensorLayout { kNchw, kNhwc };

struct PreprocessSpec {
  int width = 0;   // model input width
  int height = 0;  // model input height
  ResizeMode resize = ResizeMode::kStretch;
  ChannelOrder order = ChannelOrder::kRgb;
  TensorLayout layout = TensorLayout::kNchw;
  double mean[3] = {0, 0, 0};  // per channel, in the model's channel order, on pixels scaled to [0, 1]
  double std[3] = {1, 1, 1};
};

// Maps original-image pixels to model-input pixels: input = original * scale + pad.
struct ImageTransform {
  double scaleX = 1, scaleY = 1;
  double padX = 0, padY = 0;
};

// The value written for each byte value 0..255 of each channel: (v / 255 - mean) / std.
struct NormalizeTable {
  float value[3][256];
  explicit NormalizeTable(const PreprocessSpec& spec);
};

// Letterbox pixels take the value of grey 114, as Ultralytics pads.
constexpr int kLetterboxGrey = 114;

// How to decode an image for this input: reduced JPEG decoding sized to where the picture goes.
DecodeOptions DecodeOptionsFor(const PreprocessSpec& spec, size_t maxPixels);

// The mapping PreprocessInto applies to an image of srcW x srcH pixels (no reduced-scale decoding).
ImageTransform ComputeTransform(int srcW, int srcH, const PreprocessSpec& spec);

// Writes width*height*3 floats to dst. `scratch` is the calling thread's reusable resize buffer.
ImageTransform PreprocessInto(const DecodedImage& image, const PreprocessSpec& spec, const NormalizeTable& table,
                              float* dst, cv::Mat& scratch);

}  // namespace ip
