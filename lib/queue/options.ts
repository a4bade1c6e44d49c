// The options of the queue's client and worker, and their defaults.
import type { InferencePool, ModelSpec, PoolOptions } from '../index.js';
import type { ConnectionInput } from './connection.js';

export const DEFAULT_QUEUE_NAME = 'inference-pool';
export const DEFAULT_PREFIX = 'bull';

/** Finished jobs kept in Redis: at most `count` of them, none older than `ageSeconds`. */
export interface KeepJobs {
  ageSeconds?: number;
  count?: number;
}

export interface InferenceQueueOptions {
  /** An ioredis instance (a template: the queue opens its own connections from it), its options, or a redis:// URL. */
  connection: ConnectionInput;
  /** The queue's name; a worker serves the queue of the same name. Default 'inference-pool'. */
  name?: string;
  /** BullMQ's key prefix. Default 'bull'. */
  prefix?: string;
  /** Attempts per job for transient failures (QUEUE_FULL, POOL_CLOSED, a worker lost). Default 5. */
  attempts?: number;
  /** First retry delay, doubled at each further attempt. Default 500 ms. */
  backoffMs?: number;
  /** Completed jobs kept (their results, for `result(jobId)`). Default 1 hour, 10 000 jobs. */
  removeOnComplete?: KeepJobs;
  /** Failed jobs kept. Default 1 day, 10 000 jobs. */
  removeOnFail?: KeepJobs;
  /** An image not yet run after this long expires with its job's data. Default 1 day. */
  imageTtlSeconds?: number;
  /**
   * How often pending `infer()`/`result()` calls are checked against Redis, besides after every
   * reconnection: a job Redis lost is submitted again (`infer` holds its bytes), a finished job
   * whose event was missed settles. Default 15 000 ms.
   */
  recheckIntervalMs?: number;
  /** Connection and Redis errors (the queue retries by itself; this is for logging). Default: ignored. */
  onError?: (error: Error) => void;
}

export const QUEUE_DEFAULTS = {
  name: DEFAULT_QUEUE_NAME,
  prefix: DEFAULT_PREFIX,
  attempts: 5,
  backoffMs: 500,
  removeOnComplete: { ageSeconds: 3600, count: 10_000 },
  removeOnFail: { ageSeconds: 86_400, count: 10_000 },
  imageTtlSeconds: 86_400,
  recheckIntervalMs: 15_000,
} as const;

/** Minimal logger (pino's shape), for the worker's events. */
export interface WorkerLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface WorkerOptions {
  /** A pool to serve (left open on close), or options to create one with (closed on close). */
  pool?: InferencePool;
  poolOptions?: PoolOptions;
  /** Models to load into the created pool (added to poolOptions.models). */
  models?: ModelSpec[];
  connection: ConnectionInput;
  /** Default 'inference-pool'. */
  name?: string;
  /** Default 'bull'. */
  prefix?: string;
  /** Jobs in the pool at once: they batch as concurrent requests do. Default 64. */
  concurrency?: number;
  /** A job's lock lasts this long and is renewed at half of it; a dead worker's jobs return after it. Default 30 000 ms. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs (a dead worker's). Default 30 000 ms. */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker lost) before it fails. Default 2. */
  maxStalledCount?: number;
  /** Worker events (started, errors, jobs that failed); default none: the library logs nothing. */
  logger?: WorkerLogger;
}

export const WORKER_DEFAULTS = {
  name: DEFAULT_QUEUE_NAME,
  prefix: DEFAULT_PREFIX,
  concurrency: 64,
  lockDurationMs: 30_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 2,
} as const;
