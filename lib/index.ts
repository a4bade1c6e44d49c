export { InferencePool } from './pool.js';
export { InferencePoolError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export type * from './types.js';
