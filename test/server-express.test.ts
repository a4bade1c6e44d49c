// examples/express-server.ts: the Roboflow mapping's plain functions behind Express answer the same
// as the pool in process, with Roboflow's error bodies.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult } from '../lib/index.ts';
import { ROOT } from './helpers/child.ts';
import { TRAINED, assertSameAsInProcess, postJson, shapesImage } from './helpers/server.ts';

test('the Express example serves /infer/object_detection like the pool in process', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'express-server.ts')], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.on('exit', (code) => reject(new Error(`the example exited (${code}): ${stderr}`)));
    });
    const png = shapesImage(3);
    const pool = await InferencePool.create({
      models: [{ id: 'shapes', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' }],
    });
    const expected = await pool.infer<DetectionResult>(png, 'shapes', { confidence: 0.4, iouThreshold: 0.3 });
    await pool.close();
    const body = { model_id: 'shapes', image: { type: 'base64', value: png.toString('base64') } };
    const r = await postJson(base, '/infer/object_detection', body);
    assert.is(r.status, 200, r.body.toString());
    assertSameAsInProcess(r.json(), expected);
    const wrong = await postJson(base, '/infer/classification', body);
    assert.is(wrong.status, 400);
    assert.match(wrong.json<{ message: string }>().message, /object-detection/);
    const missing = await postJson(base, '/infer/object_detection', { ...body, model_id: 'nope' });
    assert.is(missing.status, 404);
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
  assert.is(stderr, '');
});

test.run();
