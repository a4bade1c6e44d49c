// pool.video(): native video sources through a model — every frame of a file in order with results
// matching the ground truth, ByteTrack ids, live sources in 'freshest' mode, several streams batching
// together, failures, reconnects, and writeVideo's output.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool, writeVideo } from '../lib/index.ts';
import type { DetectionResult, VideoResult } from '../lib/index.ts';
import { TEST_VIDEOS } from '../scripts/make-videos.ts';
import { ROOT, lastJson, runChild } from './helpers/child.ts';
import { largeDetectorPath } from './helpers/large-model.ts';
import { startMjpegServer } from './helpers/mjpeg-server.ts';
import { sleep } from './helpers/models.ts';
import { TRAINED } from './helpers/server.ts';
import { matchTruth, sceneOf } from './helpers/videos.ts';

const TMP = join(ROOT, 'test', '.tmp', 'video');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });

const separate = TEST_VIDEOS.separate();
const crossing = TEST_VIDEOS.crossing();
const truthOf = (video: string) => sceneOf(video).truth;

const pool = await InferencePool.create({
  models: [
    { id: 'det', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
    // About 50 ms a run here: slower than a 30 fps camera.
    { id: 'slow', path: await largeDetectorPath(), task: 'object-detection', maxBatchSize: 1 },
  ],
});

test('a file, every frame: all 90 results in order, the right index and time, detections as the ground truth', async () => {
  const truth = truthOf(separate);
  const stream = pool.video<DetectionResult>(separate, 'det');
  let next = 0;
  let lastTimestamp = -1;
  let found = 0;
  for await (const { frame, result } of stream) {
    assert.is(frame.index, next);
    assert.ok(frame.timestamp > lastTimestamp, 'timestamps increase');
    lastTimestamp = frame.timestamp;
    assert.is(frame.width, 640);
    assert.is(frame.height, 480);
    for (const t of truth[next]!) if (matchTruth(result, t)) found++;
    next++;
  }
  assert.is(next, 90, 'every frame');
  assert.ok(Math.abs(lastTimestamp - (89 * 1000) / 30) < 5, `the source's clock: ${lastTimestamp} ms at frame 89`);
  assert.ok(found >= 0.97 * 270, `ground truth found ${found}/270`);
  const s = stream.stats();
  assert.is(s.dropped, 0, "'every-frame' never drops");
  assert.is(s.read, 90);
  assert.is(s.inferred, 90);
});

test("tracker 'bytetrack': one id per shape for the whole video; IDF1 reported on crossing shapes", async () => {
  const ids = new Map<number, Set<number>>();
  const truth = truthOf(separate);
  let k = 0;
  for await (const { result } of pool.video<DetectionResult>(separate, 'det', { tracker: 'bytetrack' })) {
    for (const p of result.predictions) assert.ok(Number.isInteger(p.tracker_id) && p.tracker_id! >= 1);
    for (const t of truth[k]!) {
      const m = matchTruth(result, t);
      if (m) (ids.get(t.id) ?? ids.set(t.id, new Set()).get(t.id)!).add(m.tracker_id!);
    }
    k++;
  }
  assert.is(k, 90);
  assert.is(ids.size, 3);
  for (const [shape, set] of ids) assert.is(set.size, 1, `shape ${shape} kept one tracker id (${[...set]})`);
  assert.is(new Set([...ids.values()].map((s) => [...s][0])).size, 3, 'three different ids');

  // IDF1 on the crossing scene: identity-matched detections over all (truth + predicted) / 2.
  const crossTruth = truthOf(crossing);
  const pairs = new Map<string, number>();
  let predicted = 0;
  let truths = 0;
  k = 0;
  for await (const { result } of pool.video<DetectionResult>(crossing, 'det', { tracker: 'bytetrack' })) {
    predicted += result.predictions.length;
    for (const t of crossTruth[k]!) {
      truths++;
      const m = matchTruth(result, t);
      if (m) pairs.set(`${t.id}:${m.tracker_id}`, (pairs.get(`${t.id}:${m.tracker_id}`) ?? 0) + 1);
    }
    k++;
  }
  // Best one-to-one assignment of truth ids to tracker ids (two truths: try both pairings).
  const byTruth = (id: number) => [...pairs].filter(([key]) => key.startsWith(`${id}:`));
  let idtp = 0;
  for (const [a] of byTruth(1)) {
    for (const [b] of byTruth(2)) {
      if (a.split(':')[1] !== b.split(':')[1]) idtp = Math.max(idtp, pairs.get(a)! + pairs.get(b)!);
    }
  }
  const idf1 = (2 * idtp) / (truths + predicted);
  console.log(
    `# crossing scene: IDF1 ${idf1.toFixed(3)} (${idtp} identity matches, ${truths} truths, ${predicted} predictions)`,
  );
  assert.ok(idf1 > 0.5, `IDF1 ${idf1}`);
});

test("a live source faster than the model, 'freshest': frames dropped and counted, latency bounded", async () => {
  const camera = await startMjpegServer(30);
  try {
    const stream = pool.video<DetectionResult>(camera.url, 'slow', { maxInFlight: 1 });
    const started = performance.now();
    let n = 0;
    let lastIndex = -1;
    for await (const { frame } of stream) {
      assert.ok(frame.index > lastIndex, 'in order');
      lastIndex = frame.index;
      if (++n === 25 || performance.now() - started > 8000) break;
    }
    const s = stream.stats();
    assert.ok(s.dropped > 0, `dropped ${s.dropped}`);
    assert.ok(lastIndex + 1 > n, `frame indices skip what was dropped (${lastIndex + 1} read for ${n} results)`);
    assert.ok(s.latencyMs.p99 < 1000, `frame-to-result p99 ${s.latencyMs.p99.toFixed(0)} ms`);
    console.log(
      `# live 30 fps into a slower model: ${n} results, ${s.dropped} dropped, p99 ${s.latencyMs.p99.toFixed(0)} ms`,
    );
  } finally {
    await camera.close();
  }
});

test('several streams on one model share batches; each keeps its own results, in order', async () => {
  pool._holdBatching(true);
  const runs = [0, 1, 2, 3].map(async () => {
    const sizes: number[] = [];
    let k = 0;
    for await (const { frame, result } of pool.video<DetectionResult>(separate, 'det', { maxInFlight: 2 })) {
      assert.is(frame.index, k++);
      sizes.push(result.batchSize);
      if (k === 30) break;
    }
    return sizes;
  });
  await sleep(500);
  pool._holdBatching(false);
  const sizes = (await Promise.all(runs)).flat();
  assert.ok(
    sizes.some((n) => n > 2),
    `batches mixed frames of several streams (sizes ${[...new Set(sizes)]})`,
  );
});

test('break releases the sources: the process exits by itself', async () => {
  const r = await runChild('video-break.ts', [separate, `${TRAINED}shapes-det.onnx`], 60_000);
  assert.is(r.code, 0, r.stderr);
  assert.not.ok(r.timedOut, 'exited by itself');
  assert.equal(lastJson(r.stdout), { file: 5, live: 5 });
  assert.is(r.stderr, '');
});

test('a source that cannot be opened rejects VIDEO_SOURCE_FAILED naming it; a corrupt file ends in an error', async () => {
  for (const source of [join(TMP, 'missing.mp4'), 'http://127.0.0.1:9/nothing.mjpg']) {
    try {
      for await (const _ of pool.video(source, 'det', { reconnect: 0 })) assert.unreachable();
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'VIDEO_SOURCE_FAILED', String(error));
      assert.ok((error as Error).message.includes(source), (error as Error).message);
    }
  }
  const bytes = readFileSync(separate);
  const corrupt = join(TMP, 'corrupt.mp4');
  writeFileSync(corrupt, Buffer.concat([bytes.subarray(0, 4096), Buffer.alloc(bytes.length - 4096, 0x5a)]));
  let frames = 0;
  let failed: unknown;
  try {
    for await (const _ of pool.video(corrupt, 'det')) frames++;
  } catch (error) {
    failed = error;
  }
  assert.ok(failed !== undefined || frames < 90, 'a corrupt file does not pass for a whole one');
  if (failed) assert.is((failed as { code?: string }).code, 'VIDEO_SOURCE_FAILED');
  const junk = join(TMP, 'junk.mp4');
  writeFileSync(junk, Buffer.alloc(10_000, 7));
  try {
    for await (const _ of pool.video(junk, 'det')) assert.unreachable();
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'VIDEO_SOURCE_FAILED');
  }
});

