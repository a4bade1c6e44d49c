// `npm run bench:queue`: the job queue (inference-pool/queue) against the in-process pool, and
// Redis's own cost per job. Reported, never asserted. Sections:
// 1. transport: jobs carrying 150 KB images through BullMQ with a worker that only takes the bytes,
//    base64 inside the job's JSON against binary under a side key: jobs/s here, and Redis's CPU per
//    job, from which its ceiling (one core, single-threaded) follows;
// 2. detection (YOLOv8n-shaped, 1280×720 JPEGs) at 64 in flight: the pool in a process of its own,
//    then through the queue with one and with two `inference-pool worker` processes.
// Writes bench/results/queue.json and queue.md.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

import { InferenceQueue } from '../lib/queue/index.ts';
import { startRedis, type RedisServer } from '../test/helpers/redis.ts';
import { benchChild, loadAverage, machine } from './bench-process.ts';
import { benchImages } from './images.ts';
import { keepInFlight } from './in-flight.ts';
import type { PoolJob, TransportJob } from './queue-child.ts';
import { workload } from './workloads.ts';

const root = new URL('..', import.meta.url).pathname;
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const quick = process.argv.includes('--quick');
const IN_FLIGHT = 64;
const WARMUP_S = quick ? 2 : 5;
const WINDOW_S = quick ? 6 : 20;
const TRANSPORT_S = quick ? 4 : 8;
const IMAGE_BYTES = 150 * 1024;
const log = (msg: string) => process.stdout.write(`[bench:queue] ${msg}\n`);

