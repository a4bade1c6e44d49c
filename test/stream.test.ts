// pool.stream(): frames the caller has, through a model, results in frame order with maxInFlight
// backpressure; several streams batch together; break releases the source.
import { spawnSync } from 'node:child_process';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult, ImageInput } from '../lib/index.ts';
import { TEST_VIDEOS } from '../scripts/make-videos.ts';
import { sleep } from './helpers/models.ts';
import { TRAINED, expectedPredictions, shapesImage } from './helpers/server.ts';
import { matchTruth, sceneOf } from './helpers/videos.ts';

const pool = await InferencePool.create({
  models: [{ id: 'det', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' }],
  maxBatchSize: 8,
});
const images = Array.from({ length: 12 }, (_, i) => shapesImage(i));
const expected = await Promise.all(images.map((b) => pool.infer<DetectionResult>(b, 'det')));

test('results arrive in frame order, each equal to infer() on the same frame', async () => {
  async function* frames(): AsyncGenerator<ImageInput> {
    for (let i = 0; i < 60; i++) yield images[i % images.length]!;
  }
  const stream = pool.stream<DetectionResult>(frames(), 'det', { maxInFlight: 6 });
  let next = 0;
  for await (const { frame, result } of stream) {
    assert.is(frame.index, next);
    assert.equal(expectedPredictions(result), expectedPredictions(expected[next % images.length]!));
    assert.is(frame.width, result.image.width);
    next++;
  }
  assert.is(next, 60);
  const s = stream.stats();
  assert.is(s.read, 60);
  assert.is(s.submitted, 60);
  assert.is(s.inferred, 60);
  assert.is(s.dropped, 0);
  assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.p99 >= s.latencyMs.p50);
});

test('maxInFlight: the next frame is pulled only when there is room', async () => {
  let pulled = 0;
  async function* frames(): AsyncGenerator<ImageInput> {
    for (let i = 0; i < 20; i++) {
      pulled++;
      yield images[i % images.length]!;
    }
  }
  pool._holdBatching(true);
  const stream = pool.stream<DetectionResult>(frames(), 'det', { maxInFlight: 3 });
  const first = stream.next();
  await sleep(200);
  assert.is(pulled, 3, 'three frames in the pool, no more pulled');
  pool._holdBatching(false);
  assert.is((await first).value!.frame.index, 0);
  let count = 1;
  for await (const _ of stream) count++;
  assert.is(count, 20);
});

test('several streams at once share batches, and each keeps its own results in order', async () => {
  const streams = [0, 1, 2, 3].map((s) => {
    const order = Array.from({ length: 16 }, (_, i) => (i * 5 + s) % images.length);
    async function* frames(): AsyncGenerator<ImageInput> {
      for (const i of order) yield images[i]!;
    }
    return { order, stream: pool.stream<DetectionResult>(frames(), 'det', { maxInFlight: 2 }) };
  });
  pool._holdBatching(true);
  const runs = streams.map(async ({ order, stream }) => {
    const batchSizes: number[] = [];
    let k = 0;
    for await (const { frame, result } of stream) {
      assert.is(frame.index, k);
      assert.equal(expectedPredictions(result), expectedPredictions(expected[order[k]!]!));
      batchSizes.push(result.batchSize);
      k++;
    }
    assert.is(k, 16);
    return batchSizes;
  });
  await sleep(300); // every stream has its two frames in
  pool._holdBatching(false);
  const sizes = (await Promise.all(runs)).flat();
  assert.ok(
    sizes.some((n) => n > 2),
    `a batch held frames of more than one stream (batch sizes ${[...new Set(sizes)]})`,
  );
});

test('break releases the source: the generator finishes, nothing more is pulled', async () => {
  let pulled = 0;
  let released = false;
  async function* frames(): AsyncGenerator<ImageInput> {
    try {
      for (let i = 0; ; i++) {
        pulled++;
        yield images[i % images.length]!;
      }
    } finally {
      released = true;
    }
  }
  const stream = pool.stream(frames(), 'det', { maxInFlight: 4 });
  let n = 0;
  for await (const _ of stream) if (++n === 10) break;
  assert.ok(stream.closed);
  await sleep(50);
  assert.ok(released, "the caller's generator ran its finally");
  const after = pulled;
  await sleep(100);
  assert.is(pulled, after);
});

test('a corrupt frame ends the iteration with INVALID_IMAGE after the frames before it', async () => {
  async function* frames(): AsyncGenerator<ImageInput> {
    yield images[0]!;
    yield images[1]!;
    yield Buffer.from('not an image');
    yield images[2]!;
  }
  const got: number[] = [];
  try {
    for await (const { frame } of pool.stream(frames(), 'det', { maxInFlight: 2 })) got.push(frame.index);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'INVALID_IMAGE');
  }
  assert.equal(got, [0, 1]);
});

test('maxFps caps the submission rate; options are checked', async () => {
  async function* frames(): AsyncGenerator<ImageInput> {
    for (let i = 0; i < 6; i++) yield images[i]!;
  }
  const started = performance.now();
  let n = 0;
  for await (const _ of pool.stream(frames(), 'det', { maxFps: 20 })) n++;
  assert.is(n, 6);
  assert.ok(performance.now() - started >= 5 * 50 - 10, 'six frames at 20 fps take at least 250 ms');
  for (const bad of [{ maxFps: 0 }, { maxInFlight: 0 }, { mode: 'sometimes' }, { tracker: 'sort' }]) {
    assert.throws(
      () => pool.stream([], 'det', bad as never),
      (e: { code?: string }) => e.code === 'INVALID_ARGUMENT',
    );
  }
  assert.throws(
    () => pool.stream([], 'nope'),
    (e: { code?: string }) => e.code === 'MODEL_NOT_FOUND',
  );
});

test("tracker 'bytetrack' on frames the caller has: one id per shape, in frame order", async () => {
  const video = TEST_VIDEOS.separate();
  const scene = sceneOf(video);
  const decoded = spawnSync('ffmpeg', ['-loglevel', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'], {
    maxBuffer: 1 << 30,
  });
  const size = scene.width * scene.height * 3;
  const count = decoded.stdout.length / size;
  assert.is(count, 90);
  function* frames(): Generator<ImageInput> {
    for (let i = 0; i < count; i++) {
      const data = decoded.stdout.subarray(i * size, (i + 1) * size);
      yield { data, width: scene.width, height: scene.height, format: 'rgb' };
    }
  }
  const ids = new Map<number, Set<number>>();
  for await (const { frame, result } of pool.stream<DetectionResult>(frames(), 'det', { tracker: 'bytetrack' })) {
    for (const t of scene.truth[frame.index]!) {
      const m = matchTruth(result, t);
      if (m) (ids.get(t.id) ?? ids.set(t.id, new Set()).get(t.id)!).add(m.tracker_id!);
    }
    assert.equal(result.predictions.length, result.scores.length);
    assert.equal(result.boxes.length, 4 * result.scores.length);
  }
  assert.equal(
    [...ids.values()].map((s) => s.size),
    [1, 1, 1],
    'no identity switch',
  );
});

test.after(async () => {
  await pool.close();
});

test.run();
