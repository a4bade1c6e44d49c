// Child process for lifecycle.test.ts: calls process.exit(code) while hundreds of requests are in
// flight. The process must exit with that code, without a crash.
import { InferencePool } from '../../lib/index.ts';
import { noise, toRaw } from './images.ts';
import { modelPath, MODELS } from './models.ts';

const code = Number(process.argv[2] ?? 7);
const pool = await InferencePool.create({
  models: [{ id: 'conv', path: modelPath(MODELS.randomConv), task: 'classification' }],
});
const image = toRaw(noise(200, 150, 1));
const requests = Array.from({ length: 400 }, () => pool.infer(image, 'conv'));
await requests[0];
console.log(JSON.stringify({ exiting: code }));
process.exit(code);