/** redis-server's CPU time so far (user + system), ms, from /proc. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 1/100 s
}

interface Child {
  child: ChildProcess;
  lines: string[];
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  exit: Promise<number | null>;
}

function start(args: string[]): Child {
  const child = spawn(process.execPath, [tsx, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  // 'close': the process has exited and its stdout is read to the end.
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let closed = false;
  void exit.then(() => (closed = true));
  return {
    child,
    lines,
    exit,
    async waitFor(match, timeoutMs = 180_000) {
      const started = Date.now();
      for (;;) {
        const line = lines.find(match);
        if (line) return line;
        if (closed) throw new Error(`child exited: ${args.join(' ')}`);
        if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${args.join(' ')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

interface TransportRow {
  mode: 'base64' | 'side-key';
  jobsPerSecond: number;
  redisCpuMsPerJob: number;
  redisCeilingJobsPerSecond: number;
  clientCpuMsPerJob: number;
  workerCpuMsPerJob: number;
  bytesInRedisPerJob: number;
}

async function transport(redis: RedisServer, mode: TransportRow['mode']): Promise<TransportRow> {
  const name = `transport-${mode}`;
  const job: TransportJob = { role: 'transport', url: redis.url, queue: name, mode, concurrency: IN_FLIGHT };
  const worker = start(['bench/queue-child.ts', JSON.stringify(job)]);
  await worker.waitFor((l) => l === 'READY');
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  // From the stream's end by id, as the queue's client does (a reader starting at '$' can miss the first).
  const last = await connection.xrevrange(`bull:${name}:events`, '+', '-', 'COUNT', 1);
  const events = new QueueEvents(name, { connection, lastEventId: last[0]?.[0] ?? '0-0' });
  await events.waitUntilReady();
  const waiters = new Map<string, () => void>();
  events.on('completed', ({ jobId }) => {
    waiters.get(jobId)?.();
    waiters.delete(jobId);
  });
  const payload = randomBytes(IMAGE_BYTES);
  let total = 0;
  const send = async (i: number) => {
    const id = `${mode}-${i}`;
    const done = new Promise<void>((resolve) => waiters.set(id, resolve));
    const keep = { removeOnComplete: { count: 1000 } };
    if (mode === 'base64') await queue.add('t', { image: payload.toString('base64') }, { jobId: id, ...keep });
    else {
      await connection.set(`img:${id}`, payload);
      await queue.add('t', { key: `img:${id}` }, { jobId: id, ...keep });
    }
    await done;
    total++;
  };
  const redisBefore = cpuMsOf(redis.pid);
  const clientBefore = process.cpuUsage();
  const run = await keepInFlight(send, IN_FLIGHT, 1, TRANSPORT_S);
  const client = process.cpuUsage(clientBefore);
  const redisMs = cpuMsOf(redis.pid) - redisBefore;
  worker.child.kill('SIGTERM');
  const result = JSON.parse((await worker.waitFor((l) => l.startsWith('RESULT '))).slice(7)) as { cpuMs: number };
  await worker.exit;
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  const perJob = redisMs / total;
  return {
    mode,
    jobsPerSecond: run.perSecond,
    redisCpuMsPerJob: perJob,
    redisCeilingJobsPerSecond: 1000 / perJob,
    clientCpuMsPerJob: (client.user + client.system) / 1000 / total,
    workerCpuMsPerJob: result.cpuMs / total,
    bytesInRedisPerJob: mode === 'base64' ? Math.ceil(IMAGE_BYTES / 3) * 4 : IMAGE_BYTES,
  };
}

interface DetectionRow {
  contender: string;
  perSecond: number;
  p50Ms: number;
  meanBatchSize: number;
}

async function throughQueue(redis: RedisServer, workers: number, queueName: string): Promise<DetectionRow> {
  const det = workload('detection').models[0]!;
  const children = Array.from({ length: workers }, () =>
    start([
      'bin/inference-pool.ts',
      'worker',
      '--model',
      `det=${det.spec.path as string}:det`,
      '--redis',
      redis.url,
      '--queue',
      queueName,
      '--concurrency',
      String(IN_FLIGHT),
    ]),
  );
  for (const c of children) await c.waitFor((l) => l.includes('"worker ready"'));
  const images = await benchImages();
  const queue = new InferenceQueue({ connection: redis.url, name: queueName });
  const run = await keepInFlight(
    (i) => queue.infer(images[i % images.length]!.jpeg, 'det', det.options),
    IN_FLIGHT,
    WARMUP_S,
    WINDOW_S,
  );
  await queue.close();
  let completed = 0;
  let batches = 0;
  for (const c of children) {
    c.child.kill('SIGTERM');
    const line = await c.waitFor((l) => l.includes('"jobs finished"'));
    const stats = (JSON.parse(line) as { stats: Record<string, { completed: number; batches: number }> }).stats;
    completed += stats.det!.completed;
    batches += stats.det!.batches;
    await c.exit;
  }
  return {
    contender: `queue, ${workers} worker${workers > 1 ? 's' : ''}`,
    perSecond: run.perSecond,
    p50Ms: run.latencyMs[Math.floor(run.latencyMs.length / 2)] ?? 0,
    meanBatchSize: batches ? completed / batches : 0,
  };
}

const started = Date.now();
const load = [loadAverage()];
const redis = await startRedis();
const transportRows: TransportRow[] = [];
const detectionRows: DetectionRow[] = [];
try {
  for (const mode of ['base64', 'side-key'] as const) {
    log(`transport: ${mode}`);
    transportRows.push(await transport(redis, mode));
  }
  log('detection: in-process pool');
  const poolJob: PoolJob = {
    role: 'pool',
    workload: 'detection',
    inFlight: IN_FLIGHT,
    warmupSeconds: WARMUP_S,
    seconds: WINDOW_S,
  };
  detectionRows.push({
    contender: 'in-process pool',
    ...benchChild<Omit<DetectionRow, 'contender'>>('bench/queue-child.ts', poolJob),
  });
  load.push(loadAverage());
  for (const workers of [1, 2]) {
    log(`detection: queue, ${workers} worker(s)`);
    detectionRows.push(await throughQueue(redis, workers, `det-${workers}`));
    load.push(loadAverage());
  }
} finally {
  await redis.stop();
}

const baseline = detectionRows[0]!.perSecond;
const f = (n: number, d = 1) => n.toFixed(d);
const md = [
  `Queue benchmark (${quick ? 'quick' : 'full'}), ${new Date().toISOString().slice(0, 10)}: ${machine().cpu}, ${machine().cores} cores, Node ${process.version}; ${Math.round((Date.now() - started) / 1000)} s; load average during the run ${load.map((l) => l[0]).join(' → ')}.`,
  '',
  `Detection (YOLOv8n-shaped, 1280×720 JPEGs) at ${IN_FLIGHT} in flight, ${WINDOW_S} s windows after ${WARMUP_S} s of warm-up; workers are \`inference-pool worker --concurrency ${IN_FLIGHT}\` on this machine.`,
  '',
  '| contender | images/s | × in-process | p50 ms | mean batch |',
  '| --- | ---: | ---: | ---: | ---: |',
  ...detectionRows.map(
    (r) =>
      `| ${r.contender} | ${f(r.perSecond)} | ${f(r.perSecond / baseline, 2)}× | ${f(r.p50Ms, 0)} | ${f(r.meanBatchSize, 2)} |`,
  ),
  '',
  `Transport: jobs carrying ${IMAGE_BYTES / 1024} KB images at ${IN_FLIGHT} in flight, a worker that only takes the bytes (${TRANSPORT_S} s). Redis's ceiling = 1000 / its CPU ms per job (one core).`,
  '',
  '| image travels as | jobs/s here | Redis CPU ms/job | Redis ceiling jobs/s | client CPU ms/job | worker CPU ms/job | bytes in Redis/job |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...transportRows.map(
    (r) =>
      `| ${r.mode === 'base64' ? 'base64 in the job JSON' : 'binary side key'} | ${f(r.jobsPerSecond, 0)} | ${f(r.redisCpuMsPerJob, 3)} | ${f(r.redisCeilingJobsPerSecond, 0)} | ${f(r.clientCpuMsPerJob, 3)} | ${f(r.workerCpuMsPerJob, 3)} | ${r.bytesInRedisPerJob} |`,
  ),
  '',
].join('\n');
const out = join(root, 'bench', 'results');
const name = quick ? 'queue-quick' : 'queue';
writeFileSync(
  join(out, `${name}.json`),
  `${JSON.stringify({ machine: machine(), quick, load, detection: detectionRows, transport: transportRows }, null, 2)}\n`,
);
writeFileSync(join(out, `${name}.md`), md);
process.stdout.write(`\n${md}`);
