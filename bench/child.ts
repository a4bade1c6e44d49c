// One benchmark cell in a process of its own, so contenders never share ONNX Runtime thread pools,
// memory or CPU accounting. Prints one line `RESULT <json>`.
import { benchImages } from './images.ts';
import { measureCeiling } from './contenders/ceiling.ts';
import { createPlainContender } from './contenders/plain.ts';
import { createPoolContender } from './contenders/pool.ts';
import { runLoad } from './measure.ts';
import { runMicro } from './micro.ts';
import { runSoak } from './soak.ts';
import { workload } from './workloads.ts';

export interface LoadJob {
  kind: 'load';
  contender: 'plain' | 'pool';
  workload: string;
  concurrency: number;
  total: number;
  warmup: number;
}

export interface MicroJob {
  kind: 'micro';
  iterations: number;
}

export interface SoakJob {
  kind: 'soak';
  requests: number;
  concurrency: number;
}

export interface CeilingJob {
  kind: 'ceiling';
  workload: string;
  batches: number[];
  secondsPerBatch: number;
}

const job = JSON.parse(process.argv[2]!) as LoadJob | CeilingJob | MicroJob | SoakJob;

if (job.kind === 'micro') {
  console.log(`RESULT ${JSON.stringify(await runMicro(job.iterations))}`);
} else if (job.kind === 'soak') {
  console.log(`RESULT ${JSON.stringify(await runSoak(job.requests, job.concurrency))}`);
} else if (job.kind === 'ceiling') {
  const result = await measureCeiling(workload(job.workload), job.batches, job.secondsPerBatch);
  console.log(`RESULT ${JSON.stringify(result)}`);
} else {
  const w = workload(job.workload);
  const images = await benchImages();
  const contender = job.contender === 'pool' ? await createPoolContender(w) : await createPlainContender(w);
  const n = w.models.length;
  const send = (i: number) => contender.send(images[i % images.length]!, i % n);
  // Warm-up: every model once, then a short burst at the cell's concurrency; not measured.
  for (let i = 0; i < n; i++) await send(i);
  await runLoad(send, job.warmup, Math.min(job.concurrency, job.warmup));
  const batchBefore = contender.meanBatchSize();
  const result = await runLoad(send, job.total, job.concurrency);
  console.log(`RESULT ${JSON.stringify({ ...result, meanBatchSize: contender.meanBatchSize() ?? batchBefore })}`);
  await contender.close();
}
