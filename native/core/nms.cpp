#include "core/nms.h"

#include <algorithm>

namespace ip {
namespace {

bool Better(const Candidate& a, const Candidate& b) {
  return a.score > b.score || (a.score == b.score && a.anchor < b.anchor);
}

}  // namespace

float IoU(const Candidate& a, const Candidate& b) {
  float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (w <= 0.f || h <= 0.f) return 0.f;
  float inter = w * h;
  float areaA = (a.x2 - a.x1) * (a.y2 - a.y1);
  float areaB = (b.x2 - b.x1) * (b.y2 - b.y1);
  float uni = areaA + areaB - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

void KeepTopCandidates(std::vector<Candidate>& candidates, int maxCandidates) {
  size_t keep = maxCandidates < 0 ? 0 : size_t(maxCandidates);
  if (candidates.size() > keep) {
    std::nth_element(candidates.begin(), candidates.begin() + keep, candidates.end(), Better);
    candidates.resize(keep);
  }
  std::sort(candidates.begin(), candidates.end(), Better);
}

std::vector<Candidate> NonMaxSuppression(std::vector<Candidate> candidates, float iouThreshold, bool classAgnostic,
                                         int maxDetections) {
  std::sort(candidates.begin(), candidates.end(), Better);
  std::vector<Candidate> kept;
  size_t limit = maxDetections < 0 ? 0 : size_t(maxDetections);
  kept.reserve(std::min(limit, candidates.size()));
  for (const Candidate& c : candidates) {
    if (kept.size() >= limit) break;
    bool suppressed = false;
    for (const Candidate& k : kept) {
      if ((classAgnostic || k.classId == c.classId) && IoU(c, k) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(c);
  }
  return kept;
}

}  // namespace ip
