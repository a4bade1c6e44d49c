// Deterministic tests of the latency statistics: bucket layout, percentiles against sorted samples,
// the Prometheus bounds, the sliding window's ageing (time is moved by hand) and ModelStats' snapshot,
// plus a check that recording from two threads loses nothing (and a report of what recording costs).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/latency_histogram.h"
#include "core/model_stats.h"
#include "core/sliding_window.h"

#include "tests/check.h"

namespace {

using ip::LatencyHistogram;
using ip_test::Check;
using TimePoint = std::chrono::steady_clock::time_point;

TimePoint At(double seconds) {
  // Far from the clock's epoch, as a real steady_clock reading is.
  return TimePoint{} + std::chrono::hours(1000) +
         std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(seconds));
}

void TestBucketLayout() {
  bool contiguous = true, roundTrip = true, narrow = true;
  for (int i = 0; i < LatencyHistogram::kBuckets; ++i) {
    int64_t lo = LatencyHistogram::LowerUs(i), hi = LatencyHistogram::UpperUs(i);
    if (i + 1 < LatencyHistogram::kBuckets && hi != LatencyHistogram::LowerUs(i + 1)) contiguous = false;
    if (LatencyHistogram::BucketOf(lo) != i || LatencyHistogram::BucketOf(hi - 1) != i) roundTrip = false;
    // At most 1 µs or 6.25 % of the bucket's lower bound wide.
    if (hi - lo > std::max<int64_t>(1, lo / 16)) narrow = false;
  }
  Check(LatencyHistogram::LowerUs(0) == 0, "the first bucket starts at 0 µs");
  Check(contiguous, "each bucket ends where the next begins");
  Check(roundTrip, "BucketOf maps both ends of every bucket back to it");
  Check(narrow, "every bucket is at most max(1 µs, 6.25 %) wide");
  Check(LatencyHistogram::BucketOf(10) == 10 && LatencyHistogram::UpperUs(10) == 11, "10 µs has a 1 µs bucket");
  Check(LatencyHistogram::BucketOf(300'000'000) < LatencyHistogram::kBuckets - 1, "5 minutes is below the last bucket");
  Check(LatencyHistogram::BucketOf(int64_t(1) << 40) == LatencyHistogram::kBuckets - 1, "longer lands in the last");
  Check(LatencyHistogram::BucketOf(-5) == 0, "a negative duration counts as 0");
}

// Log-uniform durations from 1 µs to 100 s, from raw mt19937 output (its sequence is fixed by the
// standard, unlike the <random> distributions').
std::vector<int64_t> Samples(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::vector<int64_t> out(n);
  for (auto& v : out) v = int64_t(std::exp(double(gen()) / 4294967296.0 * std::log(1e8)));
  return out;
}

int64_t NearestRank(std::vector<int64_t> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  double rank = std::ceil(q * double(sorted.size()));
  return sorted[size_t(std::clamp(rank, 1.0, double(sorted.size()))) - 1];
}

