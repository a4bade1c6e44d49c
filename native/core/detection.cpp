#include "core/detection.h"

#include <algorithm>
#include <cmath>

#include "core/errors.h"
#include "core/masks.h"
#include "core/model_runner.h"

namespace ip {
namespace {

// Which classes a request keeps. With the class count known, a table of that many flags; without it
// (an end-to-end model without names), the filter's own ids, sorted: never a table sized by an id
// that came from a request.
struct ClassFilter {
  bool all = true;
  std::vector<uint8_t> table;
  std::vector<int> ids;

  bool Allows(int classId) const {
    if (all) return true;
    if (!table.empty()) return classId >= 0 && size_t(classId) < table.size() && table[classId];
    return std::binary_search(ids.begin(), ids.end(), classId);
  }
  bool AllowsNone() const {
    if (all) return false;
    return table.empty() ? ids.empty() : std::none_of(table.begin(), table.end(), [](uint8_t v) { return v; });
  }
};

ClassFilter MakeClassFilter(const RequestOptions& options, int numClasses) {
  ClassFilter f;
  if (options.classFilter.empty()) return f;
  f.all = false;
  if (numClasses > 0) {
    f.table.assign(size_t(numClasses), 0);
    for (int id : options.classFilter) {
      if (id >= 0 && id < numClasses) f.table[id] = 1;
    }
    return f;
  }
  for (int id : options.classFilter) {
    if (id >= 0) f.ids.push_back(id);
  }
  std::sort(f.ids.begin(), f.ids.end());
  return f;
}

// [channels, anchors]: rows are cx, cy, w, h, class scores..., mask coefficients...
// Scans class rows contiguously (cache friendly) keeping each anchor's best allowed class.
void DecodeYolov8(const HeadView& h, const RequestOptions& o, const ClassFilter& filter,
                  std::vector<Candidate>& out) {
  const int A = h.anchors;
  std::vector<float> best(A, -1.f);
  std::vector<int> bestClass(A, -1);
  for (int c = 0; c < h.numClasses; ++c) {
    if (!filter.Allows(c)) continue;
    const float* row = h.data + size_t(4 + c) * A;
    for (int a = 0; a < A; ++a) {
      if (row[a] > best[a]) {
        best[a] = row[a];
        bestClass[a] = c;
      }
    }
  }
  const float* cx = h.data;
  const float* cy = h.data + A;
  const float* w = h.data + 2 * size_t(A);
  const float* hh = h.data + 3 * size_t(A);
  for (int a = 0; a < A; ++a) {
    if (bestClass[a] < 0 || !(best[a] >= o.confidence)) continue;
    float hw = w[a] * 0.5f, hh2 = hh[a] * 0.5f;
    out.push_back({cx[a] - hw, cy[a] - hh2, cx[a] + hw, cy[a] + hh2, best[a], bestClass[a], a});
  }
}

// [anchors, channels]: cx, cy, w, h, objectness, class scores..., mask coefficients...
void DecodeYolov5(const HeadView& h, const RequestOptions& o, const ClassFilter& filter,
                  std::vector<Candidate>& out) {
  for (int a = 0; a < h.anchors; ++a) {
    const float* r = h.data + size_t(a) * h.channels;
    float objectness = r[4];
    if (!(objectness >= o.confidence)) continue;  // score = objectness x class score <= objectness
    int bestClass = -1;
    float best = -1.f;
    for (int c = 0; c < h.numClasses; ++c) {
      if (filter.Allows(c) && r[5 + c] > best) {
        best = r[5 + c];
        bestClass = c;
      }
    }
    float score = objectness * best;
    if (bestClass < 0 || !(score >= o.confidence)) continue;
    float hw = r[2] * 0.5f, hh = r[3] * 0.5f;
    out.push_back({r[0] - hw, r[1] - hh, r[0] + hw, r[1] + hh, score, bestClass, a});
  }
}

// [K, 6 (+ masks)]: x1, y1, x2, y2, score, class — already suppressed by the model.
void DecodeEndToEnd(const HeadView& h, const RequestOptions& o, const ClassFilter& filter,
                    std::vector<Candidate>& out) {
  for (int a = 0; a < h.anchors; ++a) {
    const float* r = h.data + size_t(a) * h.channels;
    // The class arrives as a float: anything but a small non-negative whole number is not a class.
    if (!(r[5] >= -0.5f && r[5] < 16777216.f)) continue;
    int classId = int(std::lround(r[5]));
    if (!(r[4] >= o.confidence) || !filter.Allows(classId)) continue;
    out.push_back({r[0], r[1], r[2], r[3], r[4], classId, a});
  }
}

}  // namespace

OutputLayout ResolveLayout(OutputLayout requested, int64_t d1, int64_t d2, int numMasks, bool endToEndHint,
                           int classCountHint) {
  OutputLayout layout = requested;
  const int64_t nc = classCountHint, nm = numMasks;
  if (layout == OutputLayout::kAuto) {
    // Exact fits with the class count from the metadata first; then the shapes' usual proportions.
    if (endToEndHint && d2 >= 6 + nm) {
      layout = OutputLayout::kEndToEnd;
    } else if (nc > 0 && d1 == 4 + nc + nm) {
      layout = OutputLayout::kYolov8;
    } else if (nc > 0 && d2 == 5 + nc + nm) {
      layout = OutputLayout::kYolov5;
    } else if (nc > 0 && d2 == 6 + nm) {
      layout = OutputLayout::kEndToEnd;
    } else if (endToEndHint && d2 >= 6 + numMasks) {
      layout = OutputLayout::kEndToEnd;
    } else if (d1 < d2) {
      layout = OutputLayout::kYolov8;  // [4 + nc (+ nm), A]: far fewer channels than anchors
    } else if (d2 == 6 + numMasks && d1 <= 1000) {
      layout = OutputLayout::kEndToEnd;  // [K, 6 (+ nm)] with K a few hundred at most
    } else {
      layout = OutputLayout::kYolov5;
    }
  }
  int64_t minimum = layout == OutputLayout::kYolov8 ? 5 + numMasks : layout == OutputLayout::kYolov5 ? 6 + numMasks : 6 + numMasks;
  int64_t channels = layout == OutputLayout::kYolov8 ? d1 : d2;
  if (channels < minimum) {
    throw PoolError(ErrorCode::kInferenceFailed, "the detection output [N, " + std::to_string(d1) + ", " +
                                                     std::to_string(d2) + "] does not fit the chosen layout");
  }
  return layout;
}

std::vector<Candidate> DecodeCandidates(const HeadView& head, const RequestOptions& options) {
  std::vector<Candidate> out;
  ClassFilter filter = MakeClassFilter(options, head.numClasses);
  if (filter.AllowsNone()) return out;  // a filter that names none of this model's classes keeps nothing
  switch (head.layout) {
    case OutputLayout::kYolov8: DecodeYolov8(head, options, filter, out); break;
    case OutputLayout::kYolov5: DecodeYolov5(head, options, filter, out); break;
    case OutputLayout::kEndToEnd: DecodeEndToEnd(head, options, filter, out); break;
    case OutputLayout::kAuto: break;
  }
  // An end-to-end model already chose its rows: order them, but let only maxDetections cut.
  KeepTopCandidates(out, head.layout == OutputLayout::kEndToEnd ? int(out.size()) : options.maxCandidates);
  return out;
}

void ReadMaskCoefficients(const HeadView& h, int anchor, float* out) {
  switch (h.layout) {
    case OutputLayout::kYolov8:
      for (int k = 0; k < h.numMasks; ++k) out[k] = h.data[size_t(4 + h.numClasses + k) * h.anchors + anchor];
      break;
    case OutputLayout::kYolov5:
      for (int k = 0; k < h.numMasks; ++k) out[k] = h.data[size_t(anchor) * h.channels + 5 + h.numClasses + k];
      break;
    case OutputLayout::kEndToEnd:
      for (int k = 0; k < h.numMasks; ++k) out[k] = h.data[size_t(anchor) * h.channels + 6 + k];
      break;
    case OutputLayout::kAuto: break;
  }
}

void DecodeDetections(const DetectionInputs& in, const DetectionContext& ctx, const RequestOptions& o,
                      const ImageTransform& t, int originalWidth, int originalHeight, DetectionResult* result) {
  const auto& headShape = in.headShape;
  if (headShape.size() != 3) throw PoolError(ErrorCode::kInferenceFailed, "the detection output is not [N, a, b]");
  if (headShape[1] < 1 || headShape[2] < 1 || headShape[1] > (int64_t(1) << 24) || headShape[2] > (int64_t(1) << 24)) {
    throw PoolError(ErrorCode::kInferenceFailed, "the detection output [N, " + std::to_string(headShape[1]) + ", " +
                                                     std::to_string(headShape[2]) + "] has an empty or implausible dimension");
  }
  int numMasks = 0;
  if (ctx.segment) {
    if (in.protos == nullptr || in.protoShape.size() != 4) {
      throw PoolError(ErrorCode::kInferenceFailed, "the segmenter has no [N, masks, h, w] prototype output");
    }
    const auto& p = in.protoShape;
    if (p[1] < 1 || p[2] < 1 || p[3] < 1 || p[1] > 4096 || p[2] > 16384 || p[3] > 16384) {
      throw PoolError(ErrorCode::kInferenceFailed, "the segmenter's prototype output [N, " + std::to_string(p[1]) +
                                                       ", " + std::to_string(p[2]) + ", " + std::to_string(p[3]) +
                                                       "] has an empty or implausible dimension");
    }
    numMasks = int(p[1]);
  }
  HeadView view;
  view.layout = ResolveLayout(ctx.layout, headShape[1], headShape[2], numMasks, ctx.endToEndHint, ctx.classCountHint);
  const bool transposed = view.layout == OutputLayout::kYolov8;
  view.anchors = int(transposed ? headShape[2] : headShape[1]);
  view.channels = int(transposed ? headShape[1] : headShape[2]);
  view.numMasks = numMasks;
  view.numClasses = view.layout == OutputLayout::kYolov8   ? view.channels - 4 - numMasks
                    : view.layout == OutputLayout::kYolov5 ? view.channels - 5 - numMasks
                                                           : ctx.classCountHint;
  view.data = in.head + size_t(in.batchIndex) * view.anchors * view.channels;

  std::vector<Candidate> candidates = DecodeCandidates(view, o);
  std::vector<Candidate> kept;
  if (view.layout == OutputLayout::kEndToEnd) {  // the model suppressed already
    candidates.resize(std::min(candidates.size(), size_t(std::max(o.maxDetections, 0))));
    kept = std::move(candidates);
  } else {
    kept = NonMaxSuppression(std::move(candidates), o.iouThreshold, o.classAgnosticNms, o.maxDetections);
  }

  DetectionResult& r = *result;
  const size_t n = kept.size();
  r.boxes.Allocate(n * 4);
  r.scores.Allocate(n);
  r.classIds.Allocate(n);
  const float W = float(originalWidth), H = float(originalHeight);
  for (size_t i = 0; i < n; ++i) {
    const Candidate& c = kept[i];
    float* b = r.boxes.data.get() + 4 * i;
    b[0] = std::clamp(float((c.x1 - t.padX) / t.scaleX), 0.f, W);
    b[1] = std::clamp(float((c.y1 - t.padY) / t.scaleY), 0.f, H);
    b[2] = std::clamp(float((c.x2 - t.padX) / t.scaleX), 0.f, W);
    b[3] = std::clamp(float((c.y2 - t.padY) / t.scaleY), 0.f, H);
    r.scores.data[i] = c.score;
    r.classIds.data[i] = c.classId;
  }
  if (!ctx.segment) return;

  ProtoView pv;
  pv.nm = numMasks;
  pv.ph = int(in.protoShape[2]);
  pv.pw = int(in.protoShape[3]);
  pv.data = in.protos + size_t(in.batchIndex) * pv.nm * pv.ph * pv.pw;
  MaskGeometry g;
  g.inputWidth = ctx.inputWidth;
  g.inputHeight = ctx.inputHeight;
  g.originalWidth = originalWidth;
  g.originalHeight = originalHeight;
  g.transform = t;
  std::vector<float> coefficients(numMasks);
  // Each mask is built at the original image's resolution: kept only when asked for, otherwise one
  // bitmap at a time lives just long enough to give its polygon (a big image with many large
  // instances would otherwise hold them all at once).
  if (o.returnMasks) r.masks.resize(n);
  r.polygons.resize(n);
  InstanceMask scratch;
  for (size_t i = 0; i < n; ++i) {
    ReadMaskCoefficients(view, kept[i].anchor, coefficients.data());
    DecodeInstanceMask(pv, coefficients.data(), r.boxes.data.get() + 4 * i, g, o.maskDecodeMode, o.tradeoffFactor,
                       o.returnMasks ? &r.masks[i] : &scratch, &r.polygons[i]);
  }
}

void PostprocessDetection(Request& request, const Model& model) {
  const BatchOutput& batch = *request.batch;
  DetectionContext ctx;
  ctx.segment = model.spec().task == Task::kInstanceSegmentation;
  ctx.layout = model.spec().outputLayout;
  ctx.endToEndHint = model.endToEndHint();
  ctx.classCountHint = model.classCountHint();
  ctx.inputWidth = model.preprocess().width;
  ctx.inputHeight = model.preprocess().height;
  // The head is the rank-3 output; a segmenter's prototypes are the rank-4 one.
  DetectionInputs in;
  for (const Ort::Value& v : batch.values) {
    auto info = v.GetTensorTypeAndShapeInfo();
    if (info.GetDimensionsCount() == 3 && in.head == nullptr) {
      in.head = v.GetTensorData<float>();
      in.headShape = info.GetShape();
    } else if (info.GetDimensionsCount() == 4 && in.protos == nullptr) {
      in.protos = v.GetTensorData<float>();
      in.protoShape = info.GetShape();
    }
  }
  if (in.head == nullptr) throw PoolError(ErrorCode::kInferenceFailed, "the detector has no [N, a, b] output");
  if (in.headShape[0] != batch.runSize || (in.protos != nullptr && in.protoShape[0] != batch.runSize)) {
    throw PoolError(ErrorCode::kInferenceFailed, "the detector's outputs do not have the batch as first dimension");
  }
  in.batchIndex = request.batchIndex;
  DecodeDetections(in, ctx, request.options, request.transform, request.originalWidth, request.originalHeight,
                   &request.result.detection);
}

}  // namespace ip
