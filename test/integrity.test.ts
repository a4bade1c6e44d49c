// Integrity of the core under the failures seen on earlier code: each test here failed before its fix.
// A request only ever sees its own input; closing, unloading, aborting and exiting never crash; hostile
// options and models get a typed error, never an out-of-bounds read or a huge allocation.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { constantEndToEndDetector, constantYolov8Segmenter } from '../scripts/models/detectors.ts';
import { InferencePool } from '../lib/index.ts';
import { loadBinding } from '../lib/native.ts';
import type { ClassificationResult, DetectionResult, ModelSpec } from '../lib/index.ts';
import { lastJson, runChild } from './helpers/child.ts';
import { encodePng, noise, solid, toRaw } from './helpers/images.ts';
import { modelPath, MODELS, rejectsWith, sleep } from './helpers/models.ts';

const meanNone: ModelSpec = {
  id: 'mean',
  path: modelPath(MODELS.meanColor),
  task: 'classification',
  activation: 'none',
};
const logits = (rgb: [number, number, number]) => rgb.map((v) => (10 * v) / 255);

/** The process's peak resident memory so far, in MiB (Linux). */
function peakRssMiB(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

function assertCleanExit(
  r: { code: number | null; signal: string | null; stderr: string },
  code: number,
  what: string,
) {
  assert.is(r.signal, null, `${what}: killed by ${r.signal}: ${r.stderr}`);
  assert.is(r.code, code, `${what}: exit code ${r.code}: ${r.stderr}`);
  assert.is(r.stderr, '', `${what}: nothing on stderr`);
}

test('unloadModel() then close() while the unloaded model runs a batch: the process lives on and exits 0', async () => {
  for (let round = 0; round < 2; round++) {
    const r = await runChild('unload-then-close.ts', [], 60_000);
    assertCleanExit(r, 0, `round ${round}`);
    const out = lastJson<{ unload: string; settled: number; codes: string[] }>(r.stdout);
    assert.ok(out, `it finished: ${r.stdout}`);
    assert.is(out.settled, 224, 'every request settled');
    assert.ok(['unloaded', 'POOL_CLOSED'].includes(out.unload), `the unload settled: ${out.unload}`);
    for (const code of out.codes) assert.ok(['ok', 'POOL_CLOSED'].includes(code), `outcome ${code}`);
  }
});

test('process.exit() while images decode and batches run exits with its code (small and large model)', async () => {
  for (const size of ['small', 'large']) {
    for (let round = 0; round < 2; round++) {
      const r = await runChild('exit-decoding.ts', [size, String(5 + round)], 60_000);
      assertCleanExit(r, 5 + round, `${size} model, round ${round}`);
      assert.ok(lastJson(r.stdout), `${size}: it got as far as exiting`);
    }
  }
});

test('a closed pool and an idle pool never closed are garbage-collected once dropped', async () => {
  const r = await runChild('collectable.ts', [], 30_000);
  assertCleanExit(r, 0, 'child');
  assert.equal(lastJson<{ collected: string[] }>(r.stdout)?.collected, ['closed', 'idle']);
});

test('a Uint8Array over a SharedArrayBuffer is read like any other, encoded or raw', async () => {
  const pool = await InferencePool.create({ models: [meanNone] });
  try {
    const png = encodePng(solid(24, 16, [200, 100, 50]));
    const shared = new Uint8Array(new SharedArrayBuffer(png.length + 7), 7);
    shared.set(png);
    const a = (await pool.infer(shared, 'mean')) as ClassificationResult;
    assert.equal(
      [...a.scores].map((v) => +v.toFixed(4)),
      logits([200, 100, 50]).map((v) => +v.toFixed(4)),
    );
    const raw = toRaw(solid(8, 8, [10, 20, 30]));
    const rawShared = new Uint8Array(new SharedArrayBuffer(raw.data.length));
    rawShared.set(raw.data);
    const b = (await pool.infer({ ...raw, data: rawShared }, 'mean')) as ClassificationResult;
    assert.equal(
      [...b.scores].map((v) => +v.toFixed(4)),
      logits([10, 20, 30]).map((v) => +v.toFixed(4)),
    );
  } finally {
    await pool.close();
  }
});

test('an abort while the image is being decoded settles only once native code has let go of the bytes', async () => {
  const pool = await InferencePool.create({ models: [meanNone], preprocessThreads: 1 });
  try {
    // A big noisy PNG: decoding it takes tens of milliseconds on one preprocess thread.
    const big = encodePng(noise(3000, 2000, 9));
    const other = Buffer.from(big);
    const started = Date.now();
    await pool.infer(big, 'mean');
    const decodeMs = Date.now() - started;
    assert.ok(decodeMs >= 20, `the decode takes long enough to abort during it (${decodeMs} ms)`);

    const controller = new AbortController();
    let settledAt = 0;
    const request = pool.infer(big, 'mean', { signal: controller.signal });
    request.catch(() => (settledAt = Date.now()));
    await sleep(Math.min(10, decodeMs / 4));
    const abortedAt = Date.now();
    controller.abort();
    await sleep(0);
    assert.is(settledAt, 0, 'it did not settle while the decode still reads the bytes');
    await rejectsWith(request, 'ABORTED');
    // Native code is done with the bytes: overwriting them cannot change anything any more.
    big.fill(0);
    assert.ok(settledAt >= abortedAt);

    // Aborted before its decode began (queued behind another): it settles at once.
    const first = pool.infer(other, 'mean');
    first.catch(() => {});
    const second = new AbortController();
    const queued = pool.infer(encodePng(solid(8, 8, [1, 1, 1])), 'mean', { signal: second.signal });
    let queuedSettled = false;
    queued.catch(() => (queuedSettled = true));
    second.abort();
    await sleep(0);
    assert.ok(queuedSettled, 'a request whose bytes were never read settles at once');
    await rejectsWith(queued, 'ABORTED');
    await first.catch(() => {});
  } finally {
    await pool.close();
  }
});

test('close() does not wait out the queue delay of a batch still forming', async () => {
  const pool = await InferencePool.create({ models: [meanNone], maxQueueDelayMs: 30_000, maxBatchSize: 8 });
  const request = pool.infer(toRaw(solid(8, 8, [5, 5, 5])), 'mean');
  request.catch(() => {});
  await sleep(100); // preprocessed, waiting for company
  const started = Date.now();
  await pool.close();
  const ms = Date.now() - started;
  assert.ok(ms < 5000, `close() took ${ms} ms`);
  const outcome = await request.then(
    () => 'ok',
    (e: { code: string }) => e.code,
  );
  assert.ok(['ok', 'POOL_CLOSED'].includes(outcome), outcome);
});

test('masks are built one at a time unless returnMasks asks to keep them', async () => {
  // 40 instances, each covering the whole of a 4000x3000 image: kept at once they would take 480 MB.
  const n = 40;
  const model = constantYolov8Segmenter({
    classes: 1,
    nm: 1,
    protoSize: [16, 16],
    protos: new Float32Array(256).fill(1),
    boxes: Array.from({ length: n }, () => ({ cx: 320, cy: 320, w: 640, h: 640, scores: [0.9], coeffs: [1] })),
  });
  const pool = await InferencePool.create({
    models: [{ id: 'seg', path: model, task: 'instance-segmentation', resize: 'stretch' }],
  });
  try {
    const image = { data: new Uint8Array(4000 * 3000), width: 4000, height: 3000, format: 'gray' as const };
    const before = peakRssMiB();
    const r = (await pool.infer(image, 'seg', { iouThreshold: 1 })) as DetectionResult;
    const grown = peakRssMiB() - before;
    assert.is(r.predictions.length, n);
    for (const p of r.predictions) assert.ok((p.points?.length ?? 0) >= 4, 'every instance has its polygon');
    assert.is(r.masks, undefined);
    assert.ok(grown < 250, `peak memory grew by ${grown.toFixed(0)} MiB`);
  } finally {
    await pool.close();
  }
});

test('a segmenter whose prototypes have an empty dimension fails its requests with INFERENCE_FAILED', async () => {
  const model = constantYolov8Segmenter({
    classes: 1,
    nm: 1,
    protoSize: [0, 0],
    protos: new Float32Array(0),
    boxes: [{ cx: 320, cy: 320, w: 100, h: 100, scores: [0.9], coeffs: [1] }],
  });
  const pool = await InferencePool.create({ models: [{ id: 'seg', path: model, task: 'instance-segmentation' }] });
  try {
    await rejectsWith(pool.infer(toRaw(solid(64, 64, [1, 2, 3])), 'seg'), 'INFERENCE_FAILED', /prototype/);
  } finally {
    await pool.close();
  }
});

test('detection postprocessing refuses prototype and head shapes with an empty dimension or past their arrays', () => {
  const { stages } = loadBinding();
  const geometry = {
    inputWidth: 64,
    inputHeight: 64,
    originalWidth: 64,
    originalHeight: 64,
    resize: 'stretch' as const,
    segment: true,
  };
  // YOLOv8 layout [1, 6, 8]: rows cx, cy, w, h, one class score, one mask coefficient; only anchor 0 scores.
  const head = new Float32Array(6 * 8);
  [32, 32, 20, 20, 0.9, 1].forEach((v, row) => (head[row * 8] = v));
  const protos = new Float32Array(16).fill(1);
  const ok = stages.detect(head, [1, 6, 8], protos, [1, 1, 4, 4], geometry, {});
  assert.is(ok.scores?.length, 1);
  for (const shape of [
    [1, 1, 0, 16],
    [1, 1, 16, 0],
    [1, 1, 8, 8], // 64 values claimed, 16 given
  ]) {
    let error: unknown;
    try {
      stages.detect(head, [1, 6, 8], protos, shape, geometry, {});
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof Error, `protoShape [${shape.join(', ')}] was refused`);
    assert.ok(
      ['INFERENCE_FAILED', 'INVALID_ARGUMENT'].includes((error as { code?: string }).code ?? ''),
      String(error),
    );
  }
  assert.throws(() => stages.detect(head, [1, 6, 9], protos, [1, 1, 4, 4], geometry, {}));
});

test('classFilter with a huge id on a model without class names allocates nothing of that size', async () => {
  const model = constantEndToEndDetector({
    names: [],
    rows: [
      [10, 10, 100, 100, 0.9, 3],
      [200, 200, 300, 300, 0.8, 7],
    ],
  });
  const pool = await InferencePool.create({ models: [{ id: 'e2e', path: model, task: 'object-detection' }] });
  try {
    const image = toRaw(solid(640, 640, [0, 0, 0]));
    const before = peakRssMiB();
    const r = (await pool.infer(image, 'e2e', { classFilter: [2e9, 7] })) as DetectionResult;
    assert.equal([...r.classIds], [7]);
    const none = (await pool.infer(image, 'e2e', { classFilter: [2_000_000_000] })) as DetectionResult;
    assert.is(none.predictions.length, 0);
    const grown = peakRssMiB() - before;
    assert.ok(grown < 200, `peak memory grew by ${grown.toFixed(0)} MiB`);
    await rejectsWith(pool.infer(image, 'e2e', { classFilter: [1e20] }), 'INVALID_ARGUMENT');
    await rejectsWith(pool.infer(image, 'e2e', { classFilter: [1.5] }), 'INVALID_ARGUMENT');
  } finally {
    await pool.close();
  }
});

test.run();
