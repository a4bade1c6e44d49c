// The config file's shape, `{ pool, models, server }`, as checks per field. Each table is typed
// against its interface, so a field added to ServerConfig, PoolOptions or ModelSpec without a check
// here fails to compile.
import type { ModelSpec, PoolOptions } from '../types.js';
import {
  arrayOf,
  boolean,
  either,
  integer,
  isPlainObject,
  nonEmptyString,
  number,
  object,
  oneOf,
  path,
  type Check,
  type CheckContext,
} from './config-checks.js';
import { invalid } from './config-error.js';
import type { CreateServerOptions, RequestDefaults, ServerConfig, UrlInputOptions } from './options.js';

export const TASKS = ['classification', 'object-detection', 'instance-segmentation'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const positiveInt = integer(1);
const nonNegativeInt = integer(0);
const milliseconds = integer(0);
const positiveMs = number(0, Infinity, true);
const batchSize = integer(1, 4096);
const channelTriple = (each: Check): Check =>
  either('must be a number or an array of 3 numbers', each, arrayOf(each, 3));

export const URL_INPUT_FIELDS = {
  allowHttp: boolean,
  maxRedirects: integer(0, 20),
  maxBytes: positiveInt,
  timeoutMs: integer(1),
  isAllowedAddress: (value, at) => (typeof value === 'function' ? value : invalid(at, 'must be a function')),
} satisfies Record<keyof Required<UrlInputOptions>, Check>;

export const REQUEST_DEFAULTS_FIELDS = {
  confidence: number(0, 1),
  iouThreshold: number(0, 1),
  maxDetections: positiveInt,
  maxCandidates: positiveInt,
} satisfies Record<keyof Required<RequestDefaults>, Check>;

const logger: Check = (value, at) => {
  if (typeof value === 'boolean') return value;
  if (!isPlainObject(value)) return invalid(at, 'must be true, false or an object of pino options');
  if (value.level !== undefined) oneOf(...LOG_LEVELS)(value.level, `${at}.level`, { baseDir: '' });
  return value;
};

export const SERVER_FIELDS = {
  host: nonEmptyString,
  port: integer(0, 65535),
  apiKey: nonEmptyString,
  bodyLimit: positiveInt,
  maxImagesPerRequest: positiveInt,
  allowUrlInput: boolean,
  urlInput: object(URL_INPUT_FIELDS),
  admin: boolean,
  modelsDir: path,
  requestTimeoutMs: milliseconds,
  headersTimeoutMs: milliseconds,
  keepAliveTimeoutMs: milliseconds,
  gracePeriodMs: milliseconds,
  retryAfterSeconds: positiveInt,
  defaults: object(REQUEST_DEFAULTS_FIELDS),
  logger,
} satisfies Record<keyof Required<ServerConfig>, Check>;

export const MODEL_FIELDS = {
  id: nonEmptyString,
  path,
  task: oneOf(...TASKS),
  classNames: arrayOf(nonEmptyString),
  inputSize: arrayOf(positiveInt, 2),
  resize: oneOf('stretch', 'letterbox'),
  channelOrder: oneOf('rgb', 'bgr'),
  mean: channelTriple(number(-Infinity)),
  std: channelTriple(number(0, Infinity, true)),
  activation: oneOf('softmax', 'sigmoid', 'none'),
  outputLayout: oneOf('yolov8', 'yolov11', 'yolov5', 'end-to-end'),
  maxBatchSize: batchSize,
  instances: positiveInt,
  maxQueueSize: positiveInt,
  timeoutMs: positiveMs,
  warmup: either(
    'must be true, false or an array of batch sizes (integers from 1 to 4096)',
    boolean,
    arrayOf(batchSize),
  ),
} satisfies Record<keyof Required<ModelSpec>, Check>;

const modelSpec: Check = (value, at, ctx) => {
  const spec = object(MODEL_FIELDS)(value, at, ctx) as Partial<ModelSpec>;
  for (const key of ['id', 'path', 'task'] as const) {
    if (spec[key] === undefined) invalid(`${at}.${key}`, 'is required');
  }
  return spec;
};

export const models = arrayOf(modelSpec);

export const POOL_FIELDS = {
  models,
  maxBatchSize: batchSize,
  maxQueueDelayMs: number(0),
  maxQueueSize: positiveInt,
  timeoutMs: positiveMs,
  priorityAgingMs: number(0),
  preprocessThreads: positiveInt,
  postprocessThreads: positiveInt,
  intraOpThreads: positiveInt,
  executionProvider: oneOf('cpu', 'cuda'),
  deviceId: nonNegativeInt,
  maxImagePixels: positiveInt,
  ortLibraryPath: path,
} satisfies Record<keyof Required<PoolOptions>, Check>;

const CONFIG_FIELDS: Record<keyof Omit<CreateServerOptions, 'waitForModels'>, Check> = {
  pool: object(POOL_FIELDS),
  models,
  server: object(SERVER_FIELDS),
};

/** A model id may be configured once, across `pool.models` and `models`. */
function checkUniqueIds(config: CreateServerOptions): void {
  const seen = new Set<string>();
  const lists: [string, ModelSpec[] | undefined][] = [
    ['pool.models', (config.pool as PoolOptions | undefined)?.models],
    ['models', config.models],
  ];
  for (const [name, list] of lists) {
    list?.forEach((spec, i) => {
      if (seen.has(spec.id)) invalid(`${name}[${i}].id`, `'${spec.id}' is configured twice`);
      seen.add(spec.id);
    });
  }
}

/**
 * Checks a parsed config file and returns it as createServer's options, relative paths resolved
 * against `ctx.baseDir`. Throws a ConfigError naming the field (prefixed with `source`, the file's name).
 */
export function checkConfig(json: unknown, source: string, ctx: CheckContext): CreateServerOptions {
  try {
    if (!isPlainObject(json)) invalid('(top level)', 'must be an object: { pool, models, server }');
    const config = object(CONFIG_FIELDS)(json, '', ctx) as CreateServerOptions;
    checkUniqueIds(config);
    return config;
  } catch (error) {
    if (error instanceof Error && error.name === 'ConfigError') error.message = `${source}: ${error.message}`;
    throw error;
  }
}
