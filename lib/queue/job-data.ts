// What a job carries in Redis, apart from the image bytes (see image-store.ts): the model, the
// request's options and where the image is. Kept small, so that BullMQ's Lua scripts, the job hash
// and the events stream never copy image-sized strings.
import type { InferOptions, PixelFormat } from '../index.js';

/** Options that travel with a job: a pool's InferOptions without the signal (a process-local object). */
export type JobInferOptions = Omit<InferOptions, 'signal' | 'timeoutMs'>;

export interface JobData {
  /** Format version of this object. */
  v: 1;
  modelId: string;
  options: JobInferOptions;
  /** The Redis key holding the image bytes. */
  imageKey: string;
  /** Raw pixels: their shape (the key holds `data`); absent for encoded bytes. */
  raw?: { width: number; height: number; format: PixelFormat };
  /** Epoch ms after which the request is not worth running (from the caller's `timeoutMs`). */
  deadline?: number;
}

/** The name every job of this package has in BullMQ (one kind of job per queue). */
export const JOB_NAME = 'infer';
