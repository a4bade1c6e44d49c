// inference-pool/queue: inference jobs through Redis (BullMQ). The client submits images and gets
// pool.infer's results back; workers run them on a pool. The core import `inference-pool` loads
// none of this (nor bullmq or ioredis).
export { InferenceQueue } from './client.js';
export type { SubmitOptions } from './client.js';
export { startWorker } from './worker.js';
export type { InferenceWorker } from './worker.js';
export type { InferenceQueueOptions, KeepJobs, WorkerLogger, WorkerOptions } from './options.js';
export { DEFAULT_QUEUE_NAME, QUEUE_DEFAULTS, WORKER_DEFAULTS } from './options.js';
export type { ConnectionInput } from './connection.js';
export { DETERMINISTIC_CODES } from './errors.js';
export { encodeResult, decodeResult } from './result-codec.js';
export { InferencePoolError } from '../index.js';
export type { ErrorCode, InferenceResult, InferOptions, ImageInput } from '../index.js';
