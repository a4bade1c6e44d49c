// Tests of the ByteTrack tracker's parts and of the tracker on synthetic streams: the assignment
// solver against brute force and supervision's threshold semantics, the Kalman filter's sanity, and
// scenes whose right answer is known (straight lines, crossings, gaps, low confidence, confirmation).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/bytetrack.h"
#include "core/kalman_filter.h"
#include "core/linear_assignment.h"

#include "tests/check.h"

namespace {

using ip::Assignment;
using ip::BoxKalmanFilter;
using ip::ByteTracker;
using ip::ByteTrackOptions;
using ip_test::Check;

// ---- assignment -------------------------------------------------------------------------------

double TotalCost(const std::vector<double>& cost, int cols, const std::vector<int>& rowToCol) {
  double sum = 0;
  for (size_t i = 0; i < rowToCol.size(); ++i) {
    if (rowToCol[i] >= 0) sum += cost[i * size_t(cols) + size_t(rowToCol[i])];
  }
  return sum;
}

// The cheapest min(rows, cols) pairs, by trying every injection of the smaller side into the larger.
double BruteForceCost(const std::vector<double>& cost, int rows, int cols) {
  bool tall = rows > cols;
  int n = tall ? cols : rows, m = tall ? rows : cols;
  std::vector<int> perm(static_cast<size_t>(m));
  std::iota(perm.begin(), perm.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      int j = perm[size_t(i)];
      sum += tall ? cost[size_t(j) * size_t(cols) + size_t(i)] : cost[size_t(i) * size_t(cols) + size_t(j)];
    }
    best = std::min(best, sum);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

bool IsInjective(const std::vector<int>& rowToCol, int cols) {
  std::set<int> seen;
  for (int j : rowToCol) {
    if (j < -1 || j >= cols) return false;
    if (j >= 0 && !seen.insert(j).second) return false;
  }
  return true;
}

void TestAssignmentKnown() {
  // scipy's documented example: 0→1, 1→0, 2→2, total 5.
  std::vector<double> square = {4, 1, 3, 2, 0, 5, 3, 2, 2};
  std::vector<int> got = ip::SolveAssignment(square, 3, 3);
  Check(got == std::vector<int>({1, 0, 2}), "3 × 3: the known optimum");

  std::vector<double> wide = {10, 1, 10, 1, 10, 10};
  Check(ip::SolveAssignment(wide, 2, 3) == std::vector<int>({1, 0}), "2 × 3: each row to its cheap column");

  // 3 × 2: the best two rows are 1 and 2 (1 + 0.4), row 0 stays out.
  std::vector<double> tall = {5, 1, 1, 5, 0.5, 0.4};
  Check(ip::SolveAssignment(tall, 3, 2) == std::vector<int>({-1, 0, 1}), "3 × 2: one row left out");

  Check(ip::SolveAssignment({}, 0, 4).empty(), "0 rows: nothing");
  Check(ip::SolveAssignment({}, 2, 0) == std::vector<int>({-1, -1}), "0 columns: every row unassigned");

  // Against brute force on random rectangular matrices, ties included (integer costs).
  std::mt19937 gen(1234);
  bool optimal = true, injective = true, complete = true;
  for (int trial = 0; trial < 300; ++trial) {
    int rows = 1 + int(gen() % 6), cols = 1 + int(gen() % 6);
    std::vector<double> cost(size_t(rows * cols));
    for (double& c : cost) c = trial % 2 ? double(gen() % 5) : double(gen() % 10'000) / 1000.0;
    std::vector<int> r = ip::SolveAssignment(cost, rows, cols);
    int assigned = int(std::count_if(r.begin(), r.end(), [](int j) { return j >= 0; }));
    if (assigned != std::min(rows, cols)) complete = false;
    if (!IsInjective(r, cols)) injective = false;
    if (std::fabs(TotalCost(cost, cols, r) - BruteForceCost(cost, rows, cols)) > 1e-9) optimal = false;
  }
  Check(complete, "random: min(rows, cols) pairs");
  Check(injective, "random: no column twice");
  Check(optimal, "random: the brute-force optimum, square and rectangular");
}

void TestAssignmentThreshold() {
  Assignment a = ip::LinearAssignment({0.1, 0.9, 0.95, 0.2}, 2, 2, 0.5);
  Check(a.matches == std::vector<std::pair<int, int>>({{0, 0}, {1, 1}}), "threshold: both cheap pairs match");
  Check(a.unmatchedRows.empty() && a.unmatchedCols.empty(), "threshold: nothing left");

  // Unthresholded, 0→1 + 1→0 (0.7) beats 0→0 + 1→1 (5.1). Capping 5.0 at thresh + 1e-4 (as supervision
  // does) makes 0→0 + 1→1 the cheaper, and 1→1 is then refused: only 0→0 matches.
  a = ip::LinearAssignment({0.1, 0.3, 0.4, 5.0}, 2, 2, 0.5);
  Check(a.matches == std::vector<std::pair<int, int>>({{0, 0}}), "threshold: costs above it are capped first");
  Check(a.unmatchedRows == std::vector<int>({1}) && a.unmatchedCols == std::vector<int>({1}), "threshold: leftovers");

  a = ip::LinearAssignment({0.5, 0.6}, 1, 2, 0.5);
  Check(a.matches == std::vector<std::pair<int, int>>({{0, 0}}), "threshold: a cost equal to it matches");

  a = ip::LinearAssignment({0.9, 0.2, 0.4, 0.3, 0.7, 0.95}, 3, 2, 0.5);
  Check(a.matches == std::vector<std::pair<int, int>>({{0, 1}, {1, 0}}) && a.unmatchedRows == std::vector<int>({2}),
        "threshold: 3 × 2");

  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  a = ip::LinearAssignment({nan, 0.1, 0.2, inf}, 2, 2, 0.5);
  Check(a.matches == std::vector<std::pair<int, int>>({{0, 1}, {1, 0}}), "threshold: NaN and infinity never match");

  a = ip::LinearAssignment({}, 0, 3, 0.5);
  Check(a.matches.empty() && a.unmatchedCols == std::vector<int>({0, 1, 2}), "threshold: no rows");
  a = ip::LinearAssignment({}, 2, 0, 0.5);
  Check(a.unmatchedRows == std::vector<int>({0, 1}) && a.unmatchedCols.empty(), "threshold: no columns");
}

// ---- Kalman filter ----------------------------------------------------------------------------

bool Symmetric(const BoxKalmanFilter::Covariance& p) {
  for (int i = 0; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      if (std::fabs(p[size_t(i * 8 + j)] - p[size_t(j * 8 + i)]) > 1e-9 * (1 + std::fabs(p[size_t(i * 8 + j)]))) {
        return false;
      }
    }
  }
  return true;
}

void TestKalman() {
  BoxKalmanFilter::Mean mean;
  BoxKalmanFilter::Covariance cov;
  BoxKalmanFilter::Initiate({100, 50, 0.5, 40}, &mean, &cov);
  Check(mean[0] == 100 && mean[1] == 50 && mean[2] == 0.5 && mean[3] == 40 && mean[4] == 0 && mean[7] == 0,
        "initiate: position measured, velocity 0");
  // Position std 2 × 40 / 20 = 4 (variance 16); velocity std 10 × 40 / 160 = 2.5.
  Check(std::fabs(cov[0] - 16) < 1e-12 && std::fabs(cov[4 * 8 + 4] - 6.25) < 1e-12 && cov[1] == 0,
        "initiate: diagonal covariance scaled by the height");

  BoxKalmanFilter::Mean before = mean;
  double varBefore = cov[0];
  BoxKalmanFilter::Predict(&mean, &cov);
  Check(mean == before, "predict at rest: the box stays");
  // x's variance: 16 + 6.25 (velocity's, carried by the step) + (40 / 20)² (motion noise).
  Check(std::fabs(cov[0] - (varBefore + 6.25 + 4)) < 1e-9, "predict: uncertainty grows");
  Check(std::fabs(cov[4] - 6.25) < 1e-9 && Symmetric(cov), "predict: position and velocity become correlated");

  BoxKalmanFilter::Update({110, 50, 0.5, 40}, &mean, &cov);
  Check(mean[0] > 100 && mean[0] < 110, "update: between prediction and measurement");
  Check(mean[4] > 0, "update: moving right is learnt as a velocity");
  Check(cov[0] < varBefore + 10.25 && Symmetric(cov), "update: uncertainty shrinks, stays symmetric");

  // A box moving 5 px right and 2 px down per frame while growing 0.5 px a frame in height.
  BoxKalmanFilter::Initiate({0, 0, 0.5, 40}, &mean, &cov);
  for (int f = 1; f <= 60; ++f) {
    BoxKalmanFilter::Predict(&mean, &cov);
    BoxKalmanFilter::Update({5.0 * f, 2.0 * f, 0.5, 40 + 0.5 * f}, &mean, &cov);
  }
  Check(std::fabs(mean[4] - 5) < 0.1 && std::fabs(mean[5] - 2) < 0.1 && std::fabs(mean[7] - 0.5) < 0.05,
        "constant velocity: learnt");
  BoxKalmanFilter::Predict(&mean, &cov);
  Check(std::fabs(mean[0] - 305) < 1 && std::fabs(mean[1] - 122) < 1 && std::fabs(mean[3] - 70.5) < 0.5,
        "constant velocity: the next frame predicted");
  bool positive = true;
  for (int i = 0; i < 8; ++i) positive = positive && cov[size_t(i * 9)] > 0;
  Check(positive && Symmetric(cov), "constant velocity: covariance stays symmetric, positive diagonal");
}

// ---- tracker ----------------------------------------------------------------------------------

struct Obj {
  double x1, y1, x2, y2;
  float score;
};

std::vector<int32_t> Step(ByteTracker& t, const std::vector<Obj>& objs) {
  std::vector<float> boxes, scores;
  for (const Obj& o : objs) {
    boxes.insert(boxes.end(), {float(o.x1), float(o.y1), float(o.x2), float(o.y2)});
    scores.push_back(o.score);
  }
  return t.Update(boxes, scores);
}

Obj Box(double cx, double cy, double w, double h, float score = 0.9f) {
  return {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, score};
}

// No id held by two detections of one frame.
bool DistinctIds(const std::vector<int32_t>& ids) {
  std::set<int32_t> seen;
  for (int32_t id : ids) {
    if (id != -1 && !seen.insert(id).second) return false;
  }
  return true;
}

void TestStraightLines() {
  ByteTracker t;
  bool stable = true, distinct = true;
  std::vector<int32_t> first;
  for (int f = 0; f < 100; ++f) {
    std::vector<int32_t> ids = Step(t, {Box(50 + 3 * f, 100, 40, 80), Box(600 - 5 * f, 300 + 1.5 * f, 60, 60),
                                        Box(300, 500 - 2 * f, 30, 20, 0.6f)});
    if (f == 0) first = ids;
    stable = stable && ids == first;
    distinct = distinct && DistinctIds(ids);
  }
  Check(first == std::vector<int32_t>({1, 2, 3}), "straight lines: first-frame tracks get ids 1, 2, 3 at once");
  Check(stable, "straight lines: each keeps its id for 100 frames");
  Check(distinct && t.trackedCount() == 3 && t.lostCount() == 0, "straight lines: three tracks, none lost");
}

void TestCrossing() {
  // A tall box moving right and a small square moving left at a different speed cross at the same
  // height; in the middle the square lies wholly inside the tall box.
  ByteTracker t;
  bool stable = true, distinct = true;
  for (int f = 0; f < 100; ++f) {
    std::vector<int32_t> ids = Step(t, {Box(100 + 4 * f, 200, 50, 100), Box(500 - 3 * f, 210, 30, 30, 0.8f)});
    stable = stable && ids == std::vector<int32_t>({1, 2});
    distinct = distinct && DistinctIds(ids);
  }
  Check(stable && distinct, "crossing: both keep their ids through the crossing");

  // Same size, crossing with a vertical offset (overlapping by 15 of 40 px of height): each matches
  // its own prediction better than the other object's.
  ByteTracker u;
  stable = true;
  for (int f = 0; f < 80; ++f) {
    std::vector<int32_t> ids = Step(u, {Box(100 + 5 * f, 200, 40, 40), Box(500 - 5 * f, 225, 40, 40)});
    // Passed in either order, the answer follows the object.
    std::vector<int32_t> swapped =
        Step(u, {Box(500 - 5 * f - 2.5, 225, 40, 40), Box(100 + 5 * f + 2.5, 200, 40, 40)});
    stable = stable && ids == std::vector<int32_t>({1, 2}) && swapped == std::vector<int32_t>({2, 1});
  }
  Check(stable, "crossing: equal boxes with an offset keep their ids, whatever the input order");
}

// One object moving slowly, absent for `gap` frames, then back where its motion takes it: its id on
// the second frame back (a new track shows its id from its second frame).
int32_t IdAfterGap(int gap, const ByteTrackOptions& options = {}) {
  ByteTracker t(options);
  int f = 0;
  for (; f < 20; ++f) Step(t, {Box(100 + f, 100, 40, 40)});
  for (int k = 0; k < gap; ++k, ++f) Step(t, {});
  int32_t back = Step(t, {Box(100 + f, 100, 40, 40)})[0];
  ++f;
  int32_t id = Step(t, {Box(100 + f, 100, 40, 40)})[0];
  // Re-found: the id on the first frame back already; new: none on its first frame.
  return back == id || back == -1 ? id : -2;
}

void TestGaps() {
  ByteTracker t;
  Check(t.maxTimeLost() == 30, "30 fps, buffer 30: lost tracks kept 30 frames");
  Check(IdAfterGap(1) == 1, "gap of 1 frame: same id");
  Check(IdAfterGap(20) == 1, "gap of 20 frames: same id");
  Check(IdAfterGap(30) == 1, "gap of lostTrackBuffer frames: same id");
  // The old track is gone; the object's return starts a new one (id 2).
  Check(IdAfterGap(31) == 2, "gap of lostTrackBuffer + 1 frames: a new id");
  Check(IdAfterGap(45) == 2, "gap of 45 frames: a new id");

  ByteTrackOptions fast;
  fast.frameRate = 60;
  Check(ByteTracker(fast).maxTimeLost() == 60, "60 fps: buffer counts double");
  Check(IdAfterGap(45, fast) == 1, "60 fps: a gap of 45 frames keeps the id");
  ByteTrackOptions shortBuffer;
  shortBuffer.lostTrackBuffer = 5;
  shortBuffer.frameRate = 29.97;
  Check(ByteTracker(shortBuffer).maxTimeLost() == 4, "29.97 fps, buffer 5: int(4.995) = 4");
  Check(IdAfterGap(4, shortBuffer) == 1 && IdAfterGap(6, shortBuffer) == 2, "short buffer: kept 4 frames, not 6");

  // While lost, the track lives on: after the gap the tracker follows one object, not two.
  ByteTracker u;
  for (int f = 0; f < 10; ++f) Step(u, {Box(100, 100, 40, 40)});
  for (int f = 0; f < 5; ++f) Step(u, {});
  Check(u.trackedCount() == 0 && u.lostCount() == 1, "gap: the track is lost, not dropped");
  Step(u, {Box(100, 100, 40, 40)});
  Check(u.trackedCount() == 1 && u.lostCount() == 0, "gap: re-found");
  for (int f = 0; f < 31; ++f) Step(u, {});
  Check(u.trackedCount() == 0 && u.lostCount() == 0, "gap: dropped after the buffer");
}

void TestLowConfidence() {
  ByteTracker t;
  bool extended = true, neverStarts = true;
  for (int f = 0; f < 30; ++f) {
    // Object A fades to 0.2 (low: associated second) after 10 frames; B scores 0.2 throughout;
    // C scores 0.3, above the association threshold but below the 0.35 needed to start a track.
    float scoreA = f < 10 ? 0.9f : 0.2f;
    std::vector<int32_t> ids = Step(t, {Box(100 + 2 * f, 100, 40, 40, scoreA), Box(400, 400, 50, 50, 0.2f),
                                        Box(700, 100, 50, 50, 0.3f)});
    extended = extended && ids[0] == 1;
    neverStarts = neverStarts && ids[1] == -1 && ids[2] == -1;
  }
  Check(extended, "low confidence: a tracked object keeps its id while its score is low");
  Check(neverStarts, "low confidence: never starts a track (nor does a score below activation + 0.1)");
  Check(t.trackedCount() == 1, "low confidence: one track only");

  // At or below 0.1 a detection is ignored: the track goes lost, then comes back.
  std::vector<int32_t> ids = Step(t, {Box(160, 100, 40, 40, 0.1f)});
  Check(ids[0] == -1 && t.lostCount() == 1, "score 0.1: ignored, the track is lost");
  // A lost track is re-found only by confident detections.
  ids = Step(t, {Box(162, 100, 40, 40, 0.2f)});
  Check(ids[0] == -1 && t.lostCount() == 1, "low confidence: does not re-find a lost track");
  ids = Step(t, {Box(164, 100, 40, 40, 0.9f)});
  Check(ids[0] == 1 && t.lostCount() == 0, "a confident detection re-finds it, same id");

  // Exactly at the threshold counts as low (associated second), not as nothing.
  ByteTracker u;
  Step(u, {Box(100, 100, 40, 40)});
  ids = Step(u, {Box(101, 100, 40, 40, 0.25f)});
  Check(ids[0] == 1, "a score equal to trackActivationThreshold extends a track");
  // And a score of 0.35f (trackActivationThreshold + 0.1 in single precision) starts one.
  ByteTracker v;
  Check(Step(v, {Box(100, 100, 40, 40, 0.35f)})[0] == 1, "a score equal to activation + 0.1 starts a track");
}

void TestConfirmation() {
  // Default (1): a track started after the first frame shows its id from its second frame.
  ByteTracker t;
  std::vector<int32_t> ids = Step(t, {Box(100, 100, 40, 40)});
  Check(ids[0] == 1, "first frame: id at once");
  for (int f = 1; f < 4; ++f) Step(t, {Box(100, 100, 40, 40)});
  ids = Step(t, {Box(100, 100, 40, 40), Box(400, 100, 40, 40)});
  Check(ids == std::vector<int32_t>({1, -1}), "later: an unconfirmed track holds no id yet");
  ids = Step(t, {Box(100, 100, 40, 40), Box(401, 100, 40, 40)});
  Check(ids == std::vector<int32_t>({1, 2}), "its second frame confirms it: id 2");
  // One frame only: dropped unconfirmed (its id was used up, as in supervision).
  ids = Step(t, {Box(100, 100, 40, 40), Box(401, 100, 40, 40), Box(700, 300, 40, 40)});
  Check(ids == std::vector<int32_t>({1, 2, -1}), "a third object: no id on its first frame");
  Step(t, {Box(100, 100, 40, 40), Box(401, 100, 40, 40)});
  ids = Step(t, {Box(100, 100, 40, 40), Box(401, 100, 40, 40), Box(700, 300, 40, 40)});
  Check(ids == std::vector<int32_t>({1, 2, -1}), "seen again after a gap: a new unconfirmed track");
  ids = Step(t, {Box(100, 100, 40, 40), Box(401, 100, 40, 40), Box(700, 300, 40, 40)});
  Check(ids == std::vector<int32_t>({1, 2, 4}), "confirmed: id 4 (3 went with the dropped track)");

  // minimumConsecutiveFrames 3: ids after three matches past the first frame, from the first frame too.
  ByteTrackOptions o;
  o.minimumConsecutiveFrames = 3;
  ByteTracker u(o);
  std::vector<std::vector<int32_t>> seen;
  for (int f = 0; f < 8; ++f) {
    std::vector<Obj> objs = {Box(100 + f, 100, 40, 40)};
    if (f >= 2) objs.push_back(Box(400, 100 + f, 40, 40));
    seen.push_back(Step(u, objs));
  }
  bool firstLate = seen[0][0] == -1 && seen[1][0] == -1 && seen[2][0] == -1 && seen[3][0] == 1 && seen[7][0] == 1;
  Check(firstLate, "minimumConsecutiveFrames 3: a first-frame track gets its id on its 4th frame");
  bool secondLate = seen[2][1] == -1 && seen[3][1] == -1 && seen[4][1] == -1 && seen[5][1] == 2 && seen[7][1] == 2;
  Check(secondLate, "minimumConsecutiveFrames 3: a later track too, and ids are not used up while waiting");

  // A flicker (one frame) never gets an id.
  ByteTracker w(o);
  bool none = true;
  for (int f = 0; f < 10; ++f) {
    std::vector<Obj> objs;
    if (f % 2 == 0) objs.push_back(Box(100, 100, 40, 40));
    for (int32_t id : Step(w, objs)) none = none && id == -1;
  }
  Check(none, "minimumConsecutiveFrames 3: a flickering detection never gets an id");
}

void TestResetAndInstances() {
  ByteTracker a, b;
  Step(a, {Box(100, 100, 40, 40), Box(300, 100, 40, 40)});
  std::vector<int32_t> ids = Step(b, {Box(500, 500, 40, 40)});
  Check(ids[0] == 1, "ids are per tracker: a second one starts at 1 too");
  for (int f = 0; f < 5; ++f) Step(a, {Box(100, 100, 40, 40), Box(300, 100, 40, 40)});
  a.Reset();
  Check(a.trackedCount() == 0 && a.lostCount() == 0, "reset: no tracks");
  ids = Step(a, {Box(300, 100, 40, 40)});
  Check(ids[0] == 1, "reset: ids start over, and the next frame is a first frame again");
}

void TestOddInput() {
  ByteTracker t;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<int32_t> ids = t.Update({10, 10, 10, 50, 0, 0, 5, 5, 10, 10, 20, 20, nan, 0, 5, 5, 0, 0, 5, 5},
                                      {0.9f, 0.9f, nan, 0.9f, -1.f});
  Check(ids == std::vector<int32_t>({-1, 1, -1, -1, -1}),
        "zero-width box, NaN score, NaN coordinate, negative score: -1; a good box still tracked");
  Check(t.Update({}, {}).empty(), "an empty frame");
  bool threw = false;
  try {
    t.Update({1, 2, 3}, {0.5f});
  } catch (const std::exception&) {
    threw = true;
  }
  Check(threw, "boxes that are not 4 per score are refused");
  threw = false;
  try {
    ByteTrackOptions bad;
    bad.frameRate = 0;
    ByteTracker invalid(bad);
  } catch (const std::exception&) {
    threw = true;
  }
  Check(threw, "frameRate 0 is refused");
}

// Many objects on random walks plus clutter: the invariants hold and nothing breaks (for the sanitizers).
void TestRandomScene() {
  std::mt19937 gen(99);
  auto uniform = [&](double lo, double hi) { return lo + (hi - lo) * double(gen()) / 4294967296.0; };
  struct Walker {
    double cx, cy, vx, vy, w, h;
  };
  std::vector<Walker> walkers;
  for (int i = 0; i < 40; ++i) {
    walkers.push_back({uniform(0, 1920), uniform(0, 1080), uniform(-6, 6), uniform(-4, 4), uniform(20, 120),
                       uniform(20, 160)});
  }
  ByteTracker t;
  bool distinct = true, growing = true;
  int32_t maxId = 0;
  int32_t prevMax = 0;
  for (int f = 0; f < 300; ++f) {
    std::vector<Obj> objs;
    for (Walker& w : walkers) {
      w.cx += w.vx;
      w.cy += w.vy;
      if (w.cx < 0 || w.cx > 1920) w.vx = -w.vx;
      if (w.cy < 0 || w.cy > 1080) w.vy = -w.vy;
      if (gen() % 10 == 0) continue;  // missed now and then
      objs.push_back(Box(w.cx + uniform(-2, 2), w.cy + uniform(-2, 2), w.w, w.h, float(uniform(0.05, 1.0))));
    }
    for (int k = 0; k < 5; ++k) {
      objs.push_back(Box(uniform(0, 1920), uniform(0, 1080), uniform(5, 300), uniform(5, 300), float(uniform(0, 1))));
    }
    std::shuffle(objs.begin(), objs.end(), gen);
    std::vector<int32_t> ids = Step(t, objs);
    distinct = distinct && DistinctIds(ids);
    for (int32_t id : ids) maxId = std::max(maxId, id);
    growing = growing && maxId >= prevMax;
    prevMax = maxId;
  }
  Check(distinct, "random scene: no id twice in a frame");
  Check(growing && maxId >= 40, "random scene: ids grow, at least one per walker");
  Check(t.trackedCount() + t.lostCount() < 200, "random scene: tracks do not pile up");
}

}  // namespace

void RunByteTrackTests() {
  TestAssignmentKnown();
  TestAssignmentThreshold();
  TestKalman();
  TestStraightLines();
  TestCrossing();
  TestGaps();
  TestLowConfidence();
  TestConfirmation();
  TestResetAndInstances();
  TestOddInput();
  TestRandomScene();
}
