// Greedy non-maximum suppression over scored boxes, per class or across classes.
#pragma once

#include <vector>

namespace ip {

struct Candidate {
  float x1, y1, x2, y2;  // model-input pixels
  float score;
  int classId;
  int anchor;  // row of the head output it came from (for mask coefficients)
};

float IoU(const Candidate& a, const Candidate& b);

// Keeps the `maxCandidates` best-scoring candidates (ties: lower anchor first), best first.
void KeepTopCandidates(std::vector<Candidate>& candidates, int maxCandidates);

// Returns the kept candidates, best first: a candidate is dropped when it overlaps a kept one of the
// same class (of any class when `classAgnostic`) with IoU > iouThreshold. Stops at maxDetections.
std::vector<Candidate> NonMaxSuppression(std::vector<Candidate> candidates, float iouThreshold, bool classAgnostic,
                                         int maxDetections);

}  // namespace ip
