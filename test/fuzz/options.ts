// Random request options: every field of InferOptions, with in-range values, edge values (0, 1, huge),
// values of the right type that make no sense (negative, NaN, Infinity, 2e9 class ids, unknown class
// names) and, now and then, values of the wrong type. Whatever comes out, the pool must answer with a
// result or an InferencePoolError, never a crash or a plain TypeError.
import { int, pick } from './mutators.ts';
import type { Random } from './mutators.ts';

const NUMBERS_BAD = [-1, NaN, Infinity, -Infinity, 1.5, 2 ** 31, 2 ** 53, -0];
const WRONG_TYPES = ['5', null, true, {}, [], [3], () => 3, 10n] as const;

const FIELDS: Record<string, { good: readonly unknown[]; bad: readonly unknown[] }> = {
  topK: { good: [0, 1, 2, 3, 5, 8, 100], bad: [...NUMBERS_BAD, 2 ** 32] },
  confidence: { good: [0, 0.001, 0.05, 0.25, 0.4, 0.5, 0.9, 1], bad: [...NUMBERS_BAD, 1.0001, -0.5, 1e300] },
  iouThreshold: { good: [0, 0.1, 0.3, 0.5, 0.9, 1], bad: [...NUMBERS_BAD, 2] },
  classAgnosticNms: { good: [true, false], bad: [0, 1, 'true'] },
  maxDetections: { good: [0, 1, 2, 5, 100, 300, 10_000], bad: [...NUMBERS_BAD, 1e9, 2 ** 32 + 1] },
  maxCandidates: { good: [0, 1, 3, 50, 3000, 100_000], bad: [...NUMBERS_BAD, 1e9, 2 ** 32 + 1] },
  maskDecodeMode: { good: ['accurate', 'fast', 'tradeoff'], bad: ['ACCURATE', '', 'best', 0] },
  tradeoffFactor: { good: [0, 0.25, 0.5, 0.999, 1], bad: [...NUMBERS_BAD, 2, -0.5] },
  returnMasks: { good: [true, false], bad: [1, 'yes', 0] },
};

/** A class filter: ids, names (known and unknown), huge and negative ids, and non-arrays. */
function classFilter(rand: Random, names: readonly string[], wrongTypes: boolean): unknown {
  // Ids the model does not have (huge, negative, fractional) and unknown names are valid: they match nothing.
  const items = [
    () => int(rand, Math.max(1, names.length)),
    () => names[int(rand, names.length)] ?? 'class0',
    () => pick(rand, ['no-such-class', '', 'RED', '0', ' ']),
    () => pick(rand, [2e9, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1e15, -1, -2e9, names.length, 1.5, NaN, Infinity]),
  ];
  if (wrongTypes && rand() < 0.5) return pick(rand, [names[0], 0, {}, null, 'class0', new Set([0])]);
  const length = pick(rand, [0, 1, 1, 2, 3, 8, 300]);
  const filter: unknown[] = Array.from({ length }, () => pick(rand, items)());
  if (wrongTypes && length > 0) filter[int(rand, length)] = pick(rand, WRONG_TYPES);
  return filter;
}

export interface GeneratedOptions {
  /** The options argument for infer(); not always an object. */
  value: unknown;
  /** Short text for the case's label. */
  what: string;
}

export function randomOptions(rand: Random, classNames: readonly string[]): GeneratedOptions {
  const r = rand();
  if (r < 0.3) return { value: undefined, what: 'default options' };
  if (r < 0.32) {
    const value = pick(rand, [null, 'fast', 5, true] as const);
    return { value, what: `options ${String(value)}` };
  }
  // Mostly in-range values; one options object in five has one out-of-range value, and one of those
  // in three a value of the wrong type.
  const flawed = rand() < 0.2;
  const wrongTypes = flawed && rand() < 0.33;
  const out: Record<string, unknown> = {};
  for (const [name, { good }] of Object.entries(FIELDS)) if (rand() < 0.45) out[name] = pick(rand, good);
  if (rand() < 0.3) out.classFilter = classFilter(rand, classNames, wrongTypes);
  if (flawed) {
    const [name, { bad }] = pick(rand, Object.entries(FIELDS));
    out[name] = wrongTypes ? pick(rand, WRONG_TYPES) : pick(rand, bad);
  }
  const parts = Object.entries(out).map(([name, value]) => `${name}=${describe(value)}`);
  return { value: out, what: `{${parts.join(' ')}}` };
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'function';
  if (Array.isArray(value)) {
    const shown = value.slice(0, 4).map(describe).join(',');
    return `[${shown}${value.length > 4 ? `,…(${value.length})` : ''}]`;
  }
  if (value instanceof Set) return 'Set';
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
