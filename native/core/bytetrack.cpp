#include "core/bytetrack.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/errors.h"
#include "core/linear_assignment.h"

namespace ip {

struct ByteTracker::Detection {
  size_t index;  // in the frame's input
  TrackedBox box;
  double score;

  BoxKalmanFilter::Measurement Xyah() const {
    double w = box.x2 - box.x1, h = box.y2 - box.y1;
    return {box.x1 + w / 2, box.y1 + h / 2, w / h, h};
  }
};

struct ByteTracker::Track {
  enum class State { kNew, kTracked, kLost, kRemoved };

  // Internal ids tell tracks apart; external ids are the ones reported, given only on confirmation.
  int64_t internalId = -1;
  int32_t externalId = -1;
  State state = State::kNew;
  // Confirmed: matched often enough (or started on the first frame). Unconfirmed tracks are matched
  // only with leftover confident detections, and are dropped, not lost, when that fails.
  bool activated = false;
  int64_t frameId = 0;     // last frame it was matched on
  int64_t startFrame = 0;  // frame it was started on
  int trackletLen = 0;     // matches since it was started or last re-found
  double score = 0;
  BoxKalmanFilter::Mean mean{};
  BoxKalmanFilter::Covariance cov{};
  bool listed = false;  // scratch: kept in a list at the end of Update

  TrackedBox Box() const {
    double h = mean[3], w = mean[2] * h;
    double x1 = mean[0] - w / 2, y1 = mean[1] - h / 2;
    return {x1, y1, x1 + w, y1 + h};
  }
};

namespace {

// As supervision's box_iou_batch: 0 where the union is not positive.
double IoU(const TrackedBox& a, const TrackedBox& b) {
  double w = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  double h = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  double inter = w * h;
  double uni = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

template <typename A, typename B, typename BoxOfA, typename BoxOfB>
std::vector<double> IouDistance(const std::vector<A>& as, const std::vector<B>& bs, BoxOfA boxOfA, BoxOfB boxOfB) {
  std::vector<double> cost(as.size() * bs.size());
  for (size_t i = 0; i < as.size(); ++i) {
    TrackedBox a = boxOfA(as[i]);
    for (size_t j = 0; j < bs.size(); ++j) cost[i * bs.size() + j] = 1.0 - IoU(a, boxOfB(bs[j]));
  }
  return cost;
}

}  // namespace

ByteTracker::ByteTracker(const ByteTrackOptions& options) : options_(options) {
  const ByteTrackOptions& o = options_;
  if (!(o.trackActivationThreshold >= 0 && o.trackActivationThreshold <= 1) ||
      !(o.minimumMatchingThreshold >= 0 && o.minimumMatchingThreshold <= 1) || o.lostTrackBuffer < 0 ||
      !(o.frameRate > 0 && std::isfinite(o.frameRate)) || o.minimumConsecutiveFrames < 1) {
    throw PoolError(ErrorCode::kInvalidArgument, "invalid ByteTrack options");
  }
  // Python's int(): truncated. The buffer is given for 30 fps; a faster source keeps lost tracks longer.
  maxTimeLost_ = int64_t(o.frameRate / 30.0 * double(o.lostTrackBuffer));
}

ByteTracker::~ByteTracker() = default;

void ByteTracker::Reset() {
  tracked_.clear();
  lost_.clear();
  owned_.clear();
  frameId_ = 0;
  nextInternalId_ = 0;
  nextExternalId_ = 1;
}

std::vector<TrackedBox> ByteTracker::trackedBoxes() const {
  std::vector<TrackedBox> out;
  for (const Track* t : tracked_) out.push_back(t->Box());
  return out;
}

ByteTracker::Track* ByteTracker::StartTrack(const Detection& d) {
  owned_.push_back(std::make_unique<Track>());
  Track* t = owned_.back().get();
  t->score = d.score;
  t->internalId = nextInternalId_++;
  BoxKalmanFilter::Initiate(d.Xyah(), &t->mean, &t->cov);
  t->trackletLen = 0;
  t->state = Track::State::kTracked;
  // Tracks of the first frame are confirmed at once: there is nothing yet to confuse them with.
  if (frameId_ == 1) t->activated = true;
  if (options_.minimumConsecutiveFrames == 1) t->externalId = nextExternalId_++;
  t->frameId = frameId_;
  t->startFrame = frameId_;
  return t;
}

void ByteTracker::Match(Track* t, const Detection& d) {
  t->frameId = frameId_;
  t->trackletLen += 1;
  BoxKalmanFilter::Update(d.Xyah(), &t->mean, &t->cov);
  t->state = Track::State::kTracked;
  if (t->trackletLen == options_.minimumConsecutiveFrames) {
    t->activated = true;
    if (t->externalId == -1) t->externalId = nextExternalId_++;
  }
  t->score = d.score;
}

void ByteTracker::Refind(Track* t, const Detection& d) {
  BoxKalmanFilter::Update(d.Xyah(), &t->mean, &t->cov);
  t->trackletLen = 0;
  t->state = Track::State::kTracked;
  t->frameId = frameId_;
  t->score = d.score;
}

std::vector<int32_t> ByteTracker::Update(const std::vector<float>& boxes, const std::vector<float>& scores) {
  if (boxes.size() != scores.size() * 4) {
    throw PoolError(ErrorCode::kInvalidArgument, "boxes must hold 4 numbers per score, got " +
                                                     std::to_string(boxes.size()) + " for " +
                                                     std::to_string(scores.size()) + " scores");
  }
  std::vector<int32_t> ids(scores.size());
  Update(boxes.data(), scores.data(), scores.size(), ids.data());
  return ids;
}

void ByteTracker::Update(const float* boxes, const float* scores, size_t n, int32_t* trackerIds) {
  frameId_ += 1;
  // Scores are compared in single precision, as numpy compares supervision's float32 scores: a score
  // of 0.1f is not above 0.1, and 0.35f is not below 0.25 + 0.1.
  const float highThreshold = float(options_.trackActivationThreshold);
  const float newTrackThreshold = float(options_.trackActivationThreshold + 0.1);  // supervision's det_thresh
  const float lowThreshold = 0.1f;

  // Split the frame's detections by score. Boxes without area (or not finite) would make a track's
  // aspect ratio infinite or NaN, so they take no part.
  std::vector<Detection> high, low;
  for (size_t i = 0; i < n; ++i) {
    trackerIds[i] = -1;
    Detection d{i, {boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]}, double(scores[i])};
    bool valid = std::isfinite(d.box.x1) && std::isfinite(d.box.y1) && std::isfinite(d.box.x2) &&
                 std::isfinite(d.box.y2) && d.box.x2 > d.box.x1 && d.box.y2 > d.box.y1 && std::isfinite(d.score);
    if (!valid) continue;
    if (scores[i] > highThreshold) {
      high.push_back(d);
    } else if (scores[i] > lowThreshold) {
      low.push_back(d);
    }
  }
  std::vector<Track*> holder(n, nullptr);  // the track each detection went to
  auto trackBox = [](const Track* t) { return t->Box(); };
  auto detBox = [](const Detection& d) { return d.box; };
  auto fuseScore = [](std::vector<double>& cost, const std::vector<Detection>& dets) {
    // Similarity IoU × score: a confident detection wins a track over a doubtful one at the same IoU.
    for (size_t k = 0; k < cost.size(); ++k) cost[k] = 1.0 - (1.0 - cost[k]) * dets[k % dets.size()].score;
  };

