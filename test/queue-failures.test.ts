// The queue's failure semantics, with an in-process worker: deterministic failures fail the job at
// once (one attempt), transient ones (QUEUE_FULL) are retried until they complete; job ids, raw
// images, deadlines, close(); and the core import loads neither bullmq nor ioredis.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import { InferenceQueue, startWorker, type InferenceWorker } from '../lib/queue/index.ts';
import { runScript, ROOT } from './helpers/child.ts';
import { rejectsWith } from './helpers/models.ts';
import { assertSameResult, QUEUE_MODELS, references, shapesImage } from './helpers/queue.ts';
import { startRedis, type RedisServer } from './helpers/redis.ts';

let redis: RedisServer;
let pool: InferencePool;
let worker: InferenceWorker;
let client: InferenceQueue;
let bull: Queue;
let admin: Redis;

test.before(async () => {
  redis = await startRedis();
  pool = await InferencePool.create({ models: QUEUE_MODELS });
  worker = await startWorker({ pool, connection: redis.url, concurrency: 16 });
  client = new InferenceQueue({ connection: redis.url, backoffMs: 50 });
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  bull = new Queue('inference-pool', { connection: admin });
});

test.after(async () => {
  await client?.close();
  await worker?.close();
  await bull?.close();
  admin?.disconnect();
  await pool?.close();
  await redis?.stop();
});

test('a corrupt image fails at once with INVALID_IMAGE: one attempt, no retry', async () => {
  const corrupt = shapesImage(0).subarray(0, 200);
  const started = Date.now();
  await rejectsWith(client.infer(corrupt, 'det'), 'INVALID_IMAGE');
  assert.ok(Date.now() - started < 5_000);
  const id = await client.submit(corrupt, 'det', {}, { jobId: 'corrupt-1' });
  await rejectsWith(client.result(id), 'INVALID_IMAGE');
  const job = await bull.getJob(id);
  assert.is(await job!.getState(), 'failed');
  assert.is(job!.attemptsMade, 1);
  // Its image is gone with it.
  assert.is(await admin.exists(`bull:inference-pool:image:${id}`), 0);
});

test('a model the worker does not serve: MODEL_NOT_FOUND at once', async () => {
  const id = await client.submit(shapesImage(1), 'no-such-model', {}, { jobId: 'unknown-model' });
  await rejectsWith(client.result(id), 'MODEL_NOT_FOUND');
  assert.is((await bull.getJob(id))!.attemptsMade, 1);
  await rejectsWith(client.infer(shapesImage(1), 'det', { confidence: 7 }), 'INVALID_ARGUMENT');
});

test('QUEUE_FULL is transient: retried with backoff until every job completes', async () => {
  const small = await InferencePool.create({ models: QUEUE_MODELS.slice(0, 1), maxQueueSize: 2 });
  const busy = await startWorker({ pool: small, connection: redis.url, name: 'small', concurrency: 8 });
  const q = new InferenceQueue({ connection: redis.url, name: 'small', backoffMs: 20, attempts: 50 });
  const smallBull = new Queue('small', { connection: admin });
  try {
    const ids = Array.from({ length: 40 }, (_, i) => `full-${i}`);
    await Promise.all(ids.map((id, i) => q.submit(shapesImage(i % 48), 'det', {}, { jobId: id })));
    const results = await Promise.all(ids.map((id) => q.result(id)));
    assert.is(results.length, 40);
    let attempts = 0;
    for (const id of ids) attempts += (await smallBull.getJob(id))!.attemptsMade;
    assert.ok(attempts > ids.length, `no job was retried (${attempts} attempts for ${ids.length} jobs)`);
    assert.ok(small.stats().det!.rejected > 0);
  } finally {
    await q.close();
    await busy.close();
    await smallBull.close();
    await small.close();
  }
});

test('job ids: one result per id; result() later; an unknown id is INVALID_ARGUMENT', async () => {
  const jobs = [{ image: 3, modelId: 'seg', options: { returnMasks: true } }];
  const refs = await references(pool, jobs);
  const a = await client.submit(shapesImage(3), 'seg', { returnMasks: true }, { jobId: 'same-id' });
  const b = await client.submit(shapesImage(4), 'det', {}, { jobId: 'same-id' });
  assert.is(a, 'same-id');
  assert.is(b, 'same-id');
  assertSameResult(await client.result('same-id'), jobs[0]!, refs);
  // Collected again later: the same result.
  assertSameResult(await client.result('same-id'), jobs[0]!, refs);
  await rejectsWith(client.result('never-submitted'), 'INVALID_ARGUMENT');
  await rejectsWith(client.submit(shapesImage(3), 'det', {}, { jobId: '42' }), 'INVALID_ARGUMENT');
});

test('raw pixels travel too; a deadline already past fails with DEADLINE_EXCEEDED', async () => {
  const data = new Uint8Array(64 * 48 * 3).fill(200);
  const raw = { data, width: 64, height: 48, format: 'rgb' as const };
  const got = await client.infer(raw, 'colors');
  const want = await pool.infer(raw, 'colors');
  assert.equal(
    Array.from(got.task === 'classification' ? got.scores : []),
    Array.from(want.task === 'classification' ? want.scores : []),
  );
  // No worker serves this queue until after the deadline.
  const late = new InferenceQueue({ connection: redis.url, name: 'late' });
  const pending = rejectsWith(late.infer(shapesImage(5), 'det', { timeoutMs: 50 }), 'DEADLINE_EXCEEDED');
  await new Promise((r) => setTimeout(r, 200));
  const lateWorker = await startWorker({ pool, connection: redis.url, name: 'late' });
  try {
    await pending;
  } finally {
    await late.close();
    await lateWorker.close();
  }
});

test('close() rejects what is pending with POOL_CLOSED; bad arguments are INVALID_ARGUMENT', async () => {
  const idle = new InferenceQueue({ connection: redis.url, name: 'nobody-serves-this' });
  const pending = rejectsWith(idle.infer(shapesImage(0), 'det'), 'POOL_CLOSED');
  await new Promise((r) => setTimeout(r, 100));
  await idle.close();
  await pending;
  await rejectsWith(idle.infer(shapesImage(0), 'det'), 'POOL_CLOSED');
  await rejectsWith(client.infer('nope' as unknown as Uint8Array, 'det'), 'INVALID_ARGUMENT');
  await rejectsWith(client.infer(shapesImage(0), ''), 'INVALID_ARGUMENT');
});

test('the core import loads neither bullmq nor ioredis', async () => {
  const hook = `data:text/javascript,export async function resolve(s, c, n) { if (/^(bullmq|ioredis)$/.test(s)) throw new Error('loaded ' + s); return n(s, c); }`;
  const script = `${ROOT}/test/.tmp/queue-core-import-${process.pid}.mjs`;
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(`${ROOT}/test/.tmp`, { recursive: true });
  writeFileSync(
    script,
    `import { register } from 'node:module';
register(${JSON.stringify(hook)});
await import(${JSON.stringify(`${ROOT}/lib/index.ts`)});
console.log('core ok');
try { await import(${JSON.stringify(`${ROOT}/lib/queue/index.ts`)}); console.log('queue loaded'); }
catch (e) { console.log('queue refused: ' + e.message); }
`,
  );
  const r = await runScript(script, [], 60_000);
  assert.match(r.stdout, /core ok/);
  assert.match(r.stdout, /queue refused: loaded (bullmq|ioredis)/);
});

test.run();
