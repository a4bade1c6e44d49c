// Child process for reference.test.ts: onnxruntime-node runs a session first (as an application that
// already uses it would), then an InferencePool is created in the same process and must work.
// Prints one JSON line; exits 0 when the pool inferred, 1 when it failed.
import ort from 'onnxruntime-node';
import { readFileSync } from 'node:fs';

import { InferencePool } from '../../lib/index.ts';
import { modelPath, MODELS } from './models.ts';

const bytes = readFileSync(modelPath(MODELS.randomConv));
const session = await ort.InferenceSession.create(bytes);
const input = new ort.Tensor('float32', new Float32Array(3 * 48 * 48).fill(128 / 255), [1, 3, 48, 48]);
const reference = Array.from((await session.run({ images: input })).logits!.data as Float32Array);

try {
  const pool = await InferencePool.create({
    models: [{ id: 'rc', path: bytes, task: 'classification', activation: 'none' }],
  });
  const r = await pool.infer(
    { data: new Uint8Array(48 * 48 * 3).fill(128), width: 48, height: 48, format: 'rgb' },
    'rc',
  );
  await pool.close();
  console.log(JSON.stringify({ ok: true, reference, scores: Array.from(r.scores) }));
} catch (error) {
  const e = error as { code?: string; message?: string };
  console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }));
  process.exitCode = 1;
}
