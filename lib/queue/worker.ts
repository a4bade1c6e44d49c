// The queue's worker: a BullMQ worker whose processor is `pool.infer`. Its concurrency is the number
// of jobs it has in the pool at once, so jobs batch exactly as concurrent requests do. A job's image
// is fetched from its own key, handed to the pool as it came off the socket, and deleted once the
// job is finished for good (completed, or failed without another attempt).
import { UnrecoverableError, Worker, type Job } from 'bullmq';

import { InferencePool, InferencePoolError, type InferOptions, type RawImage } from '../index.js';
import { closeConnection, openConnection } from './connection.js';
import { toJobError } from './errors.js';
import { deleteImage, fetchImage } from './image-store.js';
import type { JobData } from './job-data.js';
import { WORKER_DEFAULTS, type WorkerOptions } from './options.js';
import { encodeResult } from './result-codec.js';

export interface InferenceWorker {
  /** The pool serving the jobs. */
  readonly pool: InferencePool;
  /** The queue served. */
  readonly name: string;
  /** Jobs in the pool now. */
  readonly active: number;
  /**
   * Stops taking jobs, waits for the ones it has (they complete normally), then closes the pool if
   * the worker created it, and the connections. Idempotent.
   */
  close(): Promise<void>;
}

function isJobData(data: unknown): data is JobData {
  const d = data as JobData | undefined;
  return d?.v === 1 && typeof d.modelId === 'string' && typeof d.imageKey === 'string';
}

/** Starts serving the queue `name` with a pool (given, or created from `poolOptions` and `models`). */
export async function startWorker(options: WorkerOptions): Promise<InferenceWorker> {
  const settings = { ...WORKER_DEFAULTS, ...stripUndefined(options) };
  const { name, logger } = settings;
  const ownPool = options.pool === undefined;
  const pool =
    options.pool ??
    (await InferencePool.create({
      ...options.poolOptions,
      models: [...(options.poolOptions?.models ?? []), ...(options.models ?? [])],
    }));
  const redis = openConnection(options.connection);
  // ioredis reports connection errors as events; without a listener it would print them.
  redis.on('error', (error: Error) => logger?.warn({ err: error }, 'redis connection error'));

  let active = 0;
  const processor = async (job: Job<JobData>): Promise<unknown> => {
    const data = job.data;
    if (!isJobData(data)) throw new UnrecoverableError(`INVALID_ARGUMENT: job ${job.id} is not an inference job`);
    const inferOptions: InferOptions = { ...data.options };
    if (data.deadline !== undefined) {
      const left = data.deadline - Date.now();
      if (left <= 0) {
        throw toJobError(new InferencePoolError('DEADLINE_EXCEEDED', `job ${job.id} was still queued at its deadline`));
      }
      inferOptions.timeoutMs = left;
    }
    const bytes = await fetchImage(redis, data.imageKey);
    if (bytes === null) {
      throw new UnrecoverableError(`INVALID_ARGUMENT: the image of job ${job.id} is gone (expired, or lost by Redis)`);
    }
    const image: Uint8Array | RawImage = data.raw ? { ...data.raw, data: bytes } : bytes;
    active++;
    try {
      return encodeResult(await pool.infer(image, data.modelId, inferOptions));
    } catch (error) {
      throw toJobError(error);
    } finally {
      active--;
    }
  };

  const worker = new Worker<JobData>(name, processor, {
    connection: redis,
    prefix: settings.prefix,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
    maxStalledCount: settings.maxStalledCount,
    autorun: false,
  });
  worker.on('error', (error) => logger?.error({ err: error }, 'worker error'));
  const forget = (job: Job<JobData>) => {
    if (!isJobData(job.data)) return;
    deleteImage(redis, job.data.imageKey).catch((error: unknown) =>
      logger?.warn({ err: error, jobId: job.id }, 'could not delete a finished job’s image (it expires)'),
    );
  };
  worker.on('completed', forget);
  worker.on('failed', (job, error) => {
    if (!job) return;
    // finishedOn is set only when no attempt is left; a retried job still needs its image.
    if (job.finishedOn) forget(job);
    logger?.warn(
      { jobId: job.id, modelId: job.data?.modelId, attempts: job.attemptsMade, err: error.message },
      'job failed',
    );
  });
  worker.on('stalled', (jobId) => logger?.warn({ jobId }, 'stalled job returned to the queue'));

  void worker.run().catch((error: unknown) => logger?.error({ err: error }, 'worker stopped'));
  await worker.waitUntilReady();
  logger?.info(
    { queue: name, concurrency: settings.concurrency, models: pool.models.map((m) => m.id) },
    'worker ready',
  );

  let closing: Promise<void> | undefined;
  return {
    pool,
    name,
    get active() {
      return active;
    },
    close() {
      closing ??= (async () => {
        await worker.close();
        if (ownPool) await pool.close();
        await closeConnection(redis);
      })();
      return closing;
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
