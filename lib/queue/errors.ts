// Errors across the queue. A job's failure travels as BullMQ's `failedReason` text, so the code goes
// in front of the message ("INVALID_IMAGE: ...") and the client turns it back into an
// InferencePoolError. Which failures are worth another attempt is decided here, once.
import { UnrecoverableError } from 'bullmq';

import { ERROR_CODES, InferencePoolError, type ErrorCode } from '../index.js';

/**
 * The same bytes and options fail the same way on any worker: the job fails at once, no retry.
 * (DEADLINE_EXCEEDED too: a later attempt is later still.)
 */
export const DETERMINISTIC_CODES: readonly ErrorCode[] = [
  'INVALID_IMAGE',
  'INVALID_ARGUMENT',
  'IMAGE_TOO_LARGE',
  'MODEL_NOT_FOUND',
  'DEADLINE_EXCEEDED',
];

/** The code of anything a pool threw; INFERENCE_FAILED for what is not an InferencePoolError. */
export function codeOf(error: unknown): ErrorCode {
  return error instanceof InferencePoolError ? error.code : 'INFERENCE_FAILED';
}

/**
 * What the worker's processor throws for a failed inference: UnrecoverableError (BullMQ fails the
 * job without further attempts) for deterministic failures, a plain Error (retried with backoff
 * while attempts remain) for the rest, such as QUEUE_FULL and POOL_CLOSED.
 */
export function toJobError(error: unknown): Error {
  const code = codeOf(error);
  const text = `${code}: ${error instanceof Error ? error.message : String(error)}`;
  return DETERMINISTIC_CODES.includes(code) ? new UnrecoverableError(text) : new Error(text);
}

/** A job's `failedReason` as the client's error; BullMQ's own reasons (a job stalled too often) are INFERENCE_FAILED. */
export function fromFailedReason(reason: string | undefined, jobId: string): InferencePoolError {
  const text = reason ?? 'unknown failure';
  const m = /^([A-Z_]+): ([\s\S]*)$/.exec(text);
  if (m && (ERROR_CODES as readonly string[]).includes(m[1]!)) {
    return new InferencePoolError(m[1] as ErrorCode, m[2]!);
  }
  return new InferencePoolError('INFERENCE_FAILED', `job ${jobId} failed: ${text}`);
}
