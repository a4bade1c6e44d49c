// GET /metrics: Prometheus text (checked line by line) whose counts match the requests sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createServer } from '../lib/server/index.ts';
import { SERVER_MODELS, httpRequest, parsePrometheus, postJson, sampleValue, shapesImage } from './helpers/server.ts';

const app = await createServer({ models: SERVER_MODELS });
const base = await app.listen({ port: 0, host: '127.0.0.1' });

const image = (i: number) => ({ type: 'base64', value: shapesImage(i).toString('base64') });
const corrupt = { type: 'base64', value: Buffer.from('certainly not a PNG').toString('base64') };

test('/metrics parses as Prometheus text and counts what was sent', async () => {
  const det = 23;
  const bad = 5;
  const cls = 7;
  const answers = await Promise.all([
    ...Array.from({ length: det }, (_, i) =>
      postJson(base, '/infer/object_detection', { model_id: 'det', image: image(i % 8) }),
    ),
    ...Array.from({ length: bad }, () =>
      postJson(base, '/infer/object_detection', { model_id: 'det', image: corrupt }),
    ),
    // A list of 7 images is 7 pool requests.
    postJson(base, '/infer/classification', {
      model_id: 'colors',
      image: Array.from({ length: cls }, (_, i) => image(i)),
    }),
  ]);
  assert.equal(
    answers.map((a) => a.status),
    [...Array(det).fill(200), ...Array(bad).fill(400), 200],
  );

  const r = await httpRequest(base, 'GET', '/metrics');
  assert.is(r.status, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain/);
  const samples = parsePrometheus(r.body.toString());

  const requests = 'inference_pool_requests_total';
  assert.is(sampleValue(samples, requests, { model: 'det', outcome: 'success' }), det);
  assert.is(sampleValue(samples, requests, { model: 'det', outcome: 'failure', code: 'INVALID_IMAGE' }), bad);
  assert.is(sampleValue(samples, requests, { model: 'colors', outcome: 'success' }), cls);

  for (const [model, n] of [
    ['det', det],
    ['colors', cls],
  ] as const) {
    assert.is(sampleValue(samples, 'inference_pool_images_total', { model }), n, `${model} images`);
    const batches = sampleValue(samples, 'inference_pool_batches_total', { model });
    assert.ok(batches >= 1 && batches <= n, `${model} batches ${batches}`);
    for (const h of ['request', 'queue', 'inference']) {
      const name = `inference_pool_${h}_duration_seconds`;
      assert.is(sampleValue(samples, `${name}_count`, { model }), n, `${name}_count`);
      assert.is(sampleValue(samples, `${name}_bucket`, { model, le: '+Inf' }), n, `${name} +Inf bucket`);
      const buckets = samples.filter((s) => s.name === `${name}_bucket` && s.labels.model === model);
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, 'cumulative');
      assert.ok(sampleValue(samples, `${name}_sum`, { model }) >= 0);
    }
    assert.is(sampleValue(samples, 'inference_pool_queue_depth', { model }), 0);
    assert.is(sampleValue(samples, 'inference_pool_in_flight', { model }), 0);
  }
  assert.ok(
    samples.some((s) => s.name === 'process_cpu_seconds_total'),
    "Node's default metrics",
  );
  assert.ok(samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds'));
});

test.after(async () => {
  await app.close();
});

test.run();
