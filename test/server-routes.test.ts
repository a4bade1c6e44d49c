// The HTTP server's routes over real loopback sockets: every Roboflow request form, with responses equal
// to the in-process infer results for the same bytes.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ClassificationResult, DetectionResult } from '../lib/index.ts';
import { createServer } from '../lib/server/index.ts';
import { SERVER_MODELS, assertSameAsInProcess, httpRequest, postJson, shapesImage } from './helpers/server.ts';

const app = await createServer({
  models: SERVER_MODELS,
  server: {
    allowUrlInput: true,
    urlInput: { allowHttp: true, isAllowedAddress: (address) => address === '127.0.0.1' },
  },
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
const pool = app.inferencePool;

const png = shapesImage(0);
const jpeg = await sharp(shapesImage(1)).jpeg({ quality: 90 }).toBuffer();
const red = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 230, g: 20, b: 20 } } })
  .png()
  .toBuffer();

// Roboflow's defaults, as the pool's options.
const DEFAULTS = { confidence: 0.4, iouThreshold: 0.3, maxDetections: 300, maxCandidates: 3000 };

test('POST /infer/object_detection: base64 JSON, the same predictions as pool.infer', async () => {
  const expected = await pool.infer<DetectionResult>(png, 'det', DEFAULTS);
  assert.ok(expected.predictions.length > 0, 'the fixture has objects');
  const r = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    image: { type: 'base64', value: png.toString('base64') },
  });
  assert.is(r.status, 200, r.body.toString());
  assertSameAsInProcess(r.json(), expected);
});

test('POST /infer/object_detection: the options map onto the pool (confidence, iou, class filter, max_detections)', async () => {
  const options = { confidence: 0.6, iouThreshold: 0.5, maxDetections: 2, classAgnosticNms: true };
  const expected = await pool.infer<DetectionResult>(jpeg, 'det', { ...DEFAULTS, ...options });
  const r = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    image: { type: 'base64', value: jpeg.toString('base64') },
    confidence: 0.6,
    iou_threshold: 0.5,
    max_detections: 2,
    class_agnostic_nms: true,
  });
  assert.is(r.status, 200);
  assertSameAsInProcess(r.json(), expected);
  const cls = expected.predictions[0]?.class;
  if (cls) {
    const filtered = await pool.infer<DetectionResult>(jpeg, 'det', { ...DEFAULTS, classFilter: [cls] });
    const f = await postJson(base, '/infer/object_detection', {
      model_id: 'det',
      image: { type: 'base64', value: jpeg.toString('base64') },
      class_filter: [cls],
    });
    assertSameAsInProcess(f.json(), filtered);
    assert.ok(filtered.predictions.every((p) => p.class === cls));
  }
});

test('POST /infer/instance_segmentation: points, each mask decode mode', async () => {
  for (const mode of ['accurate', 'fast', 'tradeoff'] as const) {
    const expected = await pool.infer<DetectionResult>(png, 'seg', {
      ...DEFAULTS,
      maskDecodeMode: mode,
      tradeoffFactor: 0.5,
    });
    const r = await postJson(base, '/infer/instance_segmentation', {
      model_id: 'seg',
      image: { type: 'base64', value: png.toString('base64') },
      mask_decode_mode: mode,
      tradeoff_factor: 0.5,
    });
    assert.is(r.status, 200);
    const body = r.json<{ predictions: { points: unknown[] }[] }>();
    assertSameAsInProcess(body, expected);
    assert.ok(body.predictions.length > 0 && body.predictions.every((p) => p.points.length >= 3));
  }
});

test('POST /infer/classification: predictions, top, confidence', async () => {
  const expected = await pool.infer<ClassificationResult>(red, 'colors');
  const r = await postJson(base, '/infer/classification', {
    model_id: 'colors',
    image: { type: 'base64', value: `data:image/png;base64,${red.toString('base64')}` },
  });
  assert.is(r.status, 200);
  const body = r.json<{ top: string }>();
  assertSameAsInProcess(body, expected);
  assert.is(body.top, 'red');
});

test('a list of images answers a list, in order, each equal to its in-process result', async () => {
  const images = [0, 1, 2, 3].map(shapesImage);
  const expected = await Promise.all(images.map((b) => pool.infer<DetectionResult>(b, 'det', DEFAULTS)));
  const r = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    image: images.map((b) => ({ type: 'base64', value: b.toString('base64') })),
  });
  assert.is(r.status, 200);
  const list = r.json<Record<string, unknown>[]>();
  assert.is(list.length, 4);
  list.forEach((response, i) => assertSameAsInProcess(response, expected[i]!));
  assert.is(new Set(list.map((x) => x.inference_id)).size, 4, 'one inference id per image');
  const withId = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    id: 'my-request',
    image: { type: 'base64', value: png.toString('base64') },
  });
  assert.is(withId.json<{ inference_id: string }>().inference_id, 'my-request');
});

