// Every error status of the HTTP server, each answered with Roboflow's `{ message }` while a stream of
// good requests keeps succeeding with correct results.
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { DetectionResult } from '../lib/index.ts';
import { createServer } from '../lib/server/index.ts';
import { failingAtRunModel } from './helpers/models.ts';
import { SERVER_MODELS, TRAINED, assertSameAsInProcess, httpRequest, postJson, shapesImage } from './helpers/server.ts';

const app = await createServer({
  pool: { maxImagePixels: 1_000_000 },
  models: [
    ...SERVER_MODELS,
    { id: 'broken', path: failingAtRunModel(), task: 'classification', warmup: false },
    // Every request's deadline passes before it can run.
    { id: 'hurry', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', timeoutMs: 0.001 },
  ],
  server: { bodyLimit: 1024 * 1024, maxImagesPerRequest: 4 },
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const pool = app.inferencePool;

const good = shapesImage(2);
const goodExpected = await pool.infer<DetectionResult>(good, 'det', { confidence: 0.4, iouThreshold: 0.3 });
const goodBody = { model_id: 'det', image: { type: 'base64', value: good.toString('base64') } };

// Good traffic all along: 4 clients posting the same image until the error tests are done.
let stop = false;
let goodAnswers = 0;
const goodFailures: string[] = [];
const background = Array.from({ length: 4 }, async () => {
  while (!stop) {
    const r = await postJson(base, '/infer/object_detection', goodBody);
    if (r.status !== 200) goodFailures.push(`${r.status} ${r.body.toString()}`);
    else {
      try {
        assertSameAsInProcess(r.json(), goodExpected);
        goodAnswers++;
      } catch (error) {
        goodFailures.push(String(error));
      }
    }
  }
});

async function expectError(
  answer: Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>,
  status: number,
  pattern?: RegExp,
) {
  const r = await answer;
  assert.is(r.status, status, `expected ${status}, got ${r.status}: ${r.body.toString()}`);
  const body = JSON.parse(r.body.toString()) as Record<string, unknown>;
  assert.type(body.message, 'string');
  assert.not.match(String(body.message), /\n\s+at /, 'no stack trace');
  if (pattern) assert.match(String(body.message), pattern);
  return r;
}

test('400: a corrupt image (INVALID_IMAGE), bad base64, an unsupported image type', async () => {
  const corrupt = Buffer.concat([good.subarray(0, 60), Buffer.alloc(100, 7)]);
  await expectError(
    postJson(base, '/infer/object_detection', {
      model_id: 'det',
      image: { type: 'base64', value: corrupt.toString('base64') },
    }),
    400,
  );
  await expectError(
    postJson(base, '/infer/object_detection', { model_id: 'det', image: { type: 'base64', value: '!!not base64!!' } }),
    400,
    /base64/,
  );
  await expectError(
    postJson(base, '/infer/object_detection', { model_id: 'det', image: { type: 'numpy', value: 'gASV' } }),
    400,
    /numpy/,
  );
  await expectError(
    httpRequest(base, 'POST', '/shapes/1', Buffer.from('not an image at all'), { 'content-type': 'image/png' }),
    400,
  );
});

test('400: malformed JSON, missing fields, bad option values, a model of another task, too many images', async () => {
  await expectError(
    httpRequest(base, 'POST', '/infer/object_detection', '{"model_id": "det", "image":', {
      'content-type': 'application/json',
    }),
    400,
  );
  await expectError(postJson(base, '/infer/object_detection', { model_id: 'det' }), 400, /image/);
  await expectError(postJson(base, '/infer/object_detection', { image: goodBody.image }), 400, /model_id/);
  await expectError(
    postJson(base, '/infer/object_detection', { ...goodBody, confidence: 7, max_detections: -1 }),
    400,
    /confidence.*max_detections/,
  );
  await expectError(
    postJson(base, '/infer/object_detection', { ...goodBody, model_id: 'colors' }),
    400,
    /classification/,
  );
  await expectError(
    postJson(base, '/infer/object_detection', { ...goodBody, image: Array(5).fill(goodBody.image) }),
    400,
    /at most 4/,
  );
  await expectError(
    httpRequest(base, 'POST', '/shapes/1?confidence=abc', good, { 'content-type': 'image/png' }),
    400,
    /confidence/,
  );
});

test('404: an unknown model, on every route', async () => {
  await expectError(postJson(base, '/infer/object_detection', { ...goodBody, model_id: 'nope' }), 404, /nope/);
  await expectError(httpRequest(base, 'POST', '/nope/3', good, { 'content-type': 'image/png' }), 404);
});

test("413: a body over the limit; an image over the pool's pixel limit (IMAGE_TOO_LARGE)", async () => {
  const huge = Buffer.alloc(2 * 1024 * 1024, 65).toString();
  await expectError(
    postJson(base, '/infer/object_detection', { model_id: 'det', image: { type: 'base64', value: huge } }),
    413,
  );
  await expectError(
    httpRequest(base, 'POST', '/shapes/1', Buffer.alloc(2 * 1024 * 1024), { 'content-type': 'image/png' }),
    413,
  );
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } })
    .png({ compressionLevel: 9 })
    .toBuffer();
  await expectError(
    postJson(base, '/infer/object_detection', {
      model_id: 'det',
      image: { type: 'base64', value: big.toString('base64') },
    }),
    413,
  );
});

