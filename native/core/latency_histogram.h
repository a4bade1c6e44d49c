// Latency histograms for pool.stats(): a log-bucketed histogram that answers percentiles, and the fixed
// Prometheus-style upper bounds the all-time per-stage latency histograms are published with.
//
// Values are whole microseconds, truncated from finer clock readings, so a recorded t stands for a
// real duration in [t, t + 1) µs. Buckets are half-open [lower, upper) µs ranges on that grid, which
// keeps the truncation from ever moving a duration into the wrong bucket.
#pragma once

#include <array>
#include <cstdint>
#include <limits>

namespace ip {

class LatencyHistogram {
 public:
  // One bucket per microsecond below 16 µs, then 16 buckets per power of two (each at most 1/16 =
  // 6.25 % of its lower bound wide) up to 2^29 µs (about 9 minutes); longer durations share the last
  // bucket, whose percentiles the exact maximum then bounds.
  static constexpr int kSubBits = 4;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kMaxExponent = 28;
  static constexpr int kBuckets = kSub + kSub * (kMaxExponent - kSubBits + 1);

  static int BucketOf(int64_t us);
  static int64_t LowerUs(int bucket);
  static int64_t UpperUs(int bucket);  // exclusive

  void Add(int64_t us);
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  int64_t minUs() const { return count_ ? min_ : 0; }
  int64_t maxUs() const { return count_ ? max_ : 0; }
  // Nearest-rank percentile (q in (0, 1]): the sample of rank ceil(q · count) lies in some bucket; the
  // answer is that bucket's midpoint, clamped to the recorded minimum and maximum (which can only bring
  // it closer to the sample), or the exact minimum or maximum when the rank is the first or the last.
  // So it is within half a bucket's width of the true value. 0 when empty.
  double PercentileUs(double q) const;

 private:
  // 32 bits per bucket: a histogram holds at most a minute of one model's requests.
  std::array<uint32_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t min_ = 0, max_ = 0;
};

// Upper bounds, in milliseconds, of the all-time cumulative latency histograms (one per stage, and the
// total; all share these bounds); the last is +Infinity. Chosen for Prometheus (`le` labels) so an
// exporter copies them as they are.
inline constexpr std::array<double, 16> kLatencyBoundsMs = {
    1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
    std::numeric_limits<double>::infinity()};

// Index of the first bound a recorded duration of `us` is under. A recorded t stands for [t, t + 1) µs,
// which lies below B ms (B · 1000 µs) when t < B · 1000 and above it otherwise (only a duration of
// exactly B ms, to the nanosecond, would be counted one bucket up).
int LatencyBoundOf(int64_t us);

}  // namespace ip