  std::vector<Track*> unconfirmed, pool;
  for (Track* t : tracked_) (t->activated ? pool : unconfirmed).push_back(t);
  pool.insert(pool.end(), lost_.begin(), lost_.end());
  // Where each confirmed or lost track should be now. A lost track's height stops changing: with
  // nothing to correct it, its size would drift.
  for (Track* t : pool) {
    if (t->state != Track::State::kTracked) t->mean[7] = 0;
    BoxKalmanFilter::Predict(&t->mean, &t->cov);
  }

  std::vector<Track*> activated, refound, lostNow;
  // 1. Confident detections with confirmed and lost tracks.
  std::vector<double> cost = IouDistance(pool, high, trackBox, detBox);
  if (!high.empty()) fuseScore(cost, high);
  Assignment first = LinearAssignment(std::move(cost), int(pool.size()), int(high.size()),
                                      options_.minimumMatchingThreshold);
  for (auto [ti, di] : first.matches) {
    Track* t = pool[size_t(ti)];
    const Detection& d = high[size_t(di)];
    if (t->state == Track::State::kTracked) {
      Match(t, d);
      activated.push_back(t);
    } else {
      Refind(t, d);
      refound.push_back(t);
    }
    holder[d.index] = t;
  }

  // 2. Low-confidence detections with the tracked (not lost) tracks still unmatched: an object partly
  // hidden scores low but is still where its track predicts. IoU alone, at a fixed 0.5.
  std::vector<Track*> remaining;
  for (int ti : first.unmatchedRows) {
    if (pool[size_t(ti)]->state == Track::State::kTracked) remaining.push_back(pool[size_t(ti)]);
  }
  Assignment second =
      LinearAssignment(IouDistance(remaining, low, trackBox, detBox), int(remaining.size()), int(low.size()), 0.5);
  for (auto [ti, di] : second.matches) {
    Track* t = remaining[size_t(ti)];
    Match(t, low[size_t(di)]);
    activated.push_back(t);
    holder[low[size_t(di)].index] = t;
  }
  for (int ti : second.unmatchedRows) {
    Track* t = remaining[size_t(ti)];
    if (t->state != Track::State::kLost) {
      t->state = Track::State::kLost;
      lostNow.push_back(t);
    }
  }

