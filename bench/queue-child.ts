// The queue benchmark's processes other than the client: `pool` (the in-process baseline: a pool
// kept at N requests in flight for a window; prints `RESULT <json>`) and `transport` (a BullMQ
// worker that only moves 150 KB images, base64 in the job's JSON or binary under a side key, to
// measure Redis's own cost per job; prints `READY`, then `RESULT <json>` on SIGTERM).
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';

import { InferencePool } from '../lib/index.ts';
import { benchImages } from './images.ts';
import { keepInFlight } from './in-flight.ts';
import { workload } from './workloads.ts';

export interface PoolJob {
  role: 'pool';
  workload: string;
  inFlight: number;
  warmupSeconds: number;
  seconds: number;
}

export interface TransportJob {
  role: 'transport';
  url: string;
  queue: string;
  mode: 'base64' | 'side-key';
  concurrency: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as PoolJob | TransportJob;

if (job.role === 'pool') {
  const w = workload(job.workload);
  const images = await benchImages();
  const pool = await InferencePool.create({ models: w.models.map((m) => m.spec) });
  const model = w.models[0]!;
  const run = await keepInFlight(
    (i) => pool.infer(images[i % images.length]!.jpeg, model.spec.id, model.options),
    job.inFlight,
    job.warmupSeconds,
    job.seconds,
  );
  const stats = pool.stats()[model.spec.id]!;
  const p50 = run.latencyMs[Math.floor(run.latencyMs.length / 2)] ?? 0;
  console.log(`RESULT ${JSON.stringify({ perSecond: run.perSecond, p50Ms: p50, meanBatchSize: stats.meanBatchSize })}`);
  await pool.close();
} else if (job.role === 'transport') {
  const redis = new Redis(job.url, { maxRetriesPerRequest: null });
  const worker = new Worker(
    job.queue,
    async (j: Job<{ image?: string; key?: string }>) => {
      // What the inference worker would hand to the pool: the image's bytes as a Buffer.
      const bytes =
        job.mode === 'base64' ? Buffer.from(j.data.image!, 'base64') : ((await redis.getBuffer(j.data.key!)) as Buffer);
      if (job.mode === 'side-key') void redis.del(j.data.key!);
      return { bytes: bytes.length };
    },
    { connection: redis, concurrency: job.concurrency, autorun: true },
  );
  worker.on('error', () => {});
  await worker.waitUntilReady();
  const cpuBefore = process.cpuUsage();
  console.log('READY');
  process.once('SIGTERM', () => {
    const cpu = process.cpuUsage(cpuBefore);
    console.log(`RESULT ${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}`);
    void worker.close(true).then(() => {
      redis.disconnect();
      process.exit(0);
    });
  });
}
