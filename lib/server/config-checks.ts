// The checks a setting's value goes through, wherever it came from (config file, environment, flag):
// each returns the value to use, or throws a ConfigError naming the setting. Types and ranges only;
// the pool and the server validate deeper.
import { isAbsolute, resolve } from 'node:path';

import { invalid } from './config-error.js';

export interface CheckContext {
  /** Relative paths resolve against this: the config file's folder, or the working directory for flags. */
  baseDir: string;
}

export type Check = (value: unknown, at: string, ctx: CheckContext) => unknown;

export const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  (value, at) => {
    if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
    return invalid(
      at,
      max === Number.MAX_SAFE_INTEGER
        ? `must be an integer of at least ${min}`
        : `must be an integer from ${min} to ${max}`,
    );
  };

/** A finite number in [min, max]; `exclusiveMin` makes the lower bound open (a positive number). */
export const number =
  (min: number, max = Infinity, exclusiveMin = false): Check =>
  (value, at) => {
    const low = exclusiveMin ? (value as number) > min : (value as number) >= min;
    if (typeof value === 'number' && Number.isFinite(value) && low && value <= max) return value;
    if (exclusiveMin && max === Infinity) return invalid(at, `must be a number greater than ${min}`);
    return invalid(
      at,
      max === Infinity ? `must be a number of at least ${min}` : `must be a number from ${min} to ${max}`,
    );
  };

export const boolean: Check = (value, at) =>
  typeof value === 'boolean' ? value : invalid(at, 'must be true or false');

export const nonEmptyString: Check = (value, at) =>
  typeof value === 'string' && value !== '' ? value : invalid(at, 'must be a non-empty string');

/** A file or folder path; a relative one resolves against the context's folder. */
export const path: Check = (value, at, ctx) => {
  const p = nonEmptyString(value, at, ctx) as string;
  return isAbsolute(p) ? p : resolve(ctx.baseDir, p);
};

export const oneOf =
  (...choices: readonly string[]): Check =>
  (value, at) =>
    typeof value === 'string' && choices.includes(value) ? value : invalid(at, `must be one of ${choices.join(', ')}`);

export const arrayOf =
  (item: Check, length?: number): Check =>
  (value, at, ctx) => {
    if (!Array.isArray(value)) return invalid(at, length ? `must be an array of ${length}` : 'must be an array');
    if (length !== undefined && value.length !== length) return invalid(at, `must be an array of ${length}`);
    return value.map((v, i) => item(v, `${at}[${i}]`, ctx));
  };

/** The first check that accepts the value; else the message of the last. */
export const either =
  (message: string, ...checks: Check[]): Check =>
  (value, at, ctx) => {
    for (const check of checks) {
      try {
        return check(value, at, ctx);
      } catch {
        // try the next
      }
    }
    return invalid(at, message);
  };

export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An object whose every key has a check; an unknown key is an error (a typo would otherwise be
 * ignored silently). Keys whose value is undefined are left out.
 */
export const object =
  (fields: Record<string, Check>): Check =>
  (value, at, ctx) => {
    if (!isPlainObject(value)) return invalid(at, 'must be an object');
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const where = at === '' ? key : `${at}.${key}`;
      const check = fields[key];
      if (!check) return invalid(where, `unknown field (known: ${Object.keys(fields).join(', ')})`);
      if (v !== undefined) out[key] = check(v, where, ctx);
    }
    return out;
  };