test('415: a content type no route takes', async () => {
  await expectError(
    httpRequest(base, 'POST', '/infer/object_detection', '<xml/>', { 'content-type': 'application/xml' }),
    415,
  );
  await expectError(httpRequest(base, 'POST', '/shapes/1', good, { 'content-type': 'video/mp4' }), 415);
});

test('504: DEADLINE_EXCEEDED', async () => {
  await expectError(postJson(base, '/infer/object_detection', { ...goodBody, model_id: 'hurry' }), 504, /deadline/i);
});

test('500: a model that fails at run time answers a generic message, no details', async () => {
  const r = await expectError(
    postJson(base, '/infer/classification', { model_id: 'broken', image: goodBody.image }),
    500,
  );
  const message = JSON.parse(r.body.toString()).message as string;
  assert.not.match(message, /Reshape|onnx/i, 'ONNX Runtime details stay in the log');
});

test('dropped connections: clients that hang up mid-request fail only themselves', async () => {
  const payload = JSON.stringify({ ...goodBody, image: Array(4).fill(goodBody.image) });
  await Promise.all(
    Array.from(
      { length: 30 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1', () => {
            socket.write(
              `POST /infer/object_detection HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`,
            );
            // Half hang up mid-body, half once the whole request is in (while it is being inferred).
            socket.write(i % 2 ? payload.slice(0, 100) : payload);
            setTimeout(() => socket.destroy(), i % 2 ? 0 : 5);
          });
          socket.on('close', () => resolve());
          socket.on('error', () => {});
        }),
    ),
  );
  const r = await postJson(base, '/infer/object_detection', goodBody);
  assert.is(r.status, 200);
  assertSameAsInProcess(r.json(), goodExpected);
});

test('the good traffic all succeeded, with correct results', async () => {
  stop = true;
  await Promise.all(background);
  assert.equal(goodFailures, []);
  assert.ok(goodAnswers >= 4, `good answers: ${goodAnswers}`);
});

test('401: with an API key configured, every route but health needs it (query, bearer or JSON body)', async () => {
  const secured = await createServer({ pool, server: { apiKey: 's3cret' } });
  const url = await secured.listen({ port: 0, host: '127.0.0.1' });
  try {
    await expectError(postJson(url, '/infer/object_detection', goodBody), 401);
    await expectError(postJson(url, '/infer/object_detection?api_key=wrong', goodBody), 401);
    await expectError(httpRequest(url, 'POST', '/shapes/1', good, { 'content-type': 'image/png' }), 401);
    await expectError(httpRequest(url, 'GET', '/metrics', undefined, { authorization: 'Bearer nope' }), 401);
    await expectError(httpRequest(url, 'GET', '/model/registry'), 401);
    assert.is((await postJson(url, '/infer/object_detection?api_key=s3cret', goodBody)).status, 200);
    assert.is((await postJson(url, '/infer/object_detection', { ...goodBody, api_key: 's3cret' })).status, 200);
    const bearer = await httpRequest(url, 'POST', '/shapes/1', good, {
      'content-type': 'image/png',
      authorization: 'Bearer s3cret',
    });
    assert.is(bearer.status, 200);
    for (const path of ['/healthz', '/readiness', '/v2/health/live', '/v2/health/ready']) {
      assert.is((await httpRequest(url, 'GET', path)).status, 200, path);
    }
  } finally {
    await secured.close();
  }
  assert.not.ok(pool.closed, 'a pool passed in is left open');
});

test.after(async () => {
  await app.close();
});

test.run();