  // 3. Unconfirmed tracks (usually seen on one frame so far) with the confident detections left.
  std::vector<Detection> leftover;
  for (int di : first.unmatchedCols) leftover.push_back(high[size_t(di)]);
  cost = IouDistance(unconfirmed, leftover, trackBox, detBox);
  if (!leftover.empty()) fuseScore(cost, leftover);
  Assignment third = LinearAssignment(std::move(cost), int(unconfirmed.size()), int(leftover.size()), 0.7);
  for (auto [ti, di] : third.matches) {
    Track* t = unconfirmed[size_t(ti)];
    Match(t, leftover[size_t(di)]);
    activated.push_back(t);
    holder[leftover[size_t(di)].index] = t;
  }
  for (int ti : third.unmatchedRows) unconfirmed[size_t(ti)]->state = Track::State::kRemoved;

  // 4. New tracks from what is left, if confident enough (a margin above the association threshold).
  for (int di : third.unmatchedCols) {
    const Detection& d = leftover[size_t(di)];
    if (float(d.score) < newTrackThreshold) continue;
    Track* t = StartTrack(d);
    activated.push_back(t);
    holder[d.index] = t;
  }

  // 5. Lost too long: dropped (at once; supervision keeps it listed one frame more through its lagging
  // removed list, which lets a removed track be re-found once more).
  for (Track* t : lost_) {
    if (frameId_ - t->frameId > maxTimeLost_) t->state = Track::State::kRemoved;
  }

  for (const auto& t : owned_) t->listed = false;
  std::vector<Track*> tracked;
  auto addTracked = [&](Track* t) {
    if (t->listed) return;
    t->listed = true;
    tracked.push_back(t);
  };
  for (Track* t : tracked_) {
    if (t->state == Track::State::kTracked) addTracked(t);
  }
  for (Track* t : activated) addTracked(t);
  for (Track* t : refound) addTracked(t);
  std::vector<Track*> lost;
  for (Track* t : lost_) {
    if (t->state == Track::State::kLost) lost.push_back(t);
  }
  lost.insert(lost.end(), lostNow.begin(), lostNow.end());

  // A tracked and a lost track on the same spot (1 - IoU < 0.15) are one object followed twice: the
  // one followed for longer stays.
  std::vector<double> overlap = IouDistance(tracked, lost, trackBox, trackBox);
  std::vector<char> dropTracked(tracked.size(), 0), dropLost(lost.size(), 0);
  for (size_t i = 0; i < tracked.size(); ++i) {
    for (size_t j = 0; j < lost.size(); ++j) {
      if (!(overlap[i * lost.size() + j] < 0.15)) continue;
      int64_t ageTracked = tracked[i]->frameId - tracked[i]->startFrame;
      int64_t ageLost = lost[j]->frameId - lost[j]->startFrame;
      if (ageTracked > ageLost) {
        dropLost[j] = 1;
      } else {
        dropTracked[i] = 1;
      }
    }
  }
  for (const auto& t : owned_) t->listed = false;
  tracked_.clear();
  lost_.clear();
  for (size_t i = 0; i < tracked.size(); ++i) {
    if (dropTracked[i]) continue;
    tracked[i]->listed = true;
    tracked_.push_back(tracked[i]);
  }

  // Ids: of a confirmed track that is still followed after this frame (as supervision reports only
  // those); detection and track are paired by the association itself, not matched again by IoU.
  for (size_t i = 0; i < n; ++i) {
    const Track* t = holder[i];
    if (t != nullptr && t->listed && t->activated && t->externalId > 0) trackerIds[i] = t->externalId;
  }

  for (size_t j = 0; j < lost.size(); ++j) {
    if (dropLost[j]) continue;
    lost[j]->listed = true;
    lost_.push_back(lost[j]);
  }
  owned_.erase(std::remove_if(owned_.begin(), owned_.end(), [](const std::unique_ptr<Track>& t) { return !t->listed; }),
               owned_.end());
}

}  // namespace ip
