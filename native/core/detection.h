// Stage 3 for detectors and segmenters: decode the head (YOLOv8/v11, YOLOv5, end-to-end), keep
// the best candidates, NMS, map boxes back through the resize to original pixels, and build masks.
#pragma once

#include <vector>

#include "core/model.h"
#include "core/nms.h"
#include "core/request.h"

namespace ip {

// One image's rows of the head output.
struct HeadView {
  OutputLayout layout;  // resolved: never kAuto
  const float* data;
  int anchors;   // candidate count (A, or K for end-to-end)
  int channels;  // values per candidate
  int numClasses;
  int numMasks;
};

// Picks the layout of a head output shaped [N, d1, d2]; `numMasks` is 0 for detection, the hints come
// from the model's metadata (0 classes: unknown). Throws PoolError (INFERENCE_FAILED) when the shape
// fits no layout.
OutputLayout ResolveLayout(OutputLayout requested, int64_t d1, int64_t d2, int numMasks, bool endToEndHint,
                           int classCountHint);

// Candidates above the confidence threshold (and in the class filter), best first; all of an
// end-to-end model's, else the best `maxCandidates`.
std::vector<Candidate> DecodeCandidates(const HeadView& head, const RequestOptions& options);

// Reads the mask coefficients of the candidate's anchor into `out` (numMasks values).
void ReadMaskCoefficients(const HeadView& head, int anchor, float* out);

// The raw outputs of one batch, for DecodeDetections.
struct DetectionInputs {
  const float* head = nullptr;  // [N, d1, d2]
  std::vector<int64_t> headShape;
  const float* protos = nullptr;  // [N, nm, ph, pw], segmentation only
  std::vector<int64_t> protoShape;
  int batchIndex = 0;
};

// What the model says about its outputs.
struct DetectionContext {
  OutputLayout layout = OutputLayout::kAuto;
  bool endToEndHint = false;
  int classCountHint = 0;
  bool segment = false;
  int inputWidth = 0, inputHeight = 0;
};

// Decode, NMS, boxes to original pixels, masks and polygons: the whole stage on plain arrays, so that
// it can also be benchmarked and tested outside a pool.
void DecodeDetections(const DetectionInputs& inputs, const DetectionContext& context, const RequestOptions& options,
                      const ImageTransform& transform, int originalWidth, int originalHeight, DetectionResult* result);

void PostprocessDetection(Request& request, const Model& model);

}  // namespace ip
