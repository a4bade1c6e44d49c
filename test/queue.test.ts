// The job queue end to end: a real redis-server, two `inference-pool worker` processes (the CLI) and
// a client in this process. 1000 jobs across detection, segmentation (some with masks) and
// classification: every result equals pool.infer's on the same bytes, the workers batch, and on
// SIGTERM each finishes its jobs, reports its stats and exits 0.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import { InferenceQueue } from '../lib/queue/index.ts';
import { ROOT } from './helpers/child.ts';
import { runCli, type CliRun } from './helpers/cli.ts';
import { assertSameResult, QUEUE_MODELS, queueJob, references, shapesImage } from './helpers/queue.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

const JOBS = 1000;
let redis: RedisServer;
let pool: InferencePool;
const workers: CliRun[] = [];

test.before(async () => {
  redis = await startRedis();
  const dir = join(ROOT, 'test', '.tmp');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `queue-models-${process.pid}.json`);
  // Two workers share this machine's cores: a few threads each.
  const poolSettings = { preprocessThreads: 1, postprocessThreads: 1, intraOpThreads: 1 };
  writeFileSync(config, JSON.stringify({ pool: poolSettings, models: QUEUE_MODELS }));
  for (let i = 0; i < 2; i++) {
    workers.push(runCli(['worker', '--config', config, '--redis', redis.url, '--concurrency', '32'], {}, 300_000));
  }
  pool = await InferencePool.create({ models: QUEUE_MODELS });
  for (const w of workers) await w.waitForLog((l) => l.msg === 'worker ready', 'worker ready', 120_000);
});

test.after(async () => {
  for (const w of workers) if (!w.exited()) w.child.kill('SIGKILL');
  await pool?.close();
  await redis?.stop();
});

test('1000 jobs through two workers: each result is pool.infer’s; the workers batch; SIGTERM exits 0', async () => {
  const jobs = Array.from({ length: JOBS }, (_, i) => queueJob(i));
  const refs = await references(pool, jobs);
  const queue = new InferenceQueue({ connection: redis.url });
  try {
    const results = await Promise.all(jobs.map((j) => queue.infer(shapesImage(j.image), j.modelId, j.options)));
    results.forEach((r, i) => assertSameResult(r, jobs[i]!, refs));
  } finally {
    await queue.close();
  }

  let completed = 0;
  let batched = false;
  for (const w of workers) {
    w.child.kill('SIGTERM');
    const line = await w.waitForLog((l) => l.msg === 'jobs finished', 'the worker’s stats', 60_000);
    const stats = line.stats as Record<string, { completed: number; batches: number; meanBatchSize: number }>;
    for (const s of Object.values(stats)) {
      completed += s.completed;
      if (s.completed > s.batches) batched = true;
    }
    const exit = await w.exit;
    assert.is(exit.code, 0, `worker exit: ${JSON.stringify(exit)} ${w.stderr()}`);
    assert.is(w.stderr(), '', 'the worker wrote to stderr');
  }
  assert.ok(completed >= JOBS, `the workers completed ${completed} jobs`);
  assert.ok(batched, 'no batch larger than 1');
});

test.run();
