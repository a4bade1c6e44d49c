// The server's settings with every default filled in, resolved once when the plugin registers.
import type { ModelSpec } from '../index.js';
import type { InferencePoolPluginOptions, RequestDefaults, UrlInputOptions } from './options.js';
import { ROBOFLOW_DEFAULTS } from './roboflow-request.js';

export const DEFAULT_BODY_LIMIT = 50 * 1024 * 1024;
export const DEFAULT_MAX_IMAGES_PER_REQUEST = 16;
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DEFAULT_GRACE_PERIOD_MS = 10_000;
export const DEFAULT_PORT = 9001;
export const DEFAULT_HOST = '0.0.0.0';

export interface ServerSettings {
  apiKey: string | undefined;
  bodyLimit: number;
  maxImagesPerRequest: number;
  allowUrlInput: boolean;
  urlInput: UrlInputOptions;
  admin: boolean;
  modelsDir: string | undefined;
  retryAfterSeconds: number;
  defaults: Required<RequestDefaults>;
  /** Models from the configuration, by id: what /model/add may load again. */
  configured: Map<string, ModelSpec>;
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`inference-pool server: ${name} must be a positive integer`);
  }
  return value;
}

export function resolveSettings(options: InferencePoolPluginOptions, models: ModelSpec[]): ServerSettings {
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
    throw new TypeError('inference-pool server: apiKey must be a non-empty string');
  }
  return {
    apiKey: options.apiKey,
    bodyLimit: positiveInteger(options.bodyLimit, 'bodyLimit', DEFAULT_BODY_LIMIT),
    maxImagesPerRequest: positiveInteger(
      options.maxImagesPerRequest,
      'maxImagesPerRequest',
      DEFAULT_MAX_IMAGES_PER_REQUEST,
    ),
    allowUrlInput: options.allowUrlInput === true,
    urlInput: options.urlInput ?? {},
    admin: options.admin !== false,
    modelsDir: options.modelsDir,
    retryAfterSeconds: positiveInteger(options.retryAfterSeconds, 'retryAfterSeconds', 1),
    defaults: { ...ROBOFLOW_DEFAULTS, ...options.defaults },
    configured: new Map(models.map((m) => [m.id, m])),
  };
}
