/** Every way a request or a pool operation can fail, as the `code` of an InferencePoolError. */
export const ERROR_CODES = [
  'INVALID_IMAGE',
  'IMAGE_TOO_LARGE',
  'MODEL_NOT_FOUND',
  'MODEL_LOAD_FAILED',
  'INVALID_ARGUMENT',
  'QUEUE_FULL',
  'ABORTED',
  'POOL_CLOSED',
  'INFERENCE_FAILED',
  'PROVIDER_UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'VIDEO_SOURCE_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class InferencePoolError extends Error {
  override readonly name = 'InferencePoolError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Turns what the native layer threw (an Error with a string `code`) into an InferencePoolError. */
export function toPoolError(error: unknown, fallback: ErrorCode = 'INFERENCE_FAILED'): InferencePoolError {
  if (error instanceof InferencePoolError) return error;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const known = typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
    return new InferencePoolError(known ? (code as ErrorCode) : fallback, error.message, { cause: error });
  }
  return new InferencePoolError(fallback, String(error));
}
