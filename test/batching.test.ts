// Dynamic batching: many concurrent requests are batched and each gets its own image's result;
// the batcher can be held to line up an exact batch; maxQueueDelayMs lets a partial batch wait;
// several models share one pool without mixing results.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult, ModelSpec, PoolOptions } from '../lib/index.ts';
import { noise, solid, toRaw } from './helpers/images.ts';
import type { Rgb, RgbImage } from './helpers/images.ts';
import { modelPath, MODELS, PALETTE, sleep, waitFor } from './helpers/models.ts';
import { maxAbsDiff, softmax } from './helpers/reference.ts';
import { meanColorClassifier } from '../scripts/models/classifiers.ts';

// Logits up to 10 in float32, after a 1024-term float sum: measured error up to 1.1e-5.
const TOL = 5e-5;

const meanColorNone: ModelSpec = {
  id: 'mean',
  path: modelPath(MODELS.meanColor),
  task: 'classification',
  activation: 'none',
};

async function withPool(options: PoolOptions, body: (pool: InferencePool) => Promise<void>): Promise<void> {
  const pool = await InferencePool.create(options);
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

/** Marks a promise as handled (a test that fails early closes the pool, which rejects what is pending). */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Image i's colour: three base-10 digits scaled by 28, so 1000 images have 1000 distinct mean colours. */
function colourOf(i: number): Rgb {
  return [28 * (i % 10), 28 * (Math.floor(i / 10) % 10), 28 * Math.floor(i / 100)];
}

/** logits of the mean-colour model for a solid colour: 10 · v / 255 (the tensor holds float32(v/255)). */
function meanLogits(rgb: Rgb): number[] {
  return rgb.map((v) => 10 * Math.fround(v / 255));
}

test('1000 concurrent requests: each result matches its own image; batches larger than 1', async () => {
  await withPool({ models: [meanColorNone], maxBatchSize: 8, maxQueueDelayMs: 0 }, async (pool) => {
    const n = 1000;
    const promises = Array.from({ length: n }, (_, i) =>
      pool.infer(toRaw(solid(32, 32, colourOf(i))), 'mean', { topK: 3 }),
    );
    const results = (await Promise.all(promises)) as ClassificationResult[];
    const perBatchSize = new Map<number, number>();
    results.forEach((r, i) => {
      const expected = meanLogits(colourOf(i));
      const diff = maxAbsDiff(r.scores, expected);
      assert.ok(
        diff < TOL,
        `request ${i}: got ${Array.from(r.scores)}, expected ${expected} (the result of another image?)`,
      );
      assert.ok(r.batchSize >= 1 && r.batchSize <= 8, `batchSize ${r.batchSize}`);
      perBatchSize.set(r.batchSize, (perBatchSize.get(r.batchSize) ?? 0) + 1);
    });
    const s = pool.stats().mean!;
    assert.is(s.requests, n);
    assert.is(s.completed, n);
    assert.is(s.failed, 0);
    assert.is(s.queueDepth, 0);
    assert.ok(s.batches < n, `${s.batches} batches for ${n} requests: no batching happened`);
    assert.ok(
      s.batchSizeHistogram.some((count, size) => size > 1 && count > 0),
      `histogram ${s.batchSizeHistogram}`,
    );
    assert.ok(s.meanBatchSize > 1, `meanBatchSize ${s.meanBatchSize}`);
    assert.is(
      s.batchSizeHistogram.reduce((sum, count, size) => sum + count * size, 0),
      n,
      'histogram counts every request once',
    );
    assert.is(
      s.batchSizeHistogram.reduce((sum, count) => sum + count, 0),
      s.batches,
    );
    // A batch of k hands k results batchSize k.
    for (const [size, count] of perBatchSize)
      assert.is(count, size * (s.batchSizeHistogram[size] ?? 0), `batches of ${size}`);
    assert.ok(Math.abs(s.meanBatchSize - n / s.batches) < 1e-9);
    for (const key of ['meanQueueMs', 'meanPreprocessMs', 'meanInferenceMs', 'meanPostprocessMs'] as const) {
      assert.ok(Number.isFinite(s[key]) && s[key] >= 0, `${key} ${s[key]}`);
    }
    const t = results[0]!.time;
    for (const key of ['queue', 'preprocess', 'inference', 'postprocess', 'total'] as const) {
      assert.ok(Number.isFinite(t[key]) && t[key] >= 0, `time.${key} ${t[key]}`);
    }
    assert.ok(t.total + 1e-6 >= t.preprocess + t.inference + t.postprocess, 'total covers the stages');
  });
});

// Holding, then submitting at once, is how the hook is meant to be used. Regression: an instance thread
// that was already blocked waiting for work when the hold began used to take the first request that
// became ready and run it as a batch of 1 (queueDepth stayed at 7).
test('held batcher: exactly maxBatchSize requests run as one batch of 8', async () => {
  await withPool({ models: [meanColorNone], maxBatchSize: 8, maxQueueDelayMs: 0 }, async (pool) => {
    pool._holdBatching(true);
    const promises = Array.from({ length: 8 }, (_, i) =>
      handled(pool.infer(toRaw(solid(32, 32, colourOf(i * 37))), 'mean')),
    );
    await waitFor(
      () => pool.stats().mean!.queueDepth === 8,
      () =>
        `queueDepth 8 (it is ${pool.stats().mean!.queueDepth}, with ${pool.stats().mean!.batches} batch(es) run while held)`,
      3000,
    );
    await sleep(20);
    assert.is(pool.stats().mean!.batches, 0, 'nothing ran while held');
    pool._holdBatching(false);
    const results = (await Promise.all(promises)) as ClassificationResult[];
    results.forEach((r, i) => {
      assert.is(r.batchSize, 8, `request ${i}`);
      assert.ok(maxAbsDiff(r.scores, meanLogits(colourOf(i * 37))) < TOL, `request ${i} scores`);
    });
    const s = pool.stats().mean!;
    assert.is(s.batches, 1);
    assert.is(s.batchSizeHistogram[8], 1);
    assert.is(
      s.batchSizeHistogram.reduce((a, b) => a + b, 0),
      1,
    );
    assert.is(s.meanBatchSize, 8);
    assert.is(s.queueDepth, 0);
  });
});

test('held batcher: 24 requests line up and release as full batches', async () => {
  await withPool({ models: [meanColorNone], maxBatchSize: 8, maxQueueDelayMs: 0 }, async (pool) => {
    pool._holdBatching(true);
    const promises = Array.from({ length: 24 }, (_, i) =>
      handled(pool.infer(toRaw(solid(32, 32, colourOf(i * 41))), 'mean')),
    );
    await waitFor(() => pool.stats().mean!.queueDepth === 24, 'queueDepth 24', 3000);
    await sleep(20);
    assert.is(pool.stats().mean!.batches, 0, 'nothing ran while held');
    pool._holdBatching(false);
    const results = (await Promise.all(promises)) as ClassificationResult[];
    results.forEach((r, i) => assert.ok(maxAbsDiff(r.scores, meanLogits(colourOf(i * 41))) < TOL, `request ${i}`));
    const s = pool.stats().mean!;
    assert.ok(
      (s.batchSizeHistogram[8] ?? 0) >= 2,
      `the prepared requests run as full batches: ${s.batchSizeHistogram}`,
    );
    assert.is(
      s.batchSizeHistogram.reduce((sum, count, size) => sum + count * size, 0),
      24,
    );
  });
});

test("a model's maxBatchSize overrides the pool's, smaller and larger", async () => {
  const small: ModelSpec = { ...meanColorNone, id: 'small', maxBatchSize: 3 };
  const large: ModelSpec = { ...meanColorNone, id: 'large', maxBatchSize: 16 };
  await withPool({ models: [small, large], maxBatchSize: 8, maxQueueDelayMs: 0 }, async (pool) => {
    assert.equal(
      pool.models.map((m) => [m.id, m.maxBatchSize]),
      [
        ['small', 3],
        ['large', 16],
      ],
    );
    const results = (await Promise.all(
      Array.from({ length: 300 }, (_, i) => pool.infer(toRaw(solid(32, 32, colourOf(i))), 'small')),
    )) as ClassificationResult[];
    results.forEach((r, i) => {
      assert.ok(r.batchSize <= 3, `batch of ${r.batchSize}`);
      assert.ok(maxAbsDiff(r.scores, meanLogits(colourOf(i))) < TOL);
    });
    const hist = pool.stats().small!.batchSizeHistogram;
    hist.forEach((count, size) => assert.ok(size <= 3 || count === 0, `a batch of ${size}`));

    pool._holdBatching(true);
    const held = Array.from({ length: 16 }, (_, i) =>
      handled(pool.infer(toRaw(solid(32, 32, colourOf(i * 3))), 'large')),
    );
    await waitFor(() => pool.stats().large!.queueDepth === 16, 'queueDepth 16', 3000);
    pool._holdBatching(false);
    for (const r of (await Promise.all(held)) as ClassificationResult[]) assert.is(r.batchSize, 16);
    assert.is(pool.stats().large!.batchSizeHistogram[16], 1);
  });
});

test('a batch of large inputs, run in slices on the single-threaded sessions, keeps each result with its image', async () => {
  // 1024x1024 inputs exceed one slice, so under load a batch runs one image per call: results must
  // still map back to their own requests, and the batch still counts as one.
  const size = 1024;
  const pool = await InferencePool.create({
    maxBatchSize: 4,
    models: [{ id: 'big', path: meanColorClassifier({ size, scale: 10 }), task: 'classification' }],
  });
  try {
    pool._holdBatching(true);
    const colours: Rgb[] = [
      [250, 10, 10],
      [10, 250, 10],
      [10, 10, 250],
      [200, 200, 10],
    ];
    const pending = colours.map((c) => pool.infer<ClassificationResult>(toRaw(solid(64, 64, c)), 'big'));
    await waitFor(() => pool.stats().big!.queueDepth === 4, 'queueDepth 4', 5000);
    // Keep one instance busy so the held batch is not run alone on the shared session.
    const busy = pool.infer<ClassificationResult>(toRaw(solid(64, 64, [10, 10, 250])), 'big');
    pool._holdBatching(false);
    const results = await Promise.all(pending);
    await busy;
    assert.equal(
      results.map((r) => r.top),
      ['red', 'green', 'blue', 'red'],
    );
    for (const [i, r] of results.entries()) {
      const mean = colours[i]!.map((v) => v / 255);
      const expected = softmax(mean.map((m) => 10 * m));
      assert.ok(maxAbsDiff(r.scores, expected) < 1e-5, `request ${i}: its own scores`);
    }
    assert.ok(
      pool.stats().big!.batchSizeHistogram.some((count, size) => size > 1 && count > 0),
      'a batch larger than 1',
    );
  } finally {
    await pool.close();
  }
});

test('maxQueueDelayMs 50: two requests 10 ms apart run as one batch of 2', async () => {
  await withPool({ models: [meanColorNone], maxBatchSize: 8, maxQueueDelayMs: 50 }, async (pool) => {
    const first = pool.infer(toRaw(solid(32, 32, [10, 20, 30])), 'mean');
    await sleep(10);
    const second = pool.infer(toRaw(solid(32, 32, [200, 100, 0])), 'mean');
    const [a, b] = (await Promise.all([first, second])) as [ClassificationResult, ClassificationResult];
    assert.is(a.batchSize, 2);
    assert.is(b.batchSize, 2);
    assert.ok(maxAbsDiff(a.scores, meanLogits([10, 20, 30])) < TOL);
    assert.ok(maxAbsDiff(b.scores, meanLogits([200, 100, 0])) < TOL);
    // A partial batch runs only at its deadline: the first request waited the whole 50 ms.
    assert.ok(a.time.queue >= 49, `the first request queued ${a.time.queue} ms`);
    const s = pool.stats().mean!;
    assert.is(s.batches, 1);
    assert.is(s.batchSizeHistogram[2], 1);
  });
});

test('maxQueueDelayMs 0: a lone request never waits for company', async () => {
  await withPool({ models: [meanColorNone], maxBatchSize: 8, maxQueueDelayMs: 0 }, async (pool) => {
    const a = (await pool.infer(toRaw(solid(32, 32, [10, 20, 30])), 'mean')) as ClassificationResult;
    const b = (await pool.infer(toRaw(solid(32, 32, [30, 20, 10])), 'mean')) as ClassificationResult;
    assert.is(a.batchSize, 1);
    assert.is(b.batchSize, 1);
    assert.is(pool.stats().mean!.batchSizeHistogram[1], 2);
  });
});

test('several models in one pool run concurrently and results stay with their model', async () => {
  const models: ModelSpec[] = [
    meanColorNone,
    { id: 'palette', path: modelPath(MODELS.palette), task: 'classification' },
    { id: 'conv', path: modelPath(MODELS.randomConv), task: 'classification' },
    { id: 'prob', path: modelPath(MODELS.probability), task: 'classification' },
  ];
  await withPool({ models, maxBatchSize: 8 }, async (pool) => {
    const images: RgbImage[] = Array.from({ length: 12 }, (_, i) =>
      i % 2 ? noise(40, 40, i) : solid(40, 40, colourOf(i * 83)),
    );
    // Baselines, one request at a time.
    const baseline = new Map<string, Float32Array>();
    for (const m of models) {
      for (let i = 0; i < images.length; i++) {
        const r = (await pool.infer(toRaw(images[i]!), m.id)) as ClassificationResult;
        baseline.set(`${m.id}/${i}`, r.scores);
      }
    }
    // Spot checks that the baselines are what each model computes.
    const red = (await pool.infer(toRaw(solid(64, 64, [250, 5, 5])), 'palette')) as ClassificationResult;
    assert.is(red.top, 'red');
    assert.is(red.scores.length, PALETTE.length);
    const solidProb = baseline.get('prob/0')!;
    assert.ok(maxAbsDiff(solidProb, softmax(meanLogits(colourOf(0)))) < TOL);

    const jobs: { model: string; image: number }[] = [];
    for (let k = 0; k < 400; k++)
      jobs.push({ model: models[(k * 7) % models.length]!.id, image: (k * 5) % images.length });
    const results = (await Promise.all(
      jobs.map((j) => pool.infer(toRaw(images[j.image]!), j.model)),
    )) as ClassificationResult[];
    const classes: Record<string, number> = { mean: 3, palette: 8, conv: 10, prob: 3 };
    results.forEach((r, k) => {
      const { model, image } = jobs[k]!;
      assert.is(r.scores.length, classes[model], `job ${k} (${model}): class count`);
      const diff = maxAbsDiff(r.scores, baseline.get(`${model}/${image}`)!);
      assert.ok(diff < 1e-5, `job ${k} (${model}, image ${image}): differs from its baseline by ${diff}`);
    });
    const stats = pool.stats();
    for (const m of models) {
      const submitted = jobs.filter((j) => j.model === m.id).length + images.length + (m.id === 'palette' ? 1 : 0);
      assert.is(stats[m.id]!.completed, submitted, `${m.id} completed`);
      assert.is(stats[m.id]!.requests, submitted, `${m.id} requests`);
    }
  });
});

test.run();