void TestPercentiles() {
  LatencyHistogram empty;
  Check(empty.PercentileUs(0.5) == 0 && empty.maxUs() == 0 && empty.count() == 0, "an empty histogram reads 0");

  LatencyHistogram one;
  one.Add(123'456);
  Check(one.PercentileUs(0.5) == 123'456 && one.PercentileUs(0.99) == 123'456, "one sample: every percentile is it");

  for (size_t n : {2, 7, 100, 1000, 5000}) {
    auto samples = Samples(n, uint32_t(n));
    LatencyHistogram h;
    for (int64_t v : samples) h.Add(v);
    bool ok = true;
    for (double q : {0.01, 0.5, 0.9, 0.99, 1.0}) {
      int64_t truth = NearestRank(samples, q);
      int b = LatencyHistogram::BucketOf(truth);
      double halfWidth = double(LatencyHistogram::UpperUs(b) - LatencyHistogram::LowerUs(b)) / 2.0;
      double got = h.PercentileUs(q);
      if (std::fabs(got - double(truth)) > halfWidth) {
        ok = false;
        std::printf("    n=%zu q=%g: histogram %.1f, samples %lld\n", n, q, got, (long long)truth);
      }
    }
    Check(ok, "percentiles within half a bucket of the nearest-rank sample, n = " + std::to_string(n));
    Check(h.maxUs() == *std::max_element(samples.begin(), samples.end()), "max is exact, n = " + std::to_string(n));
    Check(h.PercentileUs(1.0) == double(h.maxUs()), "p100 is the max, n = " + std::to_string(n));
    Check(h.count() == n, "count, n = " + std::to_string(n));
  }

  // Merging two halves answers what one histogram of everything answers.
  auto samples = Samples(999, 7);
  LatencyHistogram all, a, b;
  for (size_t i = 0; i < samples.size(); ++i) {
    all.Add(samples[i]);
    (i % 2 ? a : b).Add(samples[i]);
  }
  a.Merge(b);
  bool same = a.count() == all.count() && a.maxUs() == all.maxUs() && a.minUs() == all.minUs();
  for (double q : {0.1, 0.5, 0.9, 0.99}) same = same && a.PercentileUs(q) == all.PercentileUs(q);
  Check(same, "merge equals recording everything into one");
  a.Clear();
  Check(a.count() == 0 && a.PercentileUs(0.5) == 0, "clear empties");
}

void TestLatencyBounds() {
  Check(ip::kLatencyBoundsMs.front() == 1 && std::isinf(ip::kLatencyBoundsMs.back()), "bounds run from 1 ms to +Inf");
  Check(std::is_sorted(ip::kLatencyBoundsMs.begin(), ip::kLatencyBoundsMs.end()), "bounds ascend");
  Check(ip::LatencyBoundOf(0) == 0 && ip::LatencyBoundOf(999) == 0, "under 1 ms: first bound");
  // A recorded 1000 µs stands for [1000, 1001) µs: above 1 ms.
  Check(ip::LatencyBoundOf(1000) == 1 && ip::LatencyBoundOf(2499) == 1, "1000 to 2499 µs: the 2.5 ms bound");
  Check(ip::LatencyBoundOf(59'999'999) == 14, "just under 60 s: the 60000 ms bound");
  Check(ip::LatencyBoundOf(60'000'000) == 15 && ip::LatencyBoundOf(int64_t(1) << 50) == 15, "beyond: +Inf");
}

struct CountSlot {
  int n = 0;
  void Clear() { n = 0; }
};

int LiveSum(const ip::SlidingWindow<CountSlot>& w, TimePoint t) {
  int sum = 0;
  w.ForEachLive(t, [&](const CountSlot& s) { sum += s.n; });
  return sum;
}

void TestSlidingWindow() {
  ip::SlidingWindow<CountSlot> w(std::chrono::seconds(1), 3);
  Check(w.length() == std::chrono::seconds(3), "window length = slots × slot length");
  Check(LiveSum(w, At(0)) == 0, "a new window is empty");
  w.At(At(0.5)).n += 1;
  w.At(At(1.5)).n += 10;
  w.At(At(2.5)).n += 100;
  Check(LiveSum(w, At(2.9)) == 111, "three slots live");
  Check(LiveSum(w, At(3.1)) == 110, "the oldest slot ages out");
  Check(LiveSum(w, At(4.0)) == 100, "and the next");
  Check(LiveSum(w, At(10)) == 0, "all aged out");
  // The ring comes back to the first slot: it is cleared, not added to.
  w.At(At(3.2)).n += 1000;
  Check(LiveSum(w, At(3.3)) == 1110, "a reused slot starts empty");
  // A reading from before the samples (another thread's older clock) sees nothing from the future.
  Check(LiveSum(w, At(1.2)) == 10, "slots newer than the reading are not counted");
}

void TestModelStats() {
  ip::ModelStats stats(4);
  TimePoint t0 = At(0);
  // 100 requests at priority 0: total i ms; 10 at priority 3: total 500 ms.
  for (int i = 1; i <= 100; ++i) stats.AddCompletedAt(100, 200, 300, 400, i * 1000, 0, t0);
  for (int i = 0; i < 10; ++i) stats.AddCompletedAt(100, 200, 300, 400, 500'000, 3, t0);
  stats.AddFailed();
  stats.AddExpired();
  stats.AddExpired();
  stats.AddRejected();
  stats.AddRequest();
  stats.AddBatch(4);

  ip::ModelStatsSnapshot s = stats.SnapshotAt(t0 + std::chrono::seconds(1));
  Check(s.completed == 110 && s.failed == 1 && s.expired == 2 && s.rejected == 1, "counters");
  Check(s.requests == 1 && s.batches == 1 && s.batchSizeHistogram.size() == 5 && s.batchSizeHistogram[4] == 1,
        "the older counters are kept");
  Check(std::fabs(s.meanQueueMs - 0.1) < 1e-12 && std::fabs(s.meanPostprocessMs - 0.4) < 1e-12, "means");
  Check(s.queue.p50 == 0.1 && s.queue.max == 0.1 && s.inference.p99 == 0.3, "constant stages: exact percentiles");
  Check(s.total.max == 500, "total max");
  // Nearest rank over 110 totals: p50 = rank 55 = 55 ms; p90 = rank 99 = 99 ms; p99 = rank 109 = 500 ms.
  auto near = [](double got, double want) { return std::fabs(got - want) <= want / 32; };
  Check(near(s.total.p50, 55) && near(s.total.p90, 99) && near(s.total.p99, 500), "total percentiles");

  const auto& total = s.histograms.total.counts;
  Check(total.size() == ip::kLatencyBoundsMs.size(), "one cumulative count per bound");
  Check(std::is_sorted(total.begin(), total.end()), "cumulative counts never decrease");
  Check(total.back() == s.completed && s.histograms.total.count == s.completed, "the +Inf count is `completed`");
  // ≤ 1 ms: none (1000 µs is above); ≤ 2.5: 1 and 2 ms; ≤ 100: 1..99 ms; ≤ 500: none more; ≤ 1000: all.
  Check(total[0] == 0 && total[1] == 2 && total[6] == 99 && total[8] == 100 && total[9] == 110,
        "cumulative counts per bound");
  Check(s.histograms.total.sumMs == 5050 + 5000, "sum of totals");
  // The stages were constant (100 to 400 µs): every request under the first bound.
  for (const ip::CumulativeHistogram* h :
       {&s.histograms.queue, &s.histograms.preprocess, &s.histograms.inference, &s.histograms.postprocess}) {
    Check(h->count == 110 && h->counts.front() == 110 && h->counts.back() == 110, "constant stages: first bound");
  }
  Check(std::fabs(s.histograms.queue.sumMs - 11) < 1e-9 && std::fabs(s.histograms.postprocess.sumMs - 44) < 1e-9,
        "stage sums");

  Check(s.priorities.size() == 2 && s.priorities[0].completed == 100 && s.priorities[3].completed == 10,
        "completed per priority");
  Check(near(s.priorities[0].p50, 50) && near(s.priorities[0].p99, 99), "priority 0 percentiles");
  Check(s.priorities[3].p50 == 500 && s.priorities[3].p99 == 500, "priority 3 percentiles");

  // A minute later the window is empty; the all-time figures stay.
  ip::ModelStatsSnapshot late = stats.SnapshotAt(t0 + std::chrono::seconds(61));
  Check(late.total.p50 == 0 && late.total.max == 0 && late.queue.p99 == 0, "the window ages out");
  Check(late.completed == 110 && late.histograms.total.counts.back() == 110 && late.meanQueueMs == s.meanQueueMs,
        "all-time figures do not age");
  Check(late.priorities[3].completed == 10 && late.priorities[3].p50 == 0, "a quiet priority keeps its count only");

  // 30 s later, a new sample: the window holds it alone.
  stats.AddCompletedAt(1, 2, 3, 4, 7, 0, t0 + std::chrono::seconds(90));
  ip::ModelStatsSnapshot later = stats.SnapshotAt(t0 + std::chrono::seconds(91));
  Check(later.total.p50 == 0.007 && later.total.max == 0.007 && later.priorities[0].p99 == 0.007,
        "the window holds only recent samples");
  Check(later.histograms.total.counts[0] == 1 && later.histograms.queue.counts[0] == 111 && later.completed == 111,
        "and the all-time histograms grow");

  ip::ModelStats fresh(1);
  ip::ModelStatsSnapshot none = fresh.Snapshot();
  Check(none.completed == 0 && none.histograms.total.counts.back() == 0 && none.priorities.empty() &&
            none.total.p99 == 0,
        "a fresh model reads all zeros");
  bool empty = true;
  for (const ip::CumulativeHistogram* h : {&none.histograms.queue, &none.histograms.preprocess,
                                           &none.histograms.inference, &none.histograms.postprocess,
                                           &none.histograms.total}) {
    empty = empty && h->count == 0 && h->sumMs == 0 &&
            std::all_of(h->counts.begin(), h->counts.end(), [](uint64_t c) { return c == 0; });
  }
  Check(empty, "and so do its all-time histograms");
}

// Each stage has an all-time histogram of its own, with the same bounds as the total's.
void TestStageHistograms() {
  ip::ModelStats stats(1);
  TimePoint t0 = At(0);
  // Queue 0 to 9 ms; preprocess exactly 2.5 ms (recorded 2500 µs stands for [2500, 2501) µs: above the
  // 2.5 ms bound); inference beyond 60 s; postprocess 0.
  for (int i = 0; i < 10; ++i) stats.AddCompletedAt(i * 1000, 2500, 60'000'000 + i, 0, 61'000'000, 0, t0);
  // Read after the window has aged out: the all-time histograms do not age.
  ip::ModelStatsSnapshot s = stats.SnapshotAt(t0 + std::chrono::seconds(120));
  const ip::StageHistograms& h = s.histograms;
  Check(s.completed == 10 && h.queue.count == 10 && h.preprocess.count == 10 && h.inference.count == 10 &&
            h.postprocess.count == 10 && h.total.count == 10,
        "every stage's count is `completed`");
  // Queue: 0 ms under 1; 1 and 2 ms under 2.5; 3 and 4 under 5; 5 to 9 under 10.
  Check(h.queue.counts[0] == 1 && h.queue.counts[1] == 3 && h.queue.counts[2] == 5 && h.queue.counts[3] == 10 &&
            h.queue.counts.back() == 10,
        "queue: cumulative per bound");
  Check(h.preprocess.counts[1] == 0 && h.preprocess.counts[2] == 10, "preprocess: exactly 2.5 ms counts above 2.5");
  Check(h.inference.counts[14] == 0 && h.inference.counts[15] == 10, "inference: beyond 60 s only under +Inf");
  Check(h.postprocess.counts[0] == 10, "postprocess: all under the first bound");
  Check(h.total.counts[14] == 0 && h.total.counts[15] == 10, "total: its own figures");
  bool sorted = true;
  for (const ip::CumulativeHistogram* c : {&h.queue, &h.preprocess, &h.inference, &h.postprocess, &h.total}) {
    sorted = sorted && std::is_sorted(c->counts.begin(), c->counts.end()) && c->counts.back() == c->count;
  }
  Check(sorted, "every stage cumulative, ending at its count");
  Check(h.queue.sumMs == 45 && h.preprocess.sumMs == 25 && h.postprocess.sumMs == 0 && h.total.sumMs == 610'000,
        "stage sums");
  Check(std::fabs(h.inference.sumMs - 600'000.045) < 1e-6, "inference sum, to the microsecond");
  Check(s.meanQueueMs == 4.5 && s.meanPreprocessMs == 2.5, "the means agree with the sums");
}

// Two threads record at once (as two postprocess threads do): nothing is lost, and one recording
// costs well under 1 µs.
void TestConcurrentRecording() {
  ip::ModelStats stats(8);
  const int perThread = 200'000;
  auto record = [&](int priority) {
    for (int i = 0; i < perThread; ++i) stats.AddCompleted(i % 977, 50, 2000 + i % 31, 20, 3000 + i % 4999, priority);
  };
  auto start = std::chrono::steady_clock::now();
  std::thread a(record, 0), b(record, 1);
  a.join();
  b.join();
  double twoThreadsNs =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / (2.0 * perThread);
  ip::ModelStatsSnapshot s = stats.Snapshot();
  Check(s.completed == 2u * perThread && s.histograms.total.counts.back() == 2u * perThread &&
            s.histograms.queue.counts.back() == 2u * perThread && s.histograms.inference.count == 2u * perThread,
        "no recording is lost");
  Check(s.priorities[0].completed == perThread && s.priorities[1].completed == perThread, "per priority too");

  ip::ModelStats single(8);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < perThread; ++i) single.AddCompleted(i % 977, 50, 2000 + i % 31, 20, 3000 + i % 4999, 0);
  double oneThreadNs =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / perThread;
  auto snapStart = std::chrono::steady_clock::now();
  single.Snapshot();
  double snapshotUs =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - snapStart).count();
  std::printf("  AddCompleted: %.0f ns alone, %.0f ns per call with two threads; Snapshot: %.0f us\n", oneThreadNs,
              twoThreadsNs, snapshotUs);
  // Speed is reported, not asserted: a sanitized or loaded build is many times slower.
}

}  // namespace

void RunLatencyHistogramTests() {
  TestBucketLayout();
  TestPercentiles();
  TestLatencyBounds();
  TestSlidingWindow();
  TestModelStats();
  TestStageHistograms();
  TestConcurrentRecording();
}
