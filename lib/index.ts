export { InferencePool } from './pool.js';
export { annotate } from './annotate.js';
export type { AnnotateOptions } from './annotate.js';
export { InferencePoolError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export type * from './types.js';