test('visualize_predictions adds a base64 JPEG of the image', async () => {
  const r = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    image: { type: 'base64', value: png.toString('base64') },
    visualize_predictions: true,
    visualization_labels: true,
    visualization_stroke_width: 3,
  });
  assert.is(r.status, 200);
  const { visualization, image } = r.json<{ visualization: string; image: { width: number; height: number } }>();
  const meta = await sharp(Buffer.from(visualization, 'base64')).metadata();
  assert.is(meta.format, 'jpeg');
  assert.is(meta.width, image.width);
  assert.is(meta.height, image.height);
  const plain = await postJson(base, '/infer/object_detection', {
    model_id: 'det',
    image: { type: 'base64', value: png.toString('base64') },
  });
  assert.not.ok('visualization' in plain.json<object>());
});

test('legacy POST /:dataset/:version: form-encoded base64, multipart, raw bytes — the same answer', async () => {
  const expected = await pool.infer<DetectionResult>(jpeg, 'shapes/1', { ...DEFAULTS, confidence: 0.5 });
  const form = await httpRequest(base, 'POST', '/shapes/1?confidence=50', jpeg.toString('base64'), {
    'content-type': 'application/x-www-form-urlencoded',
  });
  assert.is(form.status, 200, form.body.toString());
  assertSameAsInProcess(form.json(), expected);

  const raw = await httpRequest(base, 'POST', '/shapes/1?confidence=0.5', jpeg, { 'content-type': 'image/jpeg' });
  assert.is(raw.status, 200);
  assertSameAsInProcess(raw.json(), expected);

  const boundary = '----inference-pool-test';
  const multipart = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
    ),
    jpeg,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const mp = await httpRequest(base, 'POST', '/shapes/1?confidence=0.5', multipart, {
    'content-type': `multipart/form-data; boundary=${boundary}`,
  });
  assert.is(mp.status, 200, mp.body.toString());
  assertSameAsInProcess(mp.json(), expected);
});

test('legacy query: overlap, max_detections, classes, format=image', async () => {
  const first = (await pool.infer<DetectionResult>(png, 'shapes/1', DEFAULTS)).predictions[0]!.class;
  const expected = await pool.infer<DetectionResult>(png, 'shapes/1', {
    ...DEFAULTS,
    iouThreshold: 0.45,
    maxDetections: 1,
    classFilter: [first],
  });
  const r = await httpRequest(base, 'POST', `/shapes/1?overlap=45&max_detections=1&classes=${first}`, png, {
    'content-type': 'image/png',
  });
  assert.is(r.status, 200);
  assertSameAsInProcess(r.json(), expected);

  const img = await httpRequest(base, 'POST', '/shapes/1?format=image&labels=true&stroke=2', png, {
    'content-type': 'image/png',
  });
  assert.is(img.status, 200);
  assert.match(String(img.headers['content-type']), /^image\/jpeg/);
  assert.is((await sharp(img.body).metadata()).format, 'jpeg');
});

test('URL input (on here, for loopback only): { type: "url" } and ?image=URL', async () => {
  const files = createHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(png);
  });
  await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(files.address() as AddressInfo).port}/a.png`;
  try {
    const expected = await pool.infer<DetectionResult>(png, 'det', DEFAULTS);
    const r = await postJson(base, '/infer/object_detection', { model_id: 'det', image: { type: 'url', value: url } });
    assert.is(r.status, 200, r.body.toString());
    assertSameAsInProcess(r.json(), expected);
    const q = await httpRequest(base, 'POST', `/shapes/1?image=${encodeURIComponent(url)}`);
    assert.is(q.status, 200, q.body.toString());
    assertSameAsInProcess(q.json(), expected);
    const refused = await postJson(base, '/infer/object_detection', {
      model_id: 'det',
      image: { type: 'url', value: url.replace('127.0.0.1', '127.0.0.2') },
    });
    assert.is(refused.status, 400);
    assert.type(refused.json<{ message: string }>().message, 'string');
  } finally {
    files.close();
  }
});

test('health, readiness, KServe v2, /info and the model registry', async () => {
  for (const path of ['/healthz', '/readiness', '/v2/health/live', '/v2/health/ready', '/v2/models/det/ready']) {
    assert.is((await httpRequest(base, 'GET', path)).status, 200, path);
  }
  assert.is((await httpRequest(base, 'GET', '/v2/models/shapes/1/ready')).status, 200);
  assert.is((await httpRequest(base, 'GET', '/v2/models/nope/ready')).status, 404);
  const info = (await httpRequest(base, 'GET', '/info')).json<{ name: string; version: string }>();
  assert.is(info.name, 'inference-pool');
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  const registry = (await httpRequest(base, 'GET', '/model/registry')).json<{ models: { model_id: string }[] }>();
  assert.equal(registry.models.map((m) => m.model_id).sort(), ['colors', 'det', 'seg', 'shapes/1']);
});

test.after(async () => {
  await app.close();
});

test.run();
