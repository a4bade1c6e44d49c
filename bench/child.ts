// One benchmark cell in a process of its own, so contenders never share ONNX Runtime thread pools,
// memory or CPU accounting. Prints one line `RESULT <json>`.
import { benchImages } from './images.ts';
import { measureCeiling } from './contenders/ceiling.ts';
import { createPlainContender } from './contenders/plain.ts';
import { createPoolContender } from './contenders/pool.ts';
import { runWindow } from './load-window.ts';
import type { StreamResult } from './load-window.ts';
import { runLoad } from './measure.ts';
import { runMicro } from './micro.ts';
import { peakRssMb } from './proc-status.ts';
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

/** Closed loop for a timed window after a warm-in (bench/load-window.ts): the HTTP benchmark's in-process cell. */
export interface WindowJob {
  kind: 'window';
  contender: 'plain' | 'pool';
  workload: string;
  concurrency: number;
  warmInSeconds: number;
  seconds: number;
  /** The warm-in counts from the first answer, waited for at most this long. */
  firstAnswerWithinSeconds?: number;
}

export interface WindowCellResult {
  window: StreamResult;
  seconds: number;
  cpuSeconds: number;
  eventLoopDelayP99Ms: number;
  /** This process's VmHWM, set-up included. */
  peakRssMb: number;
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

const job = JSON.parse(process.argv[2]!) as LoadJob | WindowJob | CeilingJob | MicroJob | SoakJob;

if (job.kind === 'micro') {
  console.log(`RESULT ${JSON.stringify(await runMicro(job.iterations))}`);
} else if (job.kind === 'soak') {
  console.log(`RESULT ${JSON.stringify(await runSoak(job.requests, job.concurrency))}`);
} else if (job.kind === 'ceiling') {
  const result = await measureCeiling(workload(job.workload), job.batches, job.secondsPerBatch);
  console.log(`RESULT ${JSON.stringify(result)}`);
} else if (job.kind === 'window') {
  const w = workload(job.workload);
  const images = await benchImages();
  const contender = job.contender === 'pool' ? await createPoolContender(w) : await createPlainContender(w);
  const n = w.models.length;
  for (let i = 0; i < n; i++) await contender.send(images[i]!, i); // every model once
  let next = 0; // one counter for every caller, so that they do not all send the same image at once
  const send = (_i: number, signal: AbortSignal) => {
    const i = next++;
    return contender.send(images[i % images.length]!, i % n, signal);
  };
  const r = await runWindow(
    [{ label: job.contender, concurrency: job.concurrency, send }],
    job.warmInSeconds,
    job.seconds,
  );
  const result: WindowCellResult = {
    window: r.streams[job.contender]!,
    seconds: r.seconds,
    cpuSeconds: r.cpuSeconds,
    eventLoopDelayP99Ms: r.eventLoopDelayP99Ms,
    peakRssMb: peakRssMb(),
  };
  console.log(`RESULT ${JSON.stringify(result)}`);
  await contender.close();
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
