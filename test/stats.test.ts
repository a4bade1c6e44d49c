// pool.stats(): the windowed latency percentiles agree with the `time` every result reports (within
// a histogram bucket), the counters add up, the all-time latency histograms (each stage's and the
// total's) are cumulative, end at `completed` and count each result's own `time` under the right
// bound, and per-priority figures exist for level 0. (Requests cannot carry a priority yet, so only
// level 0 is checked; the window's ageing is covered by the C++ tests, which move time by hand.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { LatencySummary, ModelSpec, RawImage, Timings } from '../lib/index.ts';
import { encodePng, noise, picture, toRaw } from './helpers/images.ts';
import { modelPath, MODELS, rejectsWith, waitFor } from './helpers/models.ts';

const mean: ModelSpec = { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' };

const BOUNDS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, Infinity];
const STAGES: (keyof Timings)[] = ['queue', 'preprocess', 'inference', 'postprocess', 'total'];

/** Nearest rank, as the README documents: the sample of rank ceil(q · n). */
function percentile(sorted: number[], q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/**
 * How far a reported percentile may be from the samples' own: one bucket's width (1 µs below 16 µs,
 * else at most 1/16 of the value), plus 1 µs because the pool records whole microseconds.
 */
function tolerance(ms: number): number {
  return Math.max(0.001, ms / 16) + 0.001;
}

function assertNear(got: number, want: number, what: string): void {
  assert.ok(Math.abs(got - want) <= tolerance(want), `${what}: stats ${got} ms, results ${want} ms`);
}

/** Images from 8×8 to 1600×1200 px, so preprocessing (and with it queueing) times spread over decades. */
function images(): (RawImage | Uint8Array)[] {
  return [
    toRaw(noise(8, 8, 1)),
    toRaw(noise(64, 48, 2)),
    toRaw(picture(300, 200, 3)),
    toRaw(picture(800, 600, 4)),
    toRaw(picture(1600, 1200, 5)),
    encodePng(picture(640, 480, 6)),
  ];
}

test('latency percentiles match the results’ own times within a bucket; counters and histogram add up', async () => {
  const pool = await InferencePool.create({ models: [mean], maxBatchSize: 8 });
  try {
    const inputs = images();
    const times: Timings[] = [];
    // Bursts of 1 to 40 concurrent requests, so queueing varies from none to a long line.
    let seed = 12345;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const n = 400;
    while (times.length < n) {
      const burst = Math.min(n - times.length, 1 + next(40));
      const results = await Promise.all(
        Array.from({ length: burst }, () => pool.infer(inputs[next(inputs.length)]!, 'mean')),
      );
      for (const r of results) times.push(r.time);
    }

    const s = pool.stats().mean!;
    assert.is(s.requests, n);
    assert.is(s.completed, n);
    assert.is(s.failed, 0);
    assert.is(s.expired, 0);
    assert.is(s.rejected, 0);
    assert.is(s.inFlight, 0, 'nothing is in flight once every promise has settled');

    for (const stage of STAGES) {
      const sorted = times.map((t) => t[stage]).sort((a, b) => a - b);
      const got: LatencySummary = s.latencyMs[stage];
      assertNear(got.p50, percentile(sorted, 0.5), `${stage} p50`);
      assertNear(got.p90, percentile(sorted, 0.9), `${stage} p90`);
      assertNear(got.p99, percentile(sorted, 0.99), `${stage} p99`);
      const max = sorted[sorted.length - 1]!;
      assert.ok(Math.abs(got.max - max) <= 0.0011, `${stage} max: stats ${got.max} ms, results ${max} ms`);
      assert.ok(got.p50 <= got.p90 && got.p90 <= got.p99 && got.p99 <= got.max, `${stage} percentiles in order`);
    }
    // The spread the images were chosen for: otherwise the comparison above proves little.
    const total = s.latencyMs.total;
    assert.ok(total.p99 > 2 * total.p50 || total.max > 4 * total.p50, `totals spread: ${JSON.stringify(total)}`);

    const means: [number, keyof Timings][] = [
      [s.meanQueueMs, 'queue'],
      [s.meanPreprocessMs, 'preprocess'],
      [s.meanInferenceMs, 'inference'],
      [s.meanPostprocessMs, 'postprocess'],
    ];
    for (const [got, stage] of means) {
      const want = times.reduce((sum, t) => sum + t[stage], 0) / n;
      assert.ok(Math.abs(got - want) <= 0.0011, `mean ${stage}: stats ${got}, results ${want}`);
    }

    // The all-time histograms: one per stage plus the total, read from the same snapshot.
    assert.equal(Object.keys(s.histograms).sort(), [...STAGES].sort());
    assert.equal(s.histogram, s.histograms.total, '`histogram` is `histograms.total`, kept for compatibility');
    assert.is.not(s.histogram, s.histograms.total, 'as a copy: changing one leaves the other');
    for (const stage of STAGES) {
      const h = s.histograms[stage];
      assert.equal(h.bucketsMs, BOUNDS_MS, `${stage} bounds`);
      assert.is(h.counts.length, h.bucketsMs.length);
      for (let i = 1; i < h.counts.length; i++) {
        assert.ok(h.counts[i]! >= h.counts[i - 1]!, `${stage} counts are cumulative`);
      }
      assert.is(h.counts[h.counts.length - 1], s.completed, `${stage}: the +Inf count is \`completed\``);
      assert.is(h.count, s.completed, `${stage} count`);
      const own = times.map((t) => t[stage]);
      h.bucketsMs.forEach((bound, i) => {
        assert.is(h.counts[i], own.filter((t) => t <= bound).length, `${stage}: requests of at most ${bound} ms`);
      });
      // Whole microseconds, truncated: each recorded time is up to 1 µs under the result's.
      const sum = own.reduce((a, b) => a + b, 0);
      assert.ok(h.sumMs <= sum + 1e-6 && sum - h.sumMs <= n * 0.001, `${stage} sumMs ${h.sumMs}, results ${sum}`);
    }
    // Totals (8×8 to 1600×1200 images) land in more than one bucket, so the comparison above means something.
    const spread = (stage: keyof Timings): number => new Set(s.histograms[stage].counts).size;
    assert.ok(spread('total') >= 3, `totals spread over several buckets: ${s.histograms.total.counts}`);
    // The sums and the means come from the same records.
    const stageMeans: [number, keyof Timings][] = [
      [s.meanQueueMs, 'queue'],
      [s.meanPreprocessMs, 'preprocess'],
      [s.meanInferenceMs, 'inference'],
      [s.meanPostprocessMs, 'postprocess'],
    ];
    for (const [got, stage] of stageMeans) {
      const fromSum = s.histograms[stage].sumMs / s.completed;
      assert.ok(Math.abs(got - fromSum) <= 1e-9 * Math.max(1, got), `${stage}: mean ${got}, sum / n ${fromSum}`);
    }
    const totals = times.map((t) => t.total);

    // Every request ran at the default priority, 0.
    assert.equal(Object.keys(s.priorities), ['0']);
    const p0 = s.priorities['0']!;
    assert.is(p0.completed, n);
    const sortedTotals = [...totals].sort((a, b) => a - b);
    assertNear(p0.p50, percentile(sortedTotals, 0.5), 'priority 0 p50');
    assertNear(p0.p99, percentile(sortedTotals, 0.99), 'priority 0 p99');
  } finally {
    await pool.close();
  }
});

test('inFlight counts admitted requests until they complete; failures count apart from latencies', async () => {
  const pool = await InferencePool.create({ models: [mean], maxBatchSize: 8 });
  try {
    const idle = pool.stats().mean!;
    assert.is(idle.inFlight, 0);
    assert.is(idle.histogram.count, 0);
    for (const stage of STAGES) {
      const h = idle.histograms[stage];
      assert.is(h.count, 0);
      assert.is(h.sumMs, 0);
      assert.ok(
        h.counts.every((c) => c === 0),
        `an idle model's ${stage} histogram is empty`,
      );
    }
    assert.equal(idle.latencyMs.total, { p50: 0, p90: 0, p99: 0, max: 0 }, 'an empty window reads 0');
    assert.equal(idle.priorities, {});

    pool._holdBatching(true);
    const image = toRaw(noise(32, 32, 9));
    const pending = Array.from({ length: 5 }, () => pool.infer(image, 'mean'));
    await waitFor(() => pool.stats().mean!.queueDepth === 5, 'five requests lined up');
    assert.is(pool.stats().mean!.inFlight, 5);
    pool._holdBatching(false);
    await Promise.all(pending);
    assert.is(pool.stats().mean!.inFlight, 0);

    await rejectsWith(pool.infer(Buffer.from('not an image at all, sorry'), 'mean'), 'INVALID_IMAGE');
    const s = pool.stats().mean!;
    assert.is(s.failed, 1);
    assert.is(s.completed, 5);
    assert.is(s.histogram.count, 5, 'a failed request has no latency');
    for (const stage of STAGES) {
      assert.is(s.histograms[stage].count, 5, `nor a ${stage} time`);
      assert.is(s.histograms[stage].counts[BOUNDS_MS.length - 1], 5, `${stage}: the +Inf count is \`completed\``);
    }
    assert.is(s.priorities['0']!.completed, 5);
    assert.is(s.inFlight, 0);
  } finally {
    await pool.close();
  }
});

test.run();
