// Child process for lifecycle.test.ts: creates a pool, runs requests and never closes it. The process
// must exit by itself once the work is done. Modes:
//   awaited  — awaits a few requests, then falls off the end of the script
//   pending  — submits requests without awaiting them; the process must stay until they complete
//   idle     — creates the pool and does nothing
import { InferencePool } from '../../lib/index.ts';
import { solid, toRaw } from './images.ts';
import { modelPath, MODELS } from './models.ts';

const mode = process.argv[2] ?? 'awaited';
const pool = await InferencePool.create({
  models: [{ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' }],
});
let completed = 0;
process.on('exit', (code) => console.log(JSON.stringify({ mode, completed, code })));
if (mode === 'awaited') {
  for (let i = 0; i < 5; i++) {
    await pool.infer(toRaw(solid(32, 32, [i * 40, 0, 0])), 'mean');
    completed++;
  }
} else if (mode === 'pending') {
  for (let i = 0; i < 50; i++) {
    void pool.infer(toRaw(solid(64, 64, [0, i * 5, 0])), 'mean').then(() => completed++);
  }
}
