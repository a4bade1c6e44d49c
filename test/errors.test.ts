// Every error code, each raised while other requests are in flight on the same pool (and those
// succeed): the error is an InferencePoolError with the right code and a message that says what is wrong.
import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool, InferencePoolError } from '../lib/index.ts';
import type { ClassificationResult, ImageInput, ModelSpec } from '../lib/index.ts';
import { GraphBuilder } from '../scripts/onnx/builder.ts';
import { encodeJpeg, encodePng, noise, prng, solid, toRaw } from './helpers/images.ts';
import type { Rgb } from './helpers/images.ts';
import { failingAtRunModel, modelPath, MODELS, rejectsWith, scalarOutputModel, waitFor } from './helpers/models.ts';
import { maxAbsDiff } from './helpers/reference.ts';

const mean: ModelSpec = { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' };

const pool = await InferencePool.create({
  maxBatchSize: 8,
  models: [
    mean,
    { id: 'fails-at-run', path: failingAtRunModel(), task: 'classification', warmup: false },
    { id: 'scalar-output', path: scalarOutputModel(), task: 'classification' },
  ],
});

/** Marks a promise as handled, so that a test failing early does not crash the process. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function colour(i: number): Rgb {
  return [(i * 37) % 256, (i * 91 + 20) % 256, (i * 53 + 200) % 256];
}

/**
 * Starts `n` good requests on `target`, runs `body` while they are in flight, then checks that every
 * one of them succeeded with its own image's logits (10 · v/255 for a solid image).
 */
async function withTraffic(target: InferencePool, body: () => Promise<void>, n = 150): Promise<void> {
  const traffic = Array.from({ length: n }, (_, i) => handled(target.infer(toRaw(solid(30, 30, colour(i))), 'mean')));
  await body();
  const results = (await Promise.all(traffic)) as ClassificationResult[];
  results.forEach((r, i) => {
    const expected = colour(i).map((v) => (10 * v) / 255);
    assert.ok(maxAbsDiff(r.scores, expected) < 1e-4, `background request ${i} got ${Array.from(r.scores)}`);
  });
}

const goodPng = encodePng(solid(20, 10, [200, 10, 10]));

test('INVALID_IMAGE: corrupt bytes, a truncated or damaged PNG, raw data too short, an empty buffer', async () => {
  await withTraffic(pool, async () => {
    const rand = prng(7);
    const garbage = Uint8Array.from({ length: 500 }, () => (rand() * 256) | 0);
    await rejectsWith(pool.infer(garbage, 'mean'), 'INVALID_IMAGE', /not a JPEG, PNG, BMP or WebP/);
    await rejectsWith(pool.infer(Buffer.from('hello, I am not an image at all'), 'mean'), 'INVALID_IMAGE');
    const png = encodePng(noise(64, 64, 1));
    await rejectsWith(pool.infer(png.subarray(0, png.length >> 1), 'mean'), 'INVALID_IMAGE', /decode/);
    await rejectsWith(pool.infer(png.subarray(0, 40), 'mean'), 'INVALID_IMAGE');
    // Valid header, garbage after it.
    const damaged = Buffer.from(png);
    for (let i = 40; i < damaged.length; i++) damaged[i] = (rand() * 256) | 0;
    await rejectsWith(pool.infer(damaged, 'mean'), 'INVALID_IMAGE');
    const jpeg = await encodeJpeg(noise(64, 64, 2));
    await rejectsWith(pool.infer(jpeg.subarray(0, 20), 'mean'), 'INVALID_IMAGE');
    await rejectsWith(pool.infer(new Uint8Array(0), 'mean'), 'INVALID_IMAGE', /empty/);
    await rejectsWith(
      pool.infer({ data: new Uint8Array(10 * 10 * 3 - 1), width: 10, height: 10, format: 'rgb' }, 'mean'),
      'INVALID_IMAGE',
      /299 bytes.*300/,
    );
    await rejectsWith(
      pool.infer({ data: new Uint8Array(10 * 10 * 3), width: 10, height: 10, format: 'rgba' }, 'mean'),
      'INVALID_IMAGE',
    );
    await rejectsWith(
      pool.infer({ data: new Uint8Array(12), width: 0, height: 4, format: 'rgb' }, 'mean'),
      'INVALID_IMAGE',
    );
  });
  assert.ok(pool.stats().mean!.failed >= 10, 'the failures are counted');
});

test('IMAGE_TOO_LARGE: encoded and raw images over maxImagePixels; a header that claims a huge image', async () => {
  const small = await InferencePool.create({ models: [mean], maxImagePixels: 1000 });
  try {
    await withTraffic(small, async () => {
      const big = solid(40, 30, [1, 2, 3]); // 1200 pixels
      const e = await rejectsWith(small.infer(encodePng(big), 'mean'), 'IMAGE_TOO_LARGE', /40x30/);
      assert.match(e.message, /1000/);
      await rejectsWith(small.infer(await encodeJpeg(big), 'mean'), 'IMAGE_TOO_LARGE');
      await rejectsWith(small.infer(toRaw(big), 'mean'), 'IMAGE_TOO_LARGE', /40x30/);
      await rejectsWith(small.infer(toRaw(big, 'gray'), 'mean'), 'IMAGE_TOO_LARGE');
      // At the limit is fine.
      const ok = (await small.infer(toRaw(solid(40, 25, [255, 0, 0])), 'mean')) as ClassificationResult;
      assert.equal(ok.image, { width: 40, height: 25 });
    });
  } finally {
    await small.close();
  }
  // A PNG whose header claims 100000 x 100000 pixels is refused from its header, before any decoding.
  await withTraffic(pool, async () => {
    const bomb = Buffer.from(goodPng);
    bomb.writeUInt32BE(100_000, 16);
    bomb.writeUInt32BE(100_000, 20);
    await rejectsWith(pool.infer(bomb, 'mean'), 'IMAGE_TOO_LARGE', /100000x100000/);
  });
});

test('MODEL_NOT_FOUND: an unknown model id', async () => {
  await withTraffic(pool, async () => {
    await rejectsWith(pool.infer(goodPng, 'no-such-model'), 'MODEL_NOT_FOUND', /no-such-model/);
    await rejectsWith(pool.unloadModel('no-such-model'), 'MODEL_NOT_FOUND', /no-such-model/);
  });
});

test('MODEL_LOAD_FAILED: a missing file (named in the message), garbage bytes, a model that is no image classifier', async () => {
  await withTraffic(pool, async () => {
    const missing = '/nonexistent/dir/model-that-is-not-there.onnx';
    const e = await rejectsWith(
      pool.loadModel({ id: 'missing', path: missing, task: 'classification' }),
      'MODEL_LOAD_FAILED',
    );
    assert.ok(e.message.includes(missing), `message names the path: ${e.message}`);
    const notOnnx = modelPath(MODELS.meanColor).replace(/mean-color\.onnx$/, '../../package.json');
    const e2 = await rejectsWith(
      pool.loadModel({ id: 'text', path: notOnnx, task: 'classification' }),
      'MODEL_LOAD_FAILED',
    );
    assert.ok(e2.message.includes(notOnnx), e2.message);
    const rand = prng(3);
    const garbage = Uint8Array.from({ length: 2000 }, () => (rand() * 256) | 0);
    const e3 = await rejectsWith(
      pool.loadModel({ id: 'garbage', path: garbage, task: 'classification' }),
      'MODEL_LOAD_FAILED',
    );
    assert.match(e3.message, /garbage/);
    await rejectsWith(
      pool.loadModel({ id: 'empty', path: new Uint8Array(0), task: 'classification' }),
      'MODEL_LOAD_FAILED',
    );
    // A valid ONNX model whose input is no image.
    const g = new GraphBuilder('vector');
    const x = g.input('x', ['batch', 10]);
    g.op('Relu', [x], {}, { output: 'y' });
    g.output('y', ['batch', 10]);
    await rejectsWith(
      pool.loadModel({ id: 'vector', path: g.toBytes(), task: 'classification' }),
      'MODEL_LOAD_FAILED',
      /input/,
    );
    assert.ok(
      !pool.models.some((m) => ['missing', 'text', 'garbage', 'empty', 'vector'].includes(m.id)),
      'nothing half-loaded',
    );
  });
});

test('INVALID_ARGUMENT: bad request options and image arguments', async () => {
  await withTraffic(pool, async () => {
    await rejectsWith(pool.infer(goodPng, 'mean', { topK: -1 }), 'INVALID_ARGUMENT', /topK/);
    await rejectsWith(pool.infer(goodPng, 'mean', { topK: 1.5 }), 'INVALID_ARGUMENT', /topK/);
    await rejectsWith(pool.infer(goodPng, 'mean', { topK: '3' as unknown as number }), 'INVALID_ARGUMENT', /topK/);
    await rejectsWith(pool.infer(goodPng, 'mean', null as unknown as object), 'INVALID_ARGUMENT');
    const raw = toRaw(solid(4, 4, [1, 2, 3]));
    await rejectsWith(pool.infer({ ...raw, format: 'yuv' as 'rgb' }, 'mean'), 'INVALID_ARGUMENT', /yuv/);
    for (const bad of [
      42,
      'a string',
      null,
      undefined,
      {},
      { data: [1, 2, 3], width: 1, height: 1, format: 'rgb' },
      new Float32Array(12),
    ]) {
      await rejectsWith(pool.infer(bad as unknown as ImageInput, 'mean'), 'INVALID_ARGUMENT');
    }
    await rejectsWith(pool.infer({ ...raw, width: -3 }, 'mean'), 'INVALID_ARGUMENT', /width/);
  });
});

test('INVALID_ARGUMENT: bad model specs and pool options', async () => {
  await withTraffic(pool, async () => {
    const base = { id: 'bad', path: modelPath(MODELS.meanColor), task: 'classification' } as ModelSpec;
    const bad: [Partial<Record<keyof ModelSpec, unknown>>, RegExp?][] = [
      [{ task: 'segmentation' }, /task/],
      [{ task: undefined }, /task/],
      [{ id: '' }, /id/],
      [{ id: 42 }, /id/],
      [{ path: 42 }, /path/],
      [{ resize: 'crop' }, /crop/],
      [{ channelOrder: 'xyz' }, /xyz/],
      [{ activation: 'relu' }, /relu/],
      [{ std: 0 }, /std/],
      [{ std: [1, 0, 1] }, /std/],
      [{ mean: [0.5, 0.5] }, /mean/],
      [{ mean: 'zero' }, /mean/],
      [{ instances: 0 }, /instances/],
      [{ instances: 1.5 }, /instances/],
      [{ maxBatchSize: -1 }, /maxBatchSize/],
      [{ inputSize: [0, 10] }, /inputSize/],
      [{ inputSize: [32] }, /inputSize/],
      [{ inputSize: [64, 64] }, /64/], // the model's input is fixed at 32x32
      [{ classNames: [1, 2, 3] }, /classNames/],
      [{ classNames: 'red' }, /classNames/],
      [{ id: 'mean' }, /already/], // duplicate id
    ];
    for (const [fields, message] of bad) {
      const spec = { ...base, ...fields } as ModelSpec;
      const e = await rejectsWith(pool.loadModel(spec), 'INVALID_ARGUMENT');
      if (message) assert.match(e.message, message, JSON.stringify(fields));
    }
    await rejectsWith(pool.loadModel(null as unknown as ModelSpec), 'INVALID_ARGUMENT');
    await rejectsWith(pool.unloadModel(42 as unknown as string), 'INVALID_ARGUMENT');
    assert.equal(pool.models.map((m) => m.id).sort(), ['fails-at-run', 'mean', 'scalar-output']);

    for (const [options, message] of [
      [{ maxBatchSize: 0 }, /maxBatchSize/],
      [{ maxBatchSize: 2.5 }, /maxBatchSize/],
      [{ maxQueueDelayMs: -1 }, /maxQueueDelayMs/],
      [{ maxQueueSize: 0 }, /maxQueueSize/],
      [{ preprocessThreads: 0 }, /preprocessThreads/],
      [{ maxImagePixels: -5 }, /maxImagePixels/],
      [{ executionProvider: 'tpu' }, /tpu/],
      [{ models: [{ ...base, resize: 'crop' }] }, /crop/],
    ] as [object, RegExp][]) {
      await rejectsWith(InferencePool.create(options), 'INVALID_ARGUMENT', message);
    }
    await rejectsWith(InferencePool.create(null as unknown as object), 'INVALID_ARGUMENT');
  });
});

test('QUEUE_FULL: the request over maxQueueSize is refused, the ones admitted complete after release', async () => {
  const small = await InferencePool.create({ models: [mean], maxQueueSize: 4 });
  try {
    small._holdBatching(true);
    const admitted = Array.from({ length: 4 }, (_, i) => handled(small.infer(toRaw(solid(8, 8, colour(i))), 'mean')));
    await rejectsWith(small.infer(goodPng, 'mean'), 'QUEUE_FULL', /maxQueueSize|4/);
    await rejectsWith(small.infer(goodPng, 'mean'), 'QUEUE_FULL');
    small._holdBatching(false);
    const results = (await Promise.all(admitted)) as ClassificationResult[];
    results.forEach((r, i) =>
      assert.ok(
        maxAbsDiff(
          r.scores,
          colour(i).map((v) => (10 * v) / 255),
        ) < 1e-4,
      ),
    );
    // Room again once they are done.
    await small.infer(goodPng, 'mean');
    const s = small.stats().mean!;
    assert.is(s.completed, 5);
  } finally {
    await small.close();
  }
});

test('ABORTED: a signal aborted before the call, and one aborted while the request waits', async () => {
  await withTraffic(pool, async () => {
    const before = pool.stats().mean!.requests;
    await rejectsWith(pool.infer(goodPng, 'mean', { signal: AbortSignal.abort() }), 'ABORTED');
    assert.is(pool.stats().mean!.requests, before, 'an aborted signal submits nothing');
  });

  const held = await InferencePool.create({ models: [mean] });
  try {
    held._holdBatching(true);
    const controller = new AbortController();
    const keep = [0, 1].map((i) => handled(held.infer(toRaw(solid(8, 8, colour(i))), 'mean')));
    const aborted = handled(held.infer(toRaw(solid(8, 8, colour(7))), 'mean', { signal: controller.signal }));
    const other = new AbortController();
    const notAborted = handled(held.infer(toRaw(solid(8, 8, colour(2))), 'mean', { signal: other.signal }));
    await waitFor(() => held.stats().mean!.queueDepth === 4, 'four requests lined up');
    controller.abort(new Error('the user gave up'));
    const e = await rejectsWith(aborted, 'ABORTED', /the user gave up/);
    assert.instance(e.cause, Error);
    held._holdBatching(false);
    const results = (await Promise.all([...keep, notAborted])) as ClassificationResult[];
    [0, 1, 2].forEach((c, i) =>
      assert.ok(
        maxAbsDiff(
          results[i]!.scores,
          colour(c).map((v) => (10 * v) / 255),
        ) < 1e-4,
      ),
    );
    assert.is(results[0]!.batchSize, 3, 'the aborted request left the batch');
    other.abort(); // after completion: nothing happens
    await waitFor(() => held.stats().mean!.failed === 1, 'the aborted request counted as failed');
    assert.is(held.stats().mean!.completed, 3);
  } finally {
    await held.close();
  }
});

test('POOL_CLOSED: infer, loadModel and unloadModel after close', async () => {
  const closing = await InferencePool.create({ models: [mean] });
  await closing.infer(goodPng, 'mean');
  await closing.close();
  assert.ok(closing.closed);
  await rejectsWith(closing.infer(goodPng, 'mean'), 'POOL_CLOSED');
  await rejectsWith(
    closing.loadModel({ id: 'again', path: modelPath(MODELS.meanColor), task: 'classification' }),
    'POOL_CLOSED',
  );
  await rejectsWith(closing.unloadModel('mean'), 'POOL_CLOSED');
  await closing.close(); // a second close is fine
  assert.equal(closing.stats(), {});
});

test('INFERENCE_FAILED: a model that fails in ONNX Runtime, and one whose output has no batch dimension', async () => {
  await withTraffic(pool, async () => {
    const e = await rejectsWith(pool.infer(goodPng, 'fails-at-run'), 'INFERENCE_FAILED', /inference failed/);
    assert.ok(e.message.length > 30);
    await rejectsWith(pool.infer(goodPng, 'scalar-output'), 'INFERENCE_FAILED', /batch/);
    // Concurrent ones fail together, and the pool goes on.
    const many = await Promise.allSettled(Array.from({ length: 12 }, () => pool.infer(goodPng, 'fails-at-run')));
    for (const m of many) {
      assert.is(m.status, 'rejected');
      assert.is(((m as PromiseRejectedResult).reason as InferencePoolError).code, 'INFERENCE_FAILED');
    }
  });
  assert.is(pool.stats()['fails-at-run']!.failed, 13);
  assert.is(pool.stats()['fails-at-run']!.completed, 0);
});

test('PROVIDER_UNAVAILABLE: executionProvider cuda without a usable CUDA provider', async () => {
  const hasGpu = existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia');
  await withTraffic(pool, async () => {
    const attempt = InferencePool.create({ executionProvider: 'cuda', models: [mean] });
    if (hasGpu) {
      // A machine with a GPU may have a working provider; then it must work, else the same error.
      try {
        const gpuPool = await attempt;
        const r = (await gpuPool.infer(toRaw(solid(8, 8, [255, 0, 0])), 'mean')) as ClassificationResult;
        assert.ok(maxAbsDiff(r.scores, [10, 0, 0]) < 1e-4);
        await gpuPool.close();
        return;
      } catch (error) {
        assert.instance(error, InferencePoolError);
        assert.is((error as InferencePoolError).code, 'PROVIDER_UNAVAILABLE');
        return;
      }
    }
    const e = await rejectsWith(attempt, 'PROVIDER_UNAVAILABLE', /CUDA/);
    assert.match(e.message, /cpu/, 'says what to do instead');
  });
});

test.after(() => pool.close());

test.run();
