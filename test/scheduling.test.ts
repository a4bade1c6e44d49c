// Scheduling: deadlines (timeoutMs), priorities with aging, per-model queue bounds, and their bad
// values. The batcher is held (pool._holdBatching) to line requests up exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult, InferOptions, ModelSpec, PoolOptions } from '../lib/index.ts';
import { solid, toRaw } from './helpers/images.ts';
import type { Rgb } from './helpers/images.ts';
import { modelPath, MODELS, rejectsWith, sleep } from './helpers/models.ts';

const mean: ModelSpec = { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' };

async function withPool(options: PoolOptions, body: (pool: InferencePool) => Promise<void>): Promise<void> {
  const pool = await InferencePool.create(options);
  try {
    await body(pool);
  } finally {
    pool._holdBatching(false);
    await pool.close();
  }
}

function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

const shapes: ModelSpec = {
  id: 'shapes',
  path: new URL('../models/trained/shapes-det.onnx', import.meta.url).pathname,
  task: 'object-detection',
};

const colour = (i: number): Rgb => [(i * 37) % 256, (i * 91 + 20) % 256, (i * 53 + 200) % 256];
const image = (i: number) => toRaw(solid(16, 16, colour(i)));
/** The request index a mean-colour result came from (its logits are 10 · rgb / 255). */
const indexOf = (r: ClassificationResult, n: number) =>
  Array.from({ length: n }, (_, i) => i).find((i) =>
    colour(i).every((v, c) => Math.abs(r.scores[c]! - (10 * v) / 255) < 1e-3),
  );

test('deadlines: held requests past timeoutMs reject DEADLINE_EXCEEDED on time and never run; the rest complete', async () => {
  await withPool({ models: [{ ...mean, instances: 1 }], maxBatchSize: 8 }, async (pool) => {
    pool._holdBatching(true);
    const started = Date.now();
    const short = Array.from({ length: 5 }, (_, i) => handled(pool.infer(image(i), 'mean', { timeoutMs: 40 })));
    const long = Array.from({ length: 3 }, (_, i) => handled(pool.infer(image(10 + i), 'mean')));
    const rejectedAt: number[] = [];
    for (const p of short) {
      await rejectsWith(p, 'DEADLINE_EXCEEDED', /deadline/);
      rejectedAt.push(Date.now() - started);
    }
    // The rejection comes from the deadline sweeper, not from the (held) batcher.
    for (const ms of rejectedAt) assert.ok(ms >= 40 && ms < 40 + 250, `rejected ${ms} ms after the call`);
    assert.is(pool.stats().mean!.batches, 0, 'nothing ran while held');
    assert.is(pool.stats().mean!.expired, 5);
    pool._holdBatching(false);
    const results = (await Promise.all(long)) as ClassificationResult[];
    results.forEach((r, i) => assert.is(indexOf(r, 20), 10 + i));
    const s = pool.stats().mean!;
    const ran = s.batchSizeHistogram.reduce((sum, count, size) => sum + count * size, 0);
    assert.is(ran, 3, 'only the three requests without a deadline reached inference');
    assert.is(s.failed, 5);
  });
});

test('deadlines: defaults from the model spec and the pool; a request’s own value wins', async () => {
  await withPool(
    {
      models: [
        { ...mean, timeoutMs: 30 },
        { ...mean, id: 'plain' },
      ],
      timeoutMs: 60,
      maxBatchSize: 4,
    },
    async (pool) => {
      pool._holdBatching(true);
      const fromSpec = handled(pool.infer(image(1), 'mean'));
      const fromPool = handled(pool.infer(image(2), 'plain'));
      const own = handled(pool.infer(image(3), 'mean', { timeoutMs: 10_000 }));
      await rejectsWith(fromSpec, 'DEADLINE_EXCEEDED');
      await rejectsWith(fromPool, 'DEADLINE_EXCEEDED');
      await sleep(20);
      pool._holdBatching(false);
      assert.is(indexOf((await own) as ClassificationResult, 5), 3);
    },
  );
});

test('priorities: held requests come out in batches of the highest priority first, oldest first within one', async () => {
  await withPool(
    { models: [{ ...mean, instances: 1 }], maxBatchSize: 4, postprocessThreads: 1, preprocessThreads: 2 },
    async (pool) => {
      pool._holdBatching(true);
      const priorities = [0, 3, 1, 3, 0, 1, 3, 1];
      const order: number[] = [];
      const promises = priorities.map((priority, i) =>
        pool.infer(image(i), 'mean', { priority }).then((r) => {
          order.push(i);
          return r as ClassificationResult;
        }),
      );
      await sleep(150); // tiny images: all eight are preprocessed and wait, ready, for the held batcher
      pool._holdBatching(false);
      const results = await Promise.all(promises);
      results.forEach((r, i) => assert.is(indexOf(r, 8), i, `request ${i} got its own result`));
      // Batch 1: the three 3s and the oldest 1; batch 2: the other 1s, then the 0s.
      assert.equal(new Set(order.slice(0, 4)), new Set([1, 3, 6, 2]), `batch order ${order}`);
      assert.equal(new Set(order.slice(4)), new Set([5, 7, 0, 4]), `batch order ${order}`);
      assert.equal(pool.stats().mean!.batchSizeHistogram[4], 2);
      const levels = pool.stats().mean!.priorities;
      assert.equal(
        Object.fromEntries(Object.entries(levels).map(([level, p]) => [level, p.completed])),
        { '0': 2, '1': 3, '3': 3 },
        'completed per priority level',
      );
      for (const p of Object.values(levels)) assert.ok(p.p50 > 0 && p.p99 >= p.p50);
    },
  );
});

/**
 * A stream of priority-1 requests (8 kept in flight) for `ms`, and one priority-0 request queued just
 * after the stream's first requests: when does the low one complete?
 */
async function lowAmongHigh(priorityAgingMs: number, ms: number): Promise<{ lowDoneAt: number; streamEnd: number }> {
  let result = { lowDoneAt: 0, streamEnd: 0 };
  await withPool(
    // A model that takes milliseconds a run, so the stream, not the JS thread, keeps the batcher busy;
    // four preprocess threads give it five tensor slots, so high requests are always ready.
    { models: [{ ...shapes, instances: 1, maxBatchSize: 1 }], priorityAgingMs, preprocessThreads: 4 },
    async (pool) => {
      pool._holdBatching(true);
      const started = Date.now();
      let running = true;
      const lane = async () => {
        while (running) await pool.infer(image(1), 'shapes', { priority: 1 });
      };
      const lanes = Array.from({ length: 8 }, lane);
      let lowDoneAt = 0;
      const low = pool.infer(image(0), 'shapes', { priority: 0 }).then(() => (lowDoneAt = Date.now() - started));
      await sleep(20);
      pool._holdBatching(false);
      await sleep(ms);
      running = false;
      const streamEnd = Date.now() - started;
      await Promise.all([low, ...lanes]);
      result = { lowDoneAt, streamEnd };
    },
  );
  return result;
}

test('priorities: aging lets a low priority through a sustained high-priority stream, later', async () => {
  // Control, aging off: the high stream keeps the low request waiting while it lasts.
  const starved = await lowAmongHigh(0, 1000);
  // One level per 50 ms: once the high requests queued before it are done, the low request overtakes
  // the younger ones.
  const aged = await lowAmongHigh(50, 1000);
  assert.ok(
    aged.lowDoneAt < aged.streamEnd - 200,
    `aged: low done at ${aged.lowDoneAt} ms, stream ended at ${aged.streamEnd} ms`,
  );
  console.log(
    `    low priority done at ${aged.lowDoneAt} ms with aging, ${starved.lowDoneAt} ms without (stream ${aged.streamEnd} ms)`,
  );
  assert.ok(
    starved.lowDoneAt >= starved.streamEnd - 50,
    `without aging the low request waits out the stream: done at ${starved.lowDoneAt} ms, stream ${starved.streamEnd} ms`,
  );
  assert.ok(aged.lowDoneAt < starved.lowDoneAt, `aging helps: ${aged.lowDoneAt} vs ${starved.lowDoneAt} ms`);
});

test('per-model maxQueueSize: one model full rejects QUEUE_FULL, the other still accepts', async () => {
  await withPool(
    {
      models: [
        { ...mean, maxQueueSize: 3 },
        { ...mean, id: 'other' },
      ],
    },
    async (pool) => {
      pool._holdBatching(true);
      const held = Array.from({ length: 3 }, (_, i) => handled(pool.infer(image(i), 'mean')));
      await rejectsWith(pool.infer(image(9), 'mean'), 'QUEUE_FULL', /model 'mean'/);
      const other = handled(pool.infer(image(4), 'other'));
      assert.is(pool.stats().mean!.requests, 3);
      assert.is(pool.stats().mean!.rejected, 1);
      pool._holdBatching(false);
      await Promise.all([...held, other]);
      // Room again once they completed.
      assert.is(indexOf((await pool.infer(image(5), 'mean')) as ClassificationResult, 8), 5);
    },
  );
});

test('bad timeoutMs, priority and queue bounds are INVALID_ARGUMENT; other requests are unaffected', async () => {
  await withPool({ models: [mean] }, async (pool) => {
    const good = pool.infer(image(1), 'mean');
    const bad: InferOptions[] = [
      { timeoutMs: 0 },
      { timeoutMs: -5 },
      { timeoutMs: Number.NaN },
      { timeoutMs: Number.POSITIVE_INFINITY },
      { timeoutMs: '100' as unknown as number },
      { priority: 1.5 },
      { priority: 2 ** 53 },
      { priority: Number.NaN },
      { priority: '1' as unknown as number },
    ];
    for (const options of bad) {
      await rejectsWith(pool.infer(image(2), 'mean', options), 'INVALID_ARGUMENT', /timeoutMs|priority/);
    }
    assert.is(indexOf((await good) as ClassificationResult, 3), 1);
    assert.is(pool.stats().mean!.requests, 1, 'no bad request was admitted');
    const ok = (await pool.infer(image(2), 'mean', { priority: -7, timeoutMs: 5000 })) as ClassificationResult;
    assert.is(indexOf(ok, 3), 2);
  });
  await rejectsWith(InferencePool.create({ timeoutMs: -1 }), 'INVALID_ARGUMENT', /timeoutMs/);
  await rejectsWith(InferencePool.create({ models: [{ ...mean, timeoutMs: 0 }] }), 'INVALID_ARGUMENT', /timeoutMs/);
  await rejectsWith(InferencePool.create({ models: [{ ...mean, maxQueueSize: 0 }] }), 'INVALID_ARGUMENT');
});

test.run();
