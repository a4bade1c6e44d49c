// The plugin in an app of one's own, readiness while models load, and the model registry routes
// (which open only configured models or files in the models folder, never a client's path).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

import Fastify from 'fastify';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import { createServer, inferencePool } from '../lib/server/index.ts';
import { ROOT } from './helpers/child.ts';
import { SERVER_MODELS, TRAINED, postJson, shapesImage } from './helpers/server.ts';

const body = { model_id: 'det', image: { type: 'base64', value: shapesImage(0).toString('base64') } };

test("the plugin in an existing Fastify app: its routes and the app's own, the app's error handling untouched", async () => {
  const app = Fastify();
  app.get('/mine', async () => ({ mine: true }));
  app.get('/boom', async () => {
    throw Object.assign(new Error('app error'), { statusCode: 418 });
  });
  await app.register(inferencePool, { pool: { models: [SERVER_MODELS[0]!] } });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    assert.is((await postJson(base, '/infer/object_detection', body)).status, 200);
    const mine = await app.inject({ method: 'GET', url: '/mine' });
    assert.equal(mine.json(), { mine: true });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    assert.is(boom.statusCode, 418);
    assert.is(boom.json().error, "I'm a Teapot", "Fastify's default error body, not the plugin's");
    assert.ok(app.inferencePool instanceof InferencePool);
  } finally {
    await app.close();
  }
  assert.ok(app.inferencePool.closed, 'a pool the plugin created is closed with the app');
});

test('with a pool of your own, closing the app leaves the pool open', async () => {
  const pool = await InferencePool.create({ models: [SERVER_MODELS[0]!] });
  const app = await createServer({ pool });
  assert.is((await app.inject({ method: 'POST', url: '/infer/object_detection', payload: body })).statusCode, 200);
  await app.close();
  assert.not.ok(pool.closed);
  await pool.close();
});

test('waitForModels: false — readiness 503 (and inference 503) until the models have loaded', async () => {
  const app = await createServer({ models: SERVER_MODELS, waitForModels: false });
  try {
    const early = await app.inject({ method: 'GET', url: '/readiness' });
    assert.is(early.statusCode, 503);
    assert.ok(early.headers['retry-after']);
    assert.is((await app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 503);
    assert.is((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const inferEarly = await app.inject({
      method: 'POST',
      url: '/infer/classification',
      payload: { ...body, model_id: 'colors' },
    });
    assert.ok([200, 503].includes(inferEarly.statusCode), 'served if its model is in, else 503');
    await app.inferenceServer.loaded;
    assert.is((await app.inject({ method: 'GET', url: '/readiness' })).statusCode, 200);
  } finally {
    await app.close();
  }
});

test('a model that fails to load: createServer rejects; with waitForModels false, `loaded` rejects and readiness stays 503', async () => {
  const bad = [{ id: 'bad', path: join(ROOT, 'package.json'), task: 'classification' as const }];
  try {
    await createServer({ models: bad });
    assert.unreachable('should have rejected');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'MODEL_LOAD_FAILED');
  }
  const app = await createServer({ models: bad, waitForModels: false });
  try {
    await app.inferenceServer.loaded.then(
      () => assert.unreachable('should have rejected'),
      (error: { code?: string }) => assert.is(error.code, 'MODEL_LOAD_FAILED'),
    );
    assert.is((await app.inject({ method: 'GET', url: '/readiness' })).statusCode, 503);
  } finally {
    await app.close();
  }
});

test('model registry: remove, add (configured or from the models folder only), clear; admin off', async () => {
  const dir = join(ROOT, 'test', '.tmp', 'models-dir');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'shapes'), { recursive: true });
  copyFileSync(`${TRAINED}shapes-det.onnx`, join(dir, 'shapes', '7.onnx'));
  const app = await createServer({ models: [SERVER_MODELS[0]!], server: { modelsDir: dir } });
  const ids = async (url: string, payload?: object) => {
    const r = await app.inject({ method: payload ? 'POST' : 'GET', url, payload });
    assert.is(r.statusCode, 200, r.body);
    return (r.json().models as { model_id: string }[]).map((m) => m.model_id).sort();
  };
  try {
    assert.equal(await ids('/model/registry'), ['det']);
    const registry = (await app.inject({ method: 'GET', url: '/model/registry' })).json();
    assert.equal(Object.keys(registry.models[0]).sort(), [
      'batch_size',
      'input_height',
      'input_width',
      'model_id',
      'task_type',
    ]);
    assert.equal(await ids('/model/remove', { model_id: 'det' }), []);
    assert.is((await app.inject({ method: 'POST', url: '/infer/object_detection', payload: body })).statusCode, 404);
    assert.equal(await ids('/model/add', { model_id: 'det' }), ['det'], 'configured: loads again');
    assert.equal(await ids('/model/add', { model_id: 'shapes/7', model_type: 'object-detection' }), [
      'det',
      'shapes/7',
    ]);
    const png = shapesImage(1);
    const legacy = await app.inject({
      method: 'POST',
      url: '/shapes/7',
      payload: png,
      headers: { 'content-type': 'image/png' },
    });
    assert.is(legacy.statusCode, 200);
    for (const id of ['../shapes/7', 'shapes/../shapes/7', '/etc/passwd', 'unknown', `${dir}/shapes/7`]) {
      const r = await app.inject({
        method: 'POST',
        url: '/model/add',
        payload: { model_id: id, model_type: 'object-detection' },
      });
      assert.is(r.statusCode, 404, id);
    }
    const noType = await app.inject({ method: 'POST', url: '/model/remove', payload: {} });
    assert.is(noType.statusCode, 400);
    assert.is(
      (await app.inject({ method: 'POST', url: '/model/remove', payload: { model_id: 'nope' } })).statusCode,
      404,
    );
    assert.equal(await ids('/model/clear', {}), []);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const locked = await createServer({ models: [SERVER_MODELS[0]!], server: { admin: false } });
  try {
    assert.is((await locked.inject({ method: 'GET', url: '/model/registry' })).statusCode, 200);
    const add = await locked.inject({ method: 'POST', url: '/model/clear', payload: {} });
    assert.not.equal(add.statusCode, 200);
    assert.equal(
      locked.inferencePool.models.map((m) => m.id),
      ['det'],
    );
  } finally {
    await locked.close();
  }
});

test.run();
