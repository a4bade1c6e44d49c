// Workers that die or are stopped while they hold jobs. SIGKILL: the dead worker's jobs go back to
// the queue through BullMQ's stalled-job check (short lock and stall intervals here) and the other
// worker completes them: every client promise resolves once, with the right result. SIGTERM: the
// worker finishes the jobs it has (none stall), closes its pool and exits 0.
import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool, type InferenceResult } from '../lib/index.ts';
import { InferenceQueue } from '../lib/queue/index.ts';
import {
  assertSameResult,
  QUEUE_MODELS,
  queueJob,
  references,
  shapesImage,
  spawnWorker,
  type WorkerChild,
} from './helpers/queue.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const JOBS = 300;
let redis: RedisServer;
let pool: InferencePool;
let events: QueueEvents;
let eventsRedis: Redis;
const stalled = new Set<string>();

const workerSettings = (holdAt?: number) => ({
  connection: redis.url,
  concurrency: 16,
  lockDurationMs: 2_000,
  stalledIntervalMs: 1_000,
  maxStalledCount: 5,
  holdAt,
  poolOptions: { preprocessThreads: 1, postprocessThreads: 1, intraOpThreads: 1 },
});

test.before(async () => {
  redis = await startRedis();
  pool = await InferencePool.create({ models: QUEUE_MODELS });
  eventsRedis = new Redis(redis.url, { maxRetriesPerRequest: null });
  events = new QueueEvents('inference-pool', { connection: eventsRedis });
  events.on('stalled', ({ jobId }) => stalled.add(jobId));
  await events.waitUntilReady();
});

test.after(async () => {
  await events?.close();
  eventsRedis?.disconnect();
  await pool?.close();
  await redis?.stop();
});

async function runJobs(queue: InferenceQueue, count: number, during: () => Promise<void>) {
  const jobs = Array.from({ length: count }, (_, i) => queueJob(i));
  const refs = await references(pool, jobs);
  const settled = new Array<number>(count).fill(0);
  const results: InferenceResult[] = [];
  const all = Promise.all(
    jobs.map((j, i) =>
      queue.infer(shapesImage(j.image), j.modelId, j.options).then((r) => {
        settled[i]!++;
        results[i] = r;
      }),
    ),
  );
  await during();
  await all;
  assert.ok(
    settled.every((n) => n === 1),
    'every promise settles once',
  );
  results.forEach((r, i) => assertSameResult(r, jobs[i]!, refs));
}

test('SIGKILL a worker holding jobs: they return to the queue and the other worker completes them', async () => {
  const doomed = spawnWorker(workerSettings(8));
  const survivor = spawnWorker(workerSettings());
  await doomed.waitForLog('ready', 120_000);
  await survivor.waitForLog('ready', 120_000);
  const queue = new InferenceQueue({ connection: redis.url, backoffMs: 50 });
  try {
    await runJobs(queue, JOBS, async () => {
      await doomed.waitForLog('holding', 60_000);
      doomed.child.kill('SIGKILL');
      assert.is((await doomed.exit).signal, 'SIGKILL');
    });
  } finally {
    await queue.close();
  }
  assert.ok(stalled.size > 0, 'no job of the killed worker came back through the stalled check');
  await stop(survivor);
});

test('SIGTERM a worker holding jobs: it finishes them, none stall, and it exits 0', async () => {
  stalled.clear();
  const worker = spawnWorker(workerSettings(8));
  await worker.waitForLog('ready', 120_000);
  const queue = new InferenceQueue({ connection: redis.url });
  let finished: Record<string, unknown> | undefined;
  try {
    await runJobs(queue, 100, async () => {
      await worker.waitForLog('holding', 60_000);
      // Another worker to take what is left once this one stops taking jobs.
      const other = spawnWorker(workerSettings());
      worker.child.kill('SIGTERM');
      finished = await worker.waitForLog('finished', 60_000);
      assert.is((await worker.exit).code, 0);
      await other.waitForLog('ready', 120_000);
      afterwards.push(other);
    });
  } finally {
    await queue.close();
  }
  const stats = finished!.stats as Record<string, { completed: number }>;
  assert.ok(Object.values(stats).reduce((n, s) => n + s.completed, 0) >= 8, 'it finished the jobs it held');
  assert.is(stalled.size, 0, `jobs stalled: ${[...stalled].join(', ')}`);
  for (const w of afterwards) await stop(w);
});

const afterwards: WorkerChild[] = [];

async function stop(worker: WorkerChild): Promise<void> {
  worker.child.kill('SIGTERM');
  assert.is((await worker.exit).code, 0);
}

test.run();
