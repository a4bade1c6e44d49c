// What the server takes: the config file's `server` section, the plugin's options and createServer's.
// Every limit has a documented default here; bin/ maps flags and environment variables onto these.
import type { InferencePool, ModelSpec, PoolOptions } from '../index.js';

/** How `image: { type: 'url' }` and `?image=URL` are fetched, when URL input is on. */
export interface UrlInputOptions {
  /** Also allow plain http:// URLs. Default false (https only). */
  allowHttp?: boolean;
  /** Redirects followed; each target is checked again. Default 3. */
  maxRedirects?: number;
  /** Largest body fetched, in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Whole fetch, redirects included. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * Which resolved addresses may be connected to. Default: public unicast only (no loopback,
   * private, link-local, CGNAT, multicast, metadata or unspecified addresses, v4 or v6).
   * Tests pass a predicate that also allows a loopback server.
   */
  isAllowedAddress?: (address: string, family: 4 | 6) => boolean;
}

/** Default request options a client may override per request (Roboflow's server-wide defaults). */
export interface RequestDefaults {
  /** Default 0.4. */
  confidence?: number;
  /** Default 0.3. */
  iouThreshold?: number;
  /** Default 300. */
  maxDetections?: number;
  /** Default 3000. */
  maxCandidates?: number;
}

export interface ServerConfig {
  /** Listen address (CLI only; createServer does not listen). Default '0.0.0.0'. */
  host?: string;
  /** Listen port (CLI only). Default 9001. */
  port?: number;
  /** When set, every route but the health routes needs `?api_key=` or `Authorization: Bearer`. */
  apiKey?: string;
  /** Largest request body, bytes. Default 50 MiB. */
  bodyLimit?: number;
  /** Images one request may carry (a list in `image`). Default 16. */
  maxImagesPerRequest?: number;
  /** Accept `{ type: 'url' }` images and `?image=URL`. Default false. */
  allowUrlInput?: boolean;
  urlInput?: UrlInputOptions;
  /** Serve /model/add, /model/remove, /model/clear. Default true. */
  admin?: boolean;
  /** `/model/add` may also load `<modelsDir>/<model_id>.onnx` (never a path from a client). */
  modelsDir?: string;
  /** Time a request may take to arrive completely (Node's requestTimeout). Default 30 000 ms. */
  requestTimeoutMs?: number;
  /** Time the headers may take to arrive (Node's headersTimeout). Default 10 000 ms. */
  headersTimeoutMs?: number;
  /** Idle keep-alive connections are closed after this. Default 5 000 ms. */
  keepAliveTimeoutMs?: number;
  /** Shutdown: how long requests in flight may take to finish. Default 10 000 ms. */
  gracePeriodMs?: number;
  /** `Retry-After` on 503 answers, seconds. Default 1. */
  retryAfterSeconds?: number;
  defaults?: RequestDefaults;
  /** Fastify's logger: true (JSON lines on stdout, info), false, or pino options. Default false in createServer, true in the CLI. */
  logger?: boolean | Record<string, unknown>;
}

/** The plugin's options: the pool to serve (yours, or options to create one) and the server settings. */
export interface InferencePoolPluginOptions extends ServerConfig {
  /**
   * An InferencePool you own (the plugin never closes it), or options for one the plugin creates,
   * loads and closes in onClose.
   */
  pool?: InferencePool | PoolOptions;
  /** Models the plugin loads into the pool (besides `pool.models` when pool options are given). */
  models?: ModelSpec[];
  /**
   * Wait for every configured model to load (and warm up) before the plugin is ready. Default true.
   * With false, the server starts at once and /readiness answers 503 until they have loaded.
   */
  waitForModels?: boolean;
}

/** createServer's options: the config file's shape, `{ pool, models, server }`, or a pool of your own. */
export interface CreateServerOptions {
  pool?: InferencePool | PoolOptions;
  models?: ModelSpec[];
  server?: ServerConfig;
  /** As the plugin's; default true. */
  waitForModels?: boolean;
}

/**
 * The server's state, decorated on the Fastify instance as `inferenceServer` (the pool itself is
 * `inferencePool`). The CLI drives shutdown through it.
 */
export interface InferenceServerState {
  /** Every configured model has loaded and warmed up, and no drain has begun. */
  readonly ready: boolean;
  /** drain() was called: /readiness and new inference requests answer 503. */
  readonly draining: boolean;
  /** HTTP requests being answered by the inference routes now. */
  readonly inFlight: number;
  /** Settles when every configured model has loaded (rejects with the first load error). */
  readonly loaded: Promise<void>;
  /**
   * Begins shutdown: readiness turns 503 at once and new inference requests are refused with 503;
   * resolves true once the requests in flight have been answered, false if `timeoutMs` passed first.
   */
  drain(timeoutMs?: number): Promise<boolean>;
}
