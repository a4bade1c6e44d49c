// `inference-pool worker`: a pool serving a Redis job queue (inference-pool/queue). Logs are JSON
// lines on stdout in pino's shape (level, time, pid, msg), like `serve`'s. Shutdown on SIGTERM or
// SIGINT: it stops taking jobs, finishes the ones it has (at most --grace-period-ms, plus a margin
// for closing), logs the pool's per-model stats, closes the pool and exits 0; a second signal exits
// at once with code 1. A job left unfinished is not lost: its lock lapses and another worker runs it.
import closeWithGrace from 'close-with-grace';

import { InferencePool, type PoolOptions } from '../lib/index.js';
import type { WorkerArgs } from '../lib/server/config.js';
import type { CreateServerOptions } from '../lib/server/index.js';
import { startWorker, type WorkerLogger } from '../lib/queue/index.js';

const CLOSE_MARGIN_MS = 15_000;
const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;

/** pino-shaped JSON lines on stdout at or above `level`. */
function jsonLogger(level: number): WorkerLogger & { fatal: WorkerLogger['error'] } {
  const line = (n: number) => (obj: object, msg?: string) => {
    if (n < level) return;
    const fields = Object.fromEntries(
      Object.entries(obj).map(([k, v]) => [k, v instanceof Error ? { message: v.message, stack: v.stack } : v]),
    );
    process.stdout.write(`${JSON.stringify({ level: n, time: Date.now(), pid: process.pid, ...fields, msg })}\n`);
  };
  return { info: line(30), warn: line(40), error: line(50), fatal: line(60) };
}

function logLevel(options: CreateServerOptions): number {
  const logger = options.server?.logger;
  if (logger === false) return Infinity;
  const name = typeof logger === 'object' && typeof logger.level === 'string' ? logger.level : 'info';
  return LEVELS[name as keyof typeof LEVELS] ?? 30;
}

/** Per model: what the pool did, for the closing log line. */
function summary(pool: InferencePool) {
  return Object.fromEntries(
    Object.entries(pool.stats()).map(([id, s]) => [
      id,
      { completed: s.completed, failed: s.failed, batches: s.batches, meanBatchSize: s.meanBatchSize },
    ]),
  );
}

export async function runWorker(options: CreateServerOptions, args: WorkerArgs, gracePeriodMs: number): Promise<void> {
  const log = jsonLogger(logLevel(options));
  // From the command line and config file the pool is always options, never an instance.
  const poolOptions = options.pool as PoolOptions | undefined;
  const pool = await InferencePool.create({
    ...poolOptions,
    models: [...(poolOptions?.models ?? []), ...(options.models ?? [])],
  });
  const worker = await startWorker({
    pool,
    connection: args.redis,
    name: args.queue,
    concurrency: args.concurrency,
    logger: log,
  });
  closeWithGrace(
    {
      delay: gracePeriodMs + CLOSE_MARGIN_MS,
      logger: { error: (message: unknown) => log.error({ err: message }, 'shutdown error') },
      onSecondSignal: (signal) => log.warn({ signal }, 'second signal: exiting at once'),
      onTimeout: (delay) => log.error({ delay }, `shutdown took more than ${delay} ms: exiting`),
    },
    async ({ signal, err }) => {
      if (err) log.error({ err }, 'uncaught error: shutting down');
      log.info({ signal, active: worker.active }, 'shutting down: finishing the jobs in hand');
      await worker.close();
      log.info({ stats: summary(pool) }, 'jobs finished');
      await pool.close();
      log.info({}, 'closed');
    },
  );
}
