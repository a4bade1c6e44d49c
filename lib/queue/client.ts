// The queue's client: submits inference jobs to Redis (BullMQ) and settles each caller's promise
// with the job's result, decoded to what pool.infer returns. Results arrive through one QueueEvents
// reader (a blocking XREAD on the queue's events stream) for all pending jobs. After a reconnection,
// and every recheckIntervalMs, pending jobs are looked up: a finished one whose event was missed
// settles, and one Redis no longer has (a restart without persistence) is submitted again by
// infer(), which holds the image — so every infer() completes, at least once, with one result.
import { randomUUID } from 'node:crypto';

import { Queue, QueueEvents, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

import { InferencePoolError, type InferenceResult, type ImageInput, type InferOptions } from '../index.js';
import { closeConnection, openConnection } from './connection.js';
import { fromFailedReason } from './errors.js';
import { imageKey, storeImage } from './image-store.js';
import { JOB_NAME, type JobData, type JobInferOptions } from './job-data.js';
import { QUEUE_DEFAULTS, type InferenceQueueOptions, type KeepJobs } from './options.js';
import { PendingJobs } from './pending.js';
import { decodeResult } from './result-codec.js';

export interface SubmitOptions {
  /** The job's id (one request per id: a second submit with a pending or kept id adds nothing). Default a UUID. */
  jobId?: string;
}

type Settings = Required<Omit<InferenceQueueOptions, 'connection' | 'onError'>>;

/** BullMQ's KeepJobs: `age` in seconds and/or `count`. */
function keep(k: KeepJobs): { age: number; count?: number } | { count: number } | boolean {
  if (k.ageSeconds !== undefined)
    return k.count === undefined ? { age: k.ageSeconds } : { age: k.ageSeconds, count: k.count };
  return k.count === undefined ? false : { count: k.count };
}

function checkImage(image: ImageInput): Uint8Array {
  if (image instanceof Uint8Array) return image;
  if (image && typeof image === 'object' && (image as { data?: unknown }).data instanceof Uint8Array) {
    return image.data;
  }
  throw new InferencePoolError(
    'INVALID_ARGUMENT',
    'image must be encoded bytes (a Uint8Array) or { data, width, height, format }',
  );
}

export class InferenceQueue {
  readonly name: string;
  readonly #settings: Settings;
  readonly #redis: Redis;
  readonly #queue: Queue<JobData>;
  #events: QueueEvents | undefined;
  readonly #pending = new PendingJobs();
  readonly #ready: Promise<void>;
  readonly #onError: (error: Error) => void;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #rechecking = false;

  constructor(options: InferenceQueueOptions) {
    if (!options || options.connection === undefined) {
      throw new InferencePoolError('INVALID_ARGUMENT', 'InferenceQueue needs { connection }');
    }
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    this.#settings = { ...QUEUE_DEFAULTS, ...given } as Settings;
    this.name = this.#settings.name;
    this.#onError = options.onError ?? (() => {});
    this.#redis = openConnection(options.connection);
    this.#redis.on('error', (error: Error) => this.#onError(error));
    const bull = { connection: this.#redis, prefix: this.#settings.prefix };
    this.#queue = new Queue<JobData>(this.name, bull);
    this.#queue.on('error', (error: Error) => this.#onError(error));
    // A lost connection may have lost events (or, with a Redis that restarted empty, the jobs).
    let disconnected = false;
    this.#redis.on('close', () => (disconnected = true));
    this.#redis.on('ready', () => {
      if (!disconnected) return;
      disconnected = false;
      void this.#events?.waitUntilReady().then(() => this.#recheck());
    });
    this.#ready = this.#listen(bull);
    this.#ready.catch(() => {}); // surfaced by the first submit
    this.#timer = setInterval(() => void this.#recheck(), this.#settings.recheckIntervalMs);
    this.#timer.unref();
  }

  /**
   * Starts the events reader at the stream's current end, by id: a reader left to start at '$'
   * reads from whenever its first XREAD happens to reach Redis, and a job completed before that
   * (the first ones, often) would be missed.
   */
  async #listen(bull: { connection: Redis; prefix: string }): Promise<void> {
    await this.#queue.waitUntilReady();
    const last = await this.#redis.xrevrange(`${this.#settings.prefix}:${this.name}:events`, '+', '-', 'COUNT', 1);
    if (this.#closed) return;
    const events = new QueueEvents(this.name, { ...bull, lastEventId: last[0]?.[0] ?? '0-0' });
    this.#events = events;
    events.on('error', (error: Error) => this.#onError(error));
    events.on('completed', ({ jobId, returnvalue }) => {
      this.#pending.resolve(jobId, () => decodeResult(returnvalue));
    });
    events.on('failed', ({ jobId, failedReason }) => {
      this.#pending.reject(jobId, fromFailedReason(failedReason, jobId));
    });
    await events.waitUntilReady();
  }

  /** Runs the image through the queue and resolves with the same result pool.infer would give. */
  async infer(image: ImageInput, modelId: string, options: InferOptions = {}): Promise<InferenceResult> {
    const { signal } = options;
    if (signal?.aborted) throw new InferencePoolError('ABORTED', 'the request was aborted');
    const jobId = randomUUID();
    const data = this.#jobData(image, modelId, options, jobId);
    const bytes = checkImage(image);
    const add = () => this.#add(jobId, data, bytes);
    const waiting = this.#pending.wait(jobId, add);
    // It may settle (close(), an abort) while the job is still being added: handled by our caller.
    waiting.catch(() => {});
    if (signal) {
      signal.addEventListener('abort', () => this.#abort(jobId), { once: true });
    }
    try {
      await add();
    } catch (error) {
      this.#pending.reject(jobId, this.#submitError(error));
    }
    return waiting;
  }

  /** Submits the job and resolves with its id once Redis has it; collect the result with result(jobId). */
  async submit(
    image: ImageInput,
    modelId: string,
    options: InferOptions = {},
    { jobId = randomUUID() }: SubmitOptions = {},
  ): Promise<string> {
    if (typeof jobId !== 'string' || jobId === '' || /^\d+$/.test(jobId) || jobId.includes(':')) {
      // BullMQ reserves integer ids for its own counter and uses ':' in its keys.
      throw new InferencePoolError('INVALID_ARGUMENT', `jobId must be a non-empty string, not an integer, without ':'`);
    }
    const data = this.#jobData(image, modelId, options, jobId);
    try {
      await this.#add(jobId, data, checkImage(image));
    } catch (error) {
      throw this.#submitError(error);
    }
    return jobId;
  }

  /**
   * The result of a submitted job: at once if it has finished (and is still kept, see
   * removeOnComplete), else when it does. Rejects with the job's error code if it failed, and with
   * INVALID_ARGUMENT if Redis has no such job.
   */
  async result(jobId: string): Promise<InferenceResult> {
    this.#checkOpen();
    await this.#ready;
    const waiting = this.#pending.wait(jobId);
    waiting.catch(() => {});
    await this.#settleFromRedis(jobId, false);
    return waiting;
  }

  /** Rejects what is still pending with POOL_CLOSED and closes the connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#pending.rejectAll(new InferencePoolError('POOL_CLOSED', 'the queue client was closed'));
    await this.#ready.catch(() => {});
    await Promise.allSettled([this.#events?.close(), this.#queue.close()]);
    await closeConnection(this.#redis);
  }

  #checkOpen(): void {
    if (this.#closed) throw new InferencePoolError('POOL_CLOSED', 'the queue client is closed');
  }

  #jobData(image: ImageInput, modelId: string, options: InferOptions, jobId: string): JobData {
    this.#checkOpen();
    if (typeof modelId !== 'string' || modelId === '') {
      throw new InferencePoolError('INVALID_ARGUMENT', 'modelId must be a non-empty string');
    }
    checkImage(image);
    const { signal: _signal, timeoutMs, ...rest } = options;
    const data: JobData = {
      v: 1,
      modelId,
      options: rest as JobInferOptions,
      imageKey: imageKey(this.#settings.prefix, this.name, jobId),
    };
    if (!(image instanceof Uint8Array)) data.raw = { width: image.width, height: image.height, format: image.format };
    if (timeoutMs !== undefined) {
      if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
        throw new InferencePoolError(
          'INVALID_ARGUMENT',
          `timeoutMs must be a finite positive number, got ${timeoutMs}`,
        );
      }
      data.deadline = Date.now() + timeoutMs;
    }
    return data;
  }

  async #add(jobId: string, data: JobData, bytes: Uint8Array): Promise<void> {
    await this.#ready;
    const s = this.#settings;
    await storeImage(this.#redis, data.imageKey, bytes, s.imageTtlSeconds);
    await this.#queue.add(JOB_NAME, data, {
      jobId,
      attempts: s.attempts,
      backoff: { type: 'exponential', delay: s.backoffMs },
      removeOnComplete: keep(s.removeOnComplete),
      removeOnFail: keep(s.removeOnFail),
    });
  }

  #submitError(error: unknown): InferencePoolError {
    if (error instanceof InferencePoolError) return error;
    const message = error instanceof Error ? error.message : String(error);
    if (this.#closed) return new InferencePoolError('POOL_CLOSED', `the queue client was closed: ${message}`);
    return new InferencePoolError('INFERENCE_FAILED', `could not submit the job: ${message}`, { cause: error });
  }

  #abort(jobId: string): void {
    if (!this.#pending.has(jobId)) return;
    this.#pending.reject(jobId, new InferencePoolError('ABORTED', 'the request was aborted'));
    // Best effort: a job no worker has taken yet is removed; one already running completes unseen.
    this.#queue.remove(jobId).catch(() => {});
  }

  /** Settles `jobId` from its state in Redis; a missing job is submitted again (resubmit) or rejected. */
  async #settleFromRedis(jobId: string, resubmit: boolean): Promise<void> {
    let job: Job<JobData> | undefined;
    try {
      job = await this.#queue.getJob(jobId);
    } catch (error) {
      this.#onError(error as Error);
      return; // checked again later
    }
    if (!this.#pending.has(jobId)) return;
    if (!job) {
      const again = this.#pending.resubmitter(jobId);
      if (resubmit && again) {
        await again().catch((error: unknown) => this.#onError(error as Error));
      } else if (!again) {
        this.#pending.reject(
          jobId,
          new InferencePoolError('INVALID_ARGUMENT', `no job ${jobId} in queue ${this.name}`),
        );
      }
      return;
    }
    if (job.finishedOn && job.returnvalue !== null && job.returnvalue !== undefined) {
      this.#pending.resolve(jobId, () => decodeResult(job.returnvalue));
    } else if (job.finishedOn && job.failedReason) {
      this.#pending.reject(jobId, fromFailedReason(job.failedReason, jobId));
    }
  }

  async #recheck(): Promise<void> {
    if (this.#rechecking || this.#closed || this.#pending.size === 0) return;
    this.#rechecking = true;
    try {
      for (const id of this.#pending.ids()) {
        if (this.#closed) break;
        await this.#settleFromRedis(id, true);
      }
    } finally {
      this.#rechecking = false;
    }
  }
}
