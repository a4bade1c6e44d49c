#include "core/latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace ip {

// Bucket index from the value's bits: its highest set bit picks the power of two, the next kSubBits
// bits the sixteenth within it. Integer only, so the boundaries are exact and recording is cheap.
int LatencyHistogram::BucketOf(int64_t us) {
  if (us < kSub) return us < 0 ? 0 : int(us);
  int exponent = 63 - __builtin_clzll(uint64_t(us));
  if (exponent > kMaxExponent) return kBuckets - 1;
  int shift = exponent - kSubBits;
  int sub = int(uint64_t(us) >> shift) & (kSub - 1);
  return kSub + shift * kSub + sub;
}

int64_t LatencyHistogram::LowerUs(int bucket) {
  if (bucket < kSub) return bucket;
  int shift = (bucket - kSub) / kSub;
  int sub = (bucket - kSub) % kSub;
  return int64_t(kSub + sub) << shift;
}

int64_t LatencyHistogram::UpperUs(int bucket) {
  if (bucket < kSub) return bucket + 1;
  int shift = (bucket - kSub) / kSub;
  int sub = (bucket - kSub) % kSub;
  return int64_t(kSub + sub + 1) << shift;
}

void LatencyHistogram::Add(int64_t us) {
  if (us < 0) us = 0;  // a steady clock never goes back; this only keeps min/max meaningful
  ++counts_[BucketOf(us)];
  if (count_ == 0 || us < min_) min_ = us;
  if (count_ == 0 || us > max_) max_ = us;
  ++count_;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = count_ ? std::max(max_, other.max_) : other.max_;
  count_ += other.count_;
}

void LatencyHistogram::Clear() { *this = LatencyHistogram(); }

double LatencyHistogram::PercentileUs(double q) const {
  if (count_ == 0) return 0;
  // The same rank a JS check computes: sorted[Math.ceil(q * n) - 1].
  double rank = std::ceil(q * double(count_));
  uint64_t target = uint64_t(std::clamp(rank, 1.0, double(count_)));
  // The extremes are known exactly.
  if (target == 1) return double(min_);
  if (target == count_) return double(max_);
  uint64_t seen = 0;
  int bucket = kBuckets - 1;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= target) {
      bucket = i;
      break;
    }
  }
  double mid = (double(LowerUs(bucket)) + double(UpperUs(bucket))) / 2.0;
  return std::clamp(mid, double(min_), double(max_));
}

int LatencyBoundOf(int64_t us) {
  const int last = int(kLatencyBoundsMs.size()) - 1;
  for (int i = 0; i < last; ++i) {
    if (double(us) < kLatencyBoundsMs[i] * 1000.0) return i;
  }
  return last;
}

}  // namespace ip
