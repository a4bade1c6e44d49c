// Redis goes away mid-run and comes back empty (no persistence, as the tests run it): the worker
// and the client reconnect by themselves, the client submits again the jobs Redis lost (infer()
// holds their images), jobs submitted during the outage wait for the connection, and every job
// completes once, with the right result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool, type InferenceResult } from '../lib/index.ts';
import { InferenceQueue, startWorker } from '../lib/queue/index.ts';
import { waitFor } from './helpers/models.ts';
import { assertSameResult, QUEUE_MODELS, queueJob, references, shapesImage } from './helpers/queue.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

let redis: RedisServer;
let pool: InferencePool;

test.before(async () => {
  redis = await startRedis();
  pool = await InferencePool.create({ models: QUEUE_MODELS });
});

test.after(async () => {
  await pool?.close();
  await redis?.stop();
});

test('Redis stopped and restarted (empty) mid-run: every job still completes', async () => {
  const worker = await startWorker({ pool, connection: redis.url, concurrency: 16 });
  const queue = new InferenceQueue({ connection: redis.url, backoffMs: 50 });
  const jobs = Array.from({ length: 300 }, (_, i) => queueJob(i));
  const refs = await references(pool, jobs);
  const results: InferenceResult[] = [];
  let done = 0;
  const run = (from: number, to: number) =>
    jobs.slice(from, to).map((j, k) =>
      queue.infer(shapesImage(j.image), j.modelId, j.options).then((r) => {
        results[from + k] = r;
        done++;
      }),
    );
  try {
    const first = run(0, 200);
    await waitFor(() => done >= 40, 'the first 40 results', 60_000);
    const before = done;
    const restarted = redis.restart(1_000);
    // Submitted while Redis is down: they wait for the connection.
    await new Promise((r) => setTimeout(r, 300));
    const second = run(200, 300);
    await restarted;
    await Promise.all([...first, ...second]);
    assert.ok(before < 200, 'Redis restarted after every job had completed');
    assert.is(done, 300);
    results.forEach((r, i) => assertSameResult(r, jobs[i]!, refs));
  } finally {
    await queue.close();
    await worker.close();
  }
});

test.run();
