// Every command-line flag of `inference-pool serve`: where its value goes in createServer's options,
// its environment variables (INFERENCE_POOL_<FLAG> first, then Roboflow's name where the meaning is
// the same) and its default as --help shows it. The checks are the config file's, so a flag, a
// variable and a field are held to the same rules.
import type { Check } from './config-checks.js';
import { POOL_FIELDS, REQUEST_DEFAULTS_FIELDS, SERVER_FIELDS, URL_INPUT_FIELDS } from './config-schema.js';

export interface Flag {
  /** `--<name>`. */
  name: string;
  /** Where the value goes in CreateServerOptions, dotted ('server.defaults.confidence'). */
  path: string;
  type: 'number' | 'boolean' | 'string';
  /** Booleans: `--no-<name>` turns it off (over the config file and the environment). */
  negatable?: boolean;
  check: Check;
  /** Maps the flag's value onto the setting (--quiet sets `logger: false`). */
  toSetting?: (value: unknown) => unknown;
  /** INFERENCE_POOL_<NAME>, then aliases; the first one set wins. */
  env: string[];
  default: string;
  help: string;
}

/** INFERENCE_POOL_ + the flag's name in upper snake case. */
export const envName = (flag: string) => `INFERENCE_POOL_${flag.toUpperCase().replace(/-/g, '_')}`;

function flag(
  name: string,
  path: string,
  type: Flag['type'],
  check: Check,
  defaultText: string,
  help: string,
  extra: Partial<Flag> & { aliases?: string[] } = {},
): Flag {
  const { aliases = [], ...rest } = extra;
  return { name, path, type, check, default: defaultText, help, env: [envName(name), ...aliases], ...rest };
}

const S = SERVER_FIELDS;
const U = URL_INPUT_FIELDS;
const D = REQUEST_DEFAULTS_FIELDS;
const P = POOL_FIELDS;

/** The server's settings (ServerConfig); the test checks that every field has one. */
export const SERVER_FLAGS: Flag[] = [
  flag('host', 'server.host', 'string', S.host, '0.0.0.0', 'listen address'),
  flag('port', 'server.port', 'number', S.port, '9001', 'listen port (0: any free port)', { aliases: ['PORT'] }),
  flag('api-key', 'server.apiKey', 'string', S.apiKey, 'none', 'require ?api_key= or Authorization: Bearer'),
  flag('body-limit', 'server.bodyLimit', 'number', S.bodyLimit, '52428800', 'largest request body, bytes'),
  flag(
    'max-images-per-request',
    'server.maxImagesPerRequest',
    'number',
    S.maxImagesPerRequest,
    '16',
    'images one request may carry',
    { aliases: ['MAX_BATCH_SIZE'] },
  ),
  flag('allow-url-input', 'server.allowUrlInput', 'boolean', S.allowUrlInput, 'false', 'accept images given by URL', {
    negatable: true,
    aliases: ['ALLOW_URL_INPUT'],
  }),
  flag(
    'url-allow-http',
    'server.urlInput.allowHttp',
    'boolean',
    U.allowHttp,
    'false',
    'also fetch plain http:// URLs',
    { negatable: true },
  ),
  flag('url-max-redirects', 'server.urlInput.maxRedirects', 'number', U.maxRedirects, '3', 'redirects followed'),
  flag('url-max-bytes', 'server.urlInput.maxBytes', 'number', U.maxBytes, '20971520', 'largest image fetched, bytes'),
  flag(
    'url-timeout-ms',
    'server.urlInput.timeoutMs',
    'number',
    U.timeoutMs,
    '10000',
    'whole fetch, redirects included',
  ),
  flag('admin', 'server.admin', 'boolean', S.admin, 'true', 'serve /model/add, /model/remove, /model/clear', {
    negatable: true,
  }),
  flag('models-dir', 'server.modelsDir', 'string', S.modelsDir, 'none', '/model/add may load <dir>/<model_id>.onnx'),
  flag(
    'request-timeout-ms',
    'server.requestTimeoutMs',
    'number',
    S.requestTimeoutMs,
    '30000',
    'time a request may take to arrive',
  ),
  flag(
    'headers-timeout-ms',
    'server.headersTimeoutMs',
    'number',
    S.headersTimeoutMs,
    '10000',
    'time the headers may take to arrive',
  ),
  flag(
    'keep-alive-timeout-ms',
    'server.keepAliveTimeoutMs',
    'number',
    S.keepAliveTimeoutMs,
    '5000',
    'idle keep-alive connections close after',
  ),
  flag(
    'grace-period-ms',
    'server.gracePeriodMs',
    'number',
    S.gracePeriodMs,
    '10000',
    'shutdown: time for requests in flight',
  ),
  flag(
    'retry-after-seconds',
    'server.retryAfterSeconds',
    'number',
    S.retryAfterSeconds,
    '1',
    'Retry-After on 503 answers',
  ),
  flag('confidence', 'server.defaults.confidence', 'number', D.confidence, '0.4', 'default detection confidence', {
    aliases: ['CONFIDENCE'],
  }),
  flag('iou-threshold', 'server.defaults.iouThreshold', 'number', D.iouThreshold, '0.3', 'default NMS IoU threshold', {
    aliases: ['IOU_THRESHOLD'],
  }),
  flag(
    'max-detections',
    'server.defaults.maxDetections',
    'number',
    D.maxDetections,
    '300',
    'default most predictions',
    { aliases: ['MAX_DETECTIONS'] },
  ),
  flag(
    'max-candidates',
    'server.defaults.maxCandidates',
    'number',
    D.maxCandidates,
    '3000',
    'default candidates entering NMS',
    { aliases: ['MAX_CANDIDATES'] },
  ),
  flag('log-level', 'server.logger', 'string', S.logger, 'info', 'trace, debug, info, warn, error, fatal or silent', {
    toSetting: (level) => ({ level }),
  }),
  // After --log-level, so that it wins when both are given.
  flag('quiet', 'server.logger', 'boolean', S.logger, 'false', 'no logs at all', {
    toSetting: (quiet) => (quiet ? false : undefined),
  }),
];

