// ByteTrack multi-object tracking for one video stream, after supervision's (sv.ByteTrack): each track
// is a Kalman-filtered box; a frame's confident detections are associated with the tracks first (IoU
// fused with the score), then its low-confidence ones with the tracks still unmatched (which is how
// ByteTrack keeps an occluded, blurred object), and confident leftovers start new tracks. Lost tracks
// are kept for a while for re-association. Single-threaded: one instance per stream, no locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/kalman_filter.h"

namespace ip {

// supervision's parameter names and defaults.
struct ByteTrackOptions {
  // Detections scoring above it are associated first; from it + 0.1 up they may start new tracks.
  // Those above 0.1 and at most it are associated second, with tracked (not lost) tracks only.
  double trackActivationThreshold = 0.25;
  // Frames a lost track is kept for re-association, at 30 fps (scaled by frameRate / 30).
  int lostTrackBuffer = 30;
  // First association: a pair matches only when 1 - IoU × score is at most this.
  double minimumMatchingThreshold = 0.8;
  double frameRate = 30;
  // Matches after its first frame a track needs before it gets an id (see ByteTracker::Update).
  int minimumConsecutiveFrames = 1;
};

struct TrackedBox {
  double x1, y1, x2, y2;
};

class ByteTracker {
 public:
  explicit ByteTracker(const ByteTrackOptions& options = {});
  ~ByteTracker();
  ByteTracker(const ByteTracker&) = delete;
  ByteTracker& operator=(const ByteTracker&) = delete;

  // One frame: `boxes` holds n × (x1, y1, x2, y2), `scores` n. Writes to trackerIds[i] the id of the
  // track detection i was associated with (or started), or -1 when it has none: its score is too low
  // (at most 0.1, or not enough to start a track and nothing matched it), its box is degenerate (not
  // finite, or no width or height), or its track has no id yet: ids are given when a track is
  // confirmed, at once for a track started on the stream's first frame (with minimumConsecutiveFrames
  // 1), else on the frame of its minimumConsecutiveFrames-th match after its first frame. Ids start
  // at 1 and only grow, per tracker; a track that dies unconfirmed may have used one up.
  void Update(const float* boxes, const float* scores, size_t n, int32_t* trackerIds);
  std::vector<int32_t> Update(const std::vector<float>& boxes, const std::vector<float>& scores);

  // Forgets every track and starts ids and frames over (a new stream).
  void Reset();

  // For tests: the tracks being followed and those lost but kept, with their filtered boxes.
  size_t trackedCount() const { return tracked_.size(); }
  size_t lostCount() const { return lost_.size(); }
  std::vector<TrackedBox> trackedBoxes() const;
  int64_t maxTimeLost() const { return maxTimeLost_; }

 private:
  struct Track;
  struct Detection;

  Track* StartTrack(const Detection& d);
  void Match(Track* t, const Detection& d);
  void Refind(Track* t, const Detection& d);

  ByteTrackOptions options_;
  int64_t maxTimeLost_;
  int64_t frameId_ = 0;
  int64_t nextInternalId_ = 0;
  int32_t nextExternalId_ = 1;
  std::vector<std::unique_ptr<Track>> owned_;
  std::vector<Track*> tracked_;  // state tracked (confirmed or not), in supervision's list order
  std::vector<Track*> lost_;
};

}  // namespace ip
