// The server under load, over real loopback sockets: 1000 concurrent connections all answered
// correctly; a small queue answering 503 + Retry-After, then recovering; a drain that finishes every
// request in flight while readiness and new requests answer 503.
import { Agent } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { DetectionResult } from '../lib/index.ts';
import { createServer } from '../lib/server/index.ts';
import { SERVER_MODELS, assertSameAsInProcess, httpRequest, postJson, shapesImage } from './helpers/server.ts';

const images = Array.from({ length: 8 }, (_, i) => shapesImage(i));
const bodies = images.map((b) => ({ model_id: 'det', image: { type: 'base64', value: b.toString('base64') } }));

test('1000 concurrent connections posting images: every answer 200 and correct', async () => {
  const app = await createServer({ models: SERVER_MODELS });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const expected = await Promise.all(
    images.map((b) => app.inferencePool.infer<DetectionResult>(b, 'det', { confidence: 0.4, iouThreshold: 0.3 })),
  );
  const agent = new Agent({ keepAlive: true, maxSockets: 1000 });
  try {
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => postJson(base, '/infer/object_detection', bodies[i % 8], agent)),
    );
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    assert.equal([...statuses], [[200, 1000]]);
    answers.forEach((a, i) => assertSameAsInProcess(a.json(), expected[i % 8]!));
    const stats = app.inferencePool.stats().det!;
    assert.ok(stats.meanBatchSize > 1, `requests batched (mean batch ${stats.meanBatchSize.toFixed(2)})`);
  } finally {
    agent.destroy();
    await app.close();
  }
});

test('a small maxQueueSize: 503 with Retry-After beyond it, then full recovery', async () => {
  const app = await createServer({
    pool: { maxQueueSize: 4 },
    models: SERVER_MODELS,
    server: { retryAfterSeconds: 2 },
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const agent = new Agent({ keepAlive: true, maxSockets: 200 });
  try {
    const burst = await Promise.all(
      Array.from({ length: 200 }, (_, i) => postJson(base, '/infer/object_detection', bodies[i % 8], agent)),
    );
    const refused = burst.filter((a) => a.status === 503);
    const served = burst.filter((a) => a.status === 200);
    assert.is(refused.length + served.length, 200, 'only 200s and 503s');
    assert.ok(refused.length > 0, 'the queue filled');
    assert.ok(served.length >= 4, 'what fit was served');
    for (const a of refused) {
      assert.is(a.headers['retry-after'], '2');
      assert.match(a.json<{ message: string }>().message, /queue/i);
    }
    // Recovery: the queue drained, so a full queue's worth at once all succeeds.
    const after = await Promise.all(bodies.slice(0, 4).map((b) => postJson(base, '/infer/object_detection', b, agent)));
    assert.equal(
      after.map((a) => a.status),
      [200, 200, 200, 200],
    );
    assert.is((await httpRequest(base, 'GET', '/readiness')).status, 200);
  } finally {
    agent.destroy();
    await app.close();
  }
});

test('drain: requests in flight finish 200; readiness and new requests answer 503 meanwhile', async () => {
  const app = await createServer({ models: SERVER_MODELS });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const agent = new Agent({ keepAlive: true, maxSockets: 300 });
  try {
    app.inferencePool._holdBatching(true); // keep them in flight until the drain has begun
    const inFlight = Array.from({ length: 200 }, (_, i) =>
      postJson(base, '/infer/object_detection', bodies[i % 8], agent),
    );
    while (app.inferenceServer.inFlight < 200) await new Promise((r) => setTimeout(r, 10));
    const drained = app.inferenceServer.drain(20_000);
    assert.not.ok(app.inferenceServer.ready);
    const readiness = await httpRequest(base, 'GET', '/readiness');
    assert.is(readiness.status, 503);
    assert.ok(readiness.headers['retry-after']);
    const late = await postJson(base, '/infer/object_detection', bodies[0]);
    assert.is(late.status, 503);
    assert.is(late.headers.connection, 'close');
    assert.is((await httpRequest(base, 'GET', '/healthz')).status, 200, 'still alive');
    app.inferencePool._holdBatching(false);
    const answers = await Promise.all(inFlight);
    assert.ok(answers.every((a) => a.status === 200));
    assert.is(await drained, true);
  } finally {
    agent.destroy();
    await app.close();
  }
});

test('a slow client does not hold the server: headers and body must arrive in time', async () => {
  const app = await createServer({
    models: SERVER_MODELS,
    server: { headersTimeoutMs: 500, requestTimeoutMs: 1000 },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  try {
    const started = Date.now();
    // One client stops halfway through its headers, another halfway through its body.
    const slow = [
      'POST /infer/object_detection HTTP/1.1\r\nHost: x\r\nContent-Type: appl',
      'POST /infer/object_detection HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model_id"',
    ].map(
      (text) =>
        new Promise<string>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.write(text));
          let answer = '';
          socket.on('data', (d) => (answer += d.toString()));
          socket.on('close', () => resolve(answer));
          socket.on('error', () => {});
        }),
    );
    // Meanwhile everyone else is served.
    assert.is((await postJson(base, '/infer/object_detection', bodies[0])).status, 200);
    const answers = await Promise.all(slow);
    const took = Date.now() - started;
    assert.ok(took < 5000, `slow clients were cut off after ${took} ms`);
    for (const a of answers) assert.ok(a === '' || /^HTTP\/1\.1 408/.test(a), a);
  } finally {
    await app.close();
  }
});

test.run();
