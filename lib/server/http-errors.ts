// How a failure becomes an HTTP answer: Roboflow's `{ message }` body with the status a client can
// act on. A pool error maps by its code; anything unexpected is a 500 with a generic message (the
// details go to the log, never to the client).
import { InferencePoolError } from '../index.js';
import type { ErrorCode } from '../index.js';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  /** The pool's error code, when the failure came from the pool. */
  readonly code: string | undefined;
  /** Seconds, for 503 answers. */
  readonly retryAfter: number | undefined;

  constructor(
    statusCode: number,
    message: string,
    options: { code?: string; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.statusCode = statusCode;
    this.code = options.code;
    this.retryAfter = options.retryAfter;
  }
}

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  INVALID_IMAGE: 400,
  INVALID_ARGUMENT: 400,
  IMAGE_TOO_LARGE: 413,
  MODEL_NOT_FOUND: 404,
  MODEL_LOAD_FAILED: 500,
  QUEUE_FULL: 503,
  POOL_CLOSED: 503,
  ABORTED: 499,
  DEADLINE_EXCEEDED: 504,
  VIDEO_SOURCE_FAILED: 400,
  INFERENCE_FAILED: 500,
  PROVIDER_UNAVAILABLE: 500,
};

/** A pool error as an HttpError; 5xx answers other than 503/504 keep their message out of the body. */
export function fromPoolError(error: InferencePoolError, retryAfter: number): HttpError {
  const status = STATUS_BY_CODE[error.code] ?? 500;
  const message = status === 500 ? 'Internal error while running inference' : error.message;
  return new HttpError(status, message, {
    code: error.code,
    retryAfter: status === 503 ? retryAfter : undefined,
    cause: error,
  });
}

/** Whatever was thrown, as an HttpError (unknown errors: 500). */
export function toHttpError(error: unknown, retryAfter: number): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InferencePoolError) return fromPoolError(error, retryAfter);
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  // Fastify's own errors (bad JSON, body too large, unsupported media type) carry a 4xx status.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpError(status, (error as Error).message, { cause: error });
  }
  if (status === 503) return new HttpError(503, 'Service unavailable', { retryAfter, cause: error });
  return new HttpError(500, 'Internal server error', { cause: error });
}
