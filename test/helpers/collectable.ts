// Child process for integrity.test.ts: a closed pool, and an idle pool that was never closed, are both
// garbage-collected once the app drops them (the native side keeps no strong reference to either).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { InferencePool } from '../../lib/index.ts';
import { solid, toRaw } from './images.ts';
import { modelPath, MODELS } from './models.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const collected = new Set<string>();
const registry = new FinalizationRegistry<string>((name) => collected.add(name));

async function make(name: string, close: boolean): Promise<void> {
  const pool = await InferencePool.create({
    models: [{ id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' }],
  });
  await pool.infer(toRaw(solid(8, 8, [1, 2, 3])), 'mean');
  if (close) await pool.close();
  registry.register(pool, name);
}

await make('closed', true);
await make('idle', false);
for (let i = 0; i < 20 && collected.size < 2; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 20));
}
console.log(JSON.stringify({ collected: [...collected].sort() }));