/** The pool's options (PoolOptions but `models`); the test checks that every field has one. */
export const POOL_FLAGS: Flag[] = [
  flag(
    'max-batch-size',
    'pool.maxBatchSize',
    'number',
    P.maxBatchSize,
    '8',
    "largest batch a model runs (Roboflow's MAX_BATCH_SIZE is --max-images-per-request)",
  ),
  flag(
    'max-queue-delay-ms',
    'pool.maxQueueDelayMs',
    'number',
    P.maxQueueDelayMs,
    '0',
    'how long a partial batch may wait',
  ),
  flag('max-queue-size', 'pool.maxQueueSize', 'number', P.maxQueueSize, '10000', 'requests in the pool at once'),
  flag('timeout-ms', 'pool.timeoutMs', 'number', P.timeoutMs, 'none', 'default deadline of a request'),
  flag(
    'priority-aging-ms',
    'pool.priorityAgingMs',
    'number',
    P.priorityAgingMs,
    '10000',
    'a waiting request gains a priority level per',
  ),
  flag(
    'preprocess-threads',
    'pool.preprocessThreads',
    'number',
    P.preprocessThreads,
    'cores',
    'decoding and preprocessing threads',
  ),
  flag(
    'postprocess-threads',
    'pool.postprocessThreads',
    'number',
    P.postprocessThreads,
    'cores/2',
    'postprocessing threads',
  ),
  flag(
    'intra-op-threads',
    'pool.intraOpThreads',
    'number',
    P.intraOpThreads,
    'cores',
    "ONNX Runtime's intra-op threads",
  ),
  flag('execution-provider', 'pool.executionProvider', 'string', P.executionProvider, 'cpu', 'cpu or cuda'),
  flag('device-id', 'pool.deviceId', 'number', P.deviceId, '0', 'CUDA device'),
  flag('max-image-pixels', 'pool.maxImagePixels', 'number', P.maxImagePixels, '50000000', 'larger images are refused'),
  flag(
    'ort-library-path',
    'pool.ortLibraryPath',
    'string',
    P.ortLibraryPath,
    "onnxruntime-node's",
    'the ONNX Runtime library to load',
    { env: ['INFERENCE_POOL_ORT_LIBRARY'] },
  ),
];

export const SETTING_FLAGS: Flag[] = [...SERVER_FLAGS, ...POOL_FLAGS];