test('a live source that stops and comes back is reopened (events), and the stream goes on', async () => {
  const camera = await startMjpegServer(30);
  const events: string[] = [];
  try {
    const stream = pool.video(camera.url, 'det', { reconnect: 5, reconnectDelayMs: 200 });
    stream.on('reconnecting', () => events.push('reconnecting'));
    stream.on('reconnected', () => events.push('reconnected'));
    let n = 0;
    let restarted = false;
    for await (const _ of stream) {
      n++;
      if (n === 10) {
        await camera.stop();
        setTimeout(() => void camera.start().then(() => (restarted = true)), 500);
      }
      if (restarted && events.includes('reconnected') && n >= 20) break;
      if (n > 400) break;
    }
    assert.ok(events.includes('reconnecting') && events.includes('reconnected'), events.join(','));
    assert.ok(n >= 20, `frames after the reconnect (${n})`);
  } finally {
    await camera.close();
  }
});

test('writeVideo: an annotated video with the expected frame count and size, frames yielded on', async () => {
  const out = join(TMP, 'annotated.avi');
  const written = writeVideo(pool.video<DetectionResult>(separate, 'det', { tracker: 'bytetrack' }), out);
  const seen: VideoResult<DetectionResult>[] = [];
  for await (const item of written) seen.push(item);
  assert.is(seen.length, 90);
  const stats = await written.finished;
  assert.is(stats.written + stats.dropped, 90);
  assert.ok(stats.written >= 80, `written ${stats.written}`);
  let frames = 0;
  for await (const { frame } of pool.video(out, 'det')) {
    assert.is(frame.width, 640);
    assert.is(frame.height, 480);
    frames++;
  }
  assert.is(frames, stats.written, 'the file opens with OpenCV and holds every written frame');
  copyFileSync(out, join(TMP, 'kept.avi'));
});

test.after(async () => {
  await pool.close();
});

test.run();
