// Instance masks from YOLO prototypes: sigmoid(coefficients · prototypes) > 0.5, i.e. the linear
// combination > 0, sampled at a working resolution chosen by the decode mode, cropped to the box and
// returned in original-image pixels, with the outer polygon of the mask.
#pragma once

#include <vector>

#include "core/preprocess.h"
#include "core/request.h"
#include "core/result.h"

namespace ip {

struct ProtoView {
  const float* data;  // nm x ph x pw, one image's prototypes
  int nm, ph, pw;
};

struct MaskGeometry {
  int inputWidth, inputHeight;        // model input
  int originalWidth, originalHeight;  // the request's image
  ImageTransform transform;           // original -> input
};

// `box` is x1, y1, x2, y2 in original pixels, already clipped to the image.
void DecodeInstanceMask(const ProtoView& protos, const float* coefficients, const float box[4], const MaskGeometry& geometry,
                        MaskDecodeMode mode, float tradeoffFactor, InstanceMask* mask, std::vector<int32_t>* polygon);

}  // namespace ip
