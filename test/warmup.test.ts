// Warm-up at load (the `warmup` model option): loadModel runs each session once per batch size that
// will be used, on zeros, so the first request is not slowed by ONNX Runtime's first-run costs; a
// chosen list of sizes runs only those; `warmup: false` skips it; anything else is INVALID_ARGUMENT.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ModelSpec } from '../lib/index.ts';
import { GraphBuilder } from '../scripts/onnx/builder.ts';
import { lastJson, runChild } from './helpers/child.ts';
import { solid, toRaw } from './helpers/images.ts';
import { failingAtRunModel, modelPath, MODELS, rejectsWith } from './helpers/models.ts';

const meanColor: ModelSpec = { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' };

/** The option under test, written out here so this file does not depend on when ModelSpec gains it. */
type Warmup = boolean | number[] | undefined;
const withWarmup = (spec: ModelSpec, warmup: Warmup): ModelSpec => ({ ...spec, warmup }) as ModelSpec;

/** Runs only batches of an even size: the Reshape to [-1, 2·3·s·s] does not divide an odd batch. */
function oddBatchFailingModel(size = 8): Uint8Array {
  const g = new GraphBuilder('fails_on_odd_batches');
  const images = g.input('images', ['batch', 3, size, size]);
  const pairs = g.op('Reshape', [images, g.int64('shape', [-1, 2 * 3 * size * size])]);
  g.op('ReduceMean', [pairs], { axes: [1], keepdims: 0 }, { output: 'logits' });
  g.output('logits', ['pairs']);
  return g.toBytes();
}

async function withPool(models: ModelSpec[], body: (pool: InferencePool) => Promise<void>): Promise<void> {
  const pool = await InferencePool.create({ models });
  try {
    await body(pool);
  } finally {
    await pool.close();
  }
}

test('with warm-up, the first detection after load takes at most 3× the median of the next nine', async () => {
  // Each sample is a fresh process. Measured here on the shared 2-core machine, first / median of the
  // next nine: 1.0-1.6× with warm-up in most processes, but single processes reached 2.8× and 5.9×
  // when other work took the cores; without warm-up 1.7-4.2×. The median of five processes against
  // 3× does not flake on that; the saving itself is measured by bench/warmup.ts.
  const ratios: number[] = [];
  const runs: string[] = [];
  for (let i = 0; i < 5; i++) {
    const child = await runChild('first-requests.ts', ['true'], 120_000);
    const out = lastJson<{ ms: number[] }>(child.stdout);
    assert.ok(child.code === 0 && out, `child failed (${child.code}): ${child.stderr}`);
    assert.is(child.stderr, '', 'a library prints nothing to stderr');
    const rest = out.ms.slice(1).sort((a, b) => a - b);
    ratios.push(out.ms[0]! / rest[4]!);
    runs.push(out.ms.map((v) => v.toFixed(0)).join(', '));
  }
  const median = [...ratios].sort((a, b) => a - b)[2]!;
  assert.ok(median <= 3, `median ratio ${median.toFixed(2)}; runs (ms):\n${runs.join('\n')}`);
});

test('warm-up runs the model at load: one that fails at run fails its load; warmup: false loads it', async () => {
  const bad: ModelSpec = { id: 'bad', path: failingAtRunModel(), task: 'classification' };
  await rejectsWith(InferencePool.create({ models: [bad] }), 'MODEL_LOAD_FAILED', /warm-up of model 'bad' failed/);
  await withPool([withWarmup(bad, false)], async (pool) => {
    await rejectsWith(pool.infer(toRaw(solid(8, 8, [1, 2, 3])), 'bad'), 'INFERENCE_FAILED');
  });
});

test('warmup: [sizes] runs exactly those batch sizes; sizes above maxBatchSize never form and are skipped', async () => {
  const evenOnly = oddBatchFailingModel();
  const spec = (warmup: Warmup) =>
    withWarmup({ id: 'even', path: evenOnly, task: 'classification', maxBatchSize: 4 }, warmup);
  await withPool([spec([2, 4])], async (pool) => assert.ok(pool.models.some((m) => m.id === 'even')));
  await withPool([spec([2, 9])], async (pool) => assert.ok(pool.models.some((m) => m.id === 'even')));
  await rejectsWith(InferencePool.create({ models: [spec([2, 3])] }), 'MODEL_LOAD_FAILED', /warm-up of model 'even'/);
  // The default: 1 … maxBatchSize, and 1 is odd.
  await rejectsWith(InferencePool.create({ models: [spec(undefined)] }), 'MODEL_LOAD_FAILED', /warm-up/);
  await rejectsWith(InferencePool.create({ models: [spec(true)] }), 'MODEL_LOAD_FAILED', /warm-up/);
});

test('warmup: true, false, [] and [1, 4] are accepted', async () => {
  for (const warmup of [true, false, [], [1, 4]]) {
    await withPool([withWarmup(meanColor, warmup)], async (pool) => {
      const r = await pool.infer(toRaw(solid(16, 16, [200, 10, 10])), 'mean');
      assert.is(r.task, 'classification', `warmup ${JSON.stringify(warmup)}`);
    });
  }
});

test('invalid warmup values are refused with INVALID_ARGUMENT', async () => {
  for (const warmup of [[0], [1.5], 'yes', [-1], ['2'], 3, {}, [Number.NaN], [5000], null]) {
    const spec = withWarmup(meanColor, warmup as Warmup);
    await rejectsWith(InferencePool.create({ models: [spec] }), 'INVALID_ARGUMENT', /warmup/);
  }
});

test.run();
