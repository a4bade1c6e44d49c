import { availableParallelism } from 'node:os';

import { classNamesFromMetadata } from './class-names.js';
import { InferencePoolError, toPoolError } from './errors.js';
import { loadBinding, resolveOrtLibrary } from './native.js';
import type {
  NativeModelInfo,
  NativeModelSpec,
  NativePool,
  NativePoolConfig,
  NativeRequestOptions,
  NativeResult,
} from './native.js';
import { buildResult } from './results.js';
import { createFrameStream, createVideoStream } from './video/create.js';
import type { StreamOptions, VideoOptions } from './video/options.js';
import type { VideoStream } from './video/video-stream.js';
import type {
  ImageInput,
  InferOptions,
  InferenceResult,
  ModelInfo,
  ModelSpec,
  PoolOptions,
  PoolStats,
  Task,
} from './types.js';

const TASKS: readonly Task[] = ['classification', 'object-detection', 'instance-segmentation'];

interface PendingRequest {
  resolve(result: InferenceResult): void;
  reject(error: InferencePoolError): void;
  model: ModelInfo;
  signal?: AbortSignal;
  onAbort?: () => void;
  /** Aborted while native code was reading its image: it rejects with this once native code lets go. */
  aborted?: InferencePoolError;
}

const exitHooked = new WeakSet<object>();

/**
 * process.exit() runs the C library's exit handlers (ONNX Runtime's static destructors among them)
 * while native threads may still be running, and Node runs no environment cleanup hook first; the
 * 'exit' event comes before both, so every pool of this environment stops its threads there.
 */
function hookProcessExit(binding: { shutdownAll(): void }): void {
  if (exitHooked.has(binding)) return;
  exitHooked.add(binding);
  process.once('exit', () => binding.shutdownAll());
}

function poolConfig(options: PoolOptions): NativePoolConfig {
  const cores = Math.max(1, availableParallelism());
  return {
    maxBatchSize: options.maxBatchSize ?? 8,
    maxQueueDelayMs: options.maxQueueDelayMs ?? 0,
    maxQueueSize: options.maxQueueSize ?? 10_000,
    priorityAgingMs: options.priorityAgingMs ?? 10_000,
    preprocessThreads: options.preprocessThreads ?? cores,
    postprocessThreads: options.postprocessThreads ?? Math.max(1, Math.floor(cores / 2)),
    intraOpThreads: options.intraOpThreads ?? cores,
    maxImagePixels: options.maxImagePixels ?? 50_000_000,
    executionProvider: options.executionProvider ?? 'cpu',
    deviceId: options.deviceId ?? 0,
    libraryPath: resolveOrtLibrary(options.ortLibraryPath),
  };
}

function nativeSpec(spec: ModelSpec): NativeModelSpec {
  if (!spec || typeof spec !== 'object')
    throw new InferencePoolError('INVALID_ARGUMENT', 'a model spec must be an object');
  if (typeof spec.id !== 'string' || spec.id === '') {
    throw new InferencePoolError('INVALID_ARGUMENT', 'a model spec needs a non-empty string id');
  }
  if (!TASKS.includes(spec.task)) {
    throw new InferencePoolError('INVALID_ARGUMENT', `model '${spec.id}': task must be one of ${TASKS.join(', ')}`);
  }
  if (
    spec.classNames !== undefined &&
    (!Array.isArray(spec.classNames) || spec.classNames.some((n) => typeof n !== 'string'))
  ) {
    throw new InferencePoolError('INVALID_ARGUMENT', `model '${spec.id}': classNames must be an array of strings`);
  }
  const { warmup } = spec;
  if (
    warmup !== undefined &&
    typeof warmup !== 'boolean' &&
    !(Array.isArray(warmup) && warmup.every((n) => Number.isInteger(n) && n >= 1 && n <= 4096))
  ) {
    throw new InferencePoolError(
      'INVALID_ARGUMENT',
      `model '${spec.id}': warmup must be true, false or an array of batch sizes (integers from 1 to 4096)`,
    );
  }
  if (spec.maxQueueSize !== undefined && !(Number.isInteger(spec.maxQueueSize) && spec.maxQueueSize >= 1)) {
    throw new InferencePoolError('INVALID_ARGUMENT', `model '${spec.id}': maxQueueSize must be a positive integer`);
  }
  return {
    id: spec.id,
    path: spec.path,
    task: spec.task,
    inputSize: spec.inputSize,
    resize: spec.resize ?? (spec.task === 'classification' ? 'stretch' : 'letterbox'),
    channelOrder: spec.channelOrder ?? 'rgb',
    mean: spec.mean,
    std: spec.std,
    activation: spec.activation ?? 'auto',
    outputLayout: spec.outputLayout ?? 'auto',
    maxBatchSize: spec.maxBatchSize,
    instances: spec.instances,
    maxQueueSize: spec.maxQueueSize,
    warmup,
  };
}

function modelInfo(spec: ModelSpec, info: NativeModelInfo): ModelInfo {
  const classes = classCount(spec.task, info);
  let classNames = spec.classNames ?? classNamesFromMetadata(info.metadata) ?? [];
  if (classes !== undefined && classNames.length < classes) {
    classNames = Array.from({ length: classes }, (_, i) => classNames[i] ?? String(i));
  }
  return {
    id: info.id,
    task: spec.task,
    classNames,
    inputName: info.inputName,
    inputShape: info.inputShape,
    inputSize: [info.inputWidth, info.inputHeight],
    layout: info.layout,
    maxBatchSize: info.maxBatchSize,
    instances: info.instances,
    outputs: info.outputs,
    metadata: info.metadata,
  };
}

/** A classifier's class count, when its output shape says it ([N, C] or [N, C, 1, 1]). */
function classCount(task: Task, info: NativeModelInfo): number | undefined {
  if (task !== 'classification') return undefined;
  const shape = info.outputs[0]?.shape.slice(1) ?? [];
  if (shape.length === 0 || shape.some((d) => d < 0)) return undefined;
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Serves several ONNX vision models at once. Preprocessing, dynamic batching, inference and
 * postprocessing run on native threads; this class only hands requests over and settles promises.
 */
export class InferencePool {
  readonly #native: NativePool;
  // The native side holds this only weakly while nothing is in flight: the pool keeps it alive.
  readonly #onComplete = (id: number, error: Error | null, result: NativeResult | null): void =>
    this.#complete(id, error, result);
  readonly #pending = new Map<number, PendingRequest>();
  readonly #models = new Map<string, ModelInfo>();
  /** Each model's default deadline (its spec's, else the pool's). */
  readonly #timeouts = new Map<string, number | undefined>();
  readonly #timeoutMs: number | undefined;
  #nextId = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  private constructor(options: PoolOptions) {
    this.#timeoutMs = checkTimeout(options.timeoutMs, 'timeoutMs');
    const binding = loadBinding();
    hookProcessExit(binding);
    try {
      this.#native = new binding.NativePool(poolConfig(options), this.#onComplete);
    } catch (error) {
      throw toPoolError(error, 'INVALID_ARGUMENT');
    }
  }

  /** Starts a pool and loads its models. Rejects (and releases everything) if any model fails to load. */
  static async create(options: PoolOptions = {}): Promise<InferencePool> {
    if (!options || typeof options !== 'object')
      throw new InferencePoolError('INVALID_ARGUMENT', 'options must be an object');
    const pool = new InferencePool(options);
    try {
      for (const spec of options.models ?? []) await pool.loadModel(spec);
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The ONNX Runtime this pool runs on. */
  get runtime(): { version: string; libraryPath: string; providers: string[] } {
    const { version, libraryPath, providers } = this.#native.runtime();
    return { version, libraryPath, providers };
  }

  /** The loaded models. */
  get models(): ModelInfo[] {
    return [...this.#models.values()];
  }

  async loadModel(spec: ModelSpec): Promise<ModelInfo> {
    this.#checkOpen();
    const native = nativeSpec(spec);
    const timeoutMs = checkTimeout(spec.timeoutMs, `model '${spec.id}': timeoutMs`) ?? this.#timeoutMs;
    try {
      const info = modelInfo(spec, await this.#native.loadModel(native));
      this.#models.set(info.id, info);
      this.#timeouts.set(info.id, timeoutMs);
      return info;
    } catch (error) {
      throw toPoolError(error, 'MODEL_LOAD_FAILED');
    }
  }

  /** Stops routing requests to the model, lets the ones it holds finish, then frees it. */
  async unloadModel(id: string): Promise<void> {
    this.#checkOpen();
    try {
      const done = this.#native.unloadModel(id);
      this.#models.delete(id);
      this.#timeouts.delete(id);
      await done;
    } catch (error) {
      throw toPoolError(error, 'MODEL_NOT_FOUND');
    }
  }

  /**
   * Runs one image through a model. The result's type follows the model's task; name it as the type
   * parameter (`infer<DetectionResult>(...)`) to skip narrowing on `result.task`.
   */
  infer<T extends InferenceResult = InferenceResult>(
    image: ImageInput,
    modelId: string,
    options: InferOptions = {},
  ): Promise<T> {
    if (this.#closed) return Promise.reject(new InferencePoolError('POOL_CLOSED', 'the pool is closed'));
    const model = this.#models.get(modelId);
    if (!model) return Promise.reject(new InferencePoolError('MODEL_NOT_FOUND', `no model '${modelId}' is loaded`));
    if (options === null || typeof options !== 'object') {
      return Promise.reject(new InferencePoolError('INVALID_ARGUMENT', 'options must be an object'));
    }
    let request: NativeRequestOptions;
    try {
      request = requestOptions(model, options);
      request.timeoutMs = checkTimeout(options.timeoutMs, 'timeoutMs') ?? this.#timeouts.get(modelId);
      if (options.priority !== undefined) {
        if (!Number.isSafeInteger(options.priority)) {
          throw new InferencePoolError('INVALID_ARGUMENT', 'priority must be a safe integer');
        }
        request.priority = options.priority;
      }
    } catch (error) {
      return Promise.reject(toPoolError(error, 'INVALID_ARGUMENT'));
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal));

    const id = this.#nextId;
    this.#nextId = (this.#nextId + 1) >>> 0;
    try {
      this.#native.submit(id, modelId, image, request);
    } catch (error) {
      return Promise.reject(toPoolError(error, 'INVALID_ARGUMENT'));
    }
    return new Promise<T>((resolve, reject) => {
      const pending: PendingRequest = { resolve: resolve as (r: InferenceResult) => void, reject, model };
      if (signal) {
        pending.signal = signal;
        pending.onAbort = () => {
          // The caller may reuse the image bytes once the promise settles: settle now only if native
          // code is not reading them, else when it lets go (a decode takes milliseconds).
          if (this.#native.cancel(id)) {
            this.#pending.delete(id);
            reject(abortError(signal));
          } else {
            pending.aborted = abortError(signal);
          }
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this.#pending.set(id, pending);
    });
  }

  /**
   * Runs a video (a file path, or a URL FFmpeg opens: rtsp://, udp://, http:// MJPEG/HLS) through a
   * model: frames are decoded on a native thread and come back with their results, in frame order.
   * Files default to 'every-frame' (nothing dropped), live sources to 'freshest' (the newest frame next).
   */
  video<T extends InferenceResult = InferenceResult>(
    source: string,
    modelId: string,
    options: VideoOptions = {},
  ): VideoStream<T> {
    this.#checkOpen();
    return createVideoStream(this, this.models, source, modelId, options) as VideoStream<T>;
  }

  /**
   * Runs frames the caller already has (an async iterable of images) through a model: results in
   * order, the next frame pulled only when fewer than `maxInFlight` are in the pool.
   */
  stream<T extends InferenceResult = InferenceResult>(
    frames: AsyncIterable<ImageInput> | Iterable<ImageInput>,
    modelId: string,
    options: StreamOptions = {},
  ): VideoStream<T> {
    this.#checkOpen();
    return createFrameStream(this, this.models, frames, modelId, options) as VideoStream<T>;
  }

  /** Per-model counters, mean stage times and latency percentiles (see ModelStats). */
  stats(): PoolStats {
    const out: PoolStats = {};
    for (const [id, s] of Object.entries(this.#native.stats())) {
      out[id] = {
        requests: s.requests,
        completed: s.completed,
        failed: s.failed,
        batches: s.batches,
        batchSizeHistogram: s.batchSizeHistogram,
        meanBatchSize: s.meanBatchSize,
        queueDepth: s.queueDepth,
        meanQueueMs: s.meanQueueMs,
        meanPreprocessMs: s.meanPreprocessMs,
        meanInferenceMs: s.meanInferenceMs,
        meanPostprocessMs: s.meanPostprocessMs,
        expired: s.expired,
        rejected: s.rejected,
        inFlight: s.inFlight,
        latencyMs: s.latencyMs,
        histogram: s.histogram,
        histograms: s.histograms,
        priorities: s.priorities,
      };
    }
    return out;
  }

  /**
   * Refuses new requests, fails the ones that have not started with POOL_CLOSED, lets running
   * batches finish, and resolves once every promise the pool handed out has settled.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#native.close().then(() => {
        // Anything still pending was aborted by its caller after the native side let it go.
        for (const [id, pending] of this.#pending) {
          this.#pending.delete(id);
          pending.reject(pending.aborted ?? new InferencePoolError('POOL_CLOSED', 'the pool was closed'));
        }
      });
    }
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Test hook: while held, no model takes a batch, so a test can line up requests and then
   * release them as one batch. Not for production use.
   */
  _holdBatching(held: boolean): void {
    this.#native.setBatchingHeld(held);
  }

  #checkOpen(): void {
    if (this.#closed) throw new InferencePoolError('POOL_CLOSED', 'the pool is closed');
  }

  #complete(id: number, error: Error | null, result: NativeResult | null): void {
    const pending = this.#pending.get(id);
    if (!pending) return; // aborted by its caller: already rejected
    this.#pending.delete(id);
    if (pending.signal && pending.onAbort) pending.signal.removeEventListener('abort', pending.onAbort);
    if (pending.aborted) {
      pending.reject(pending.aborted);
      return;
    }
    if (error || !result) {
      pending.reject(toPoolError(error ?? new Error('no result')));
      return;
    }
    pending.resolve(buildResult(pending.model, result));
  }
}

/** The request's options as the native layer takes them; class names in `classFilter` become ids. */
function requestOptions(model: ModelInfo, options: InferOptions): NativeRequestOptions {
  const topK = options.topK ?? 5;
  if (!Number.isInteger(topK) || topK < 0) {
    throw new InferencePoolError('INVALID_ARGUMENT', 'topK must be a non-negative integer');
  }
  const out: NativeRequestOptions = { topK };
  if (model.task === 'classification') return out;
  const { classFilter } = options;
  if (classFilter !== undefined) {
    if (!Array.isArray(classFilter)) throw new InferencePoolError('INVALID_ARGUMENT', 'classFilter must be an array');
    out.classFilter = classFilter.map((c) => {
      if (typeof c === 'number') return c;
      if (typeof c !== 'string')
        throw new InferencePoolError('INVALID_ARGUMENT', 'classFilter holds class names or ids');
      return model.classNames.indexOf(c); // -1 for a name the model does not have: matches nothing
    });
  }
  out.confidence = options.confidence;
  out.iouThreshold = options.iouThreshold;
  out.classAgnosticNms = options.classAgnosticNms;
  out.maxDetections = options.maxDetections;
  out.maxCandidates = options.maxCandidates;
  out.maskDecodeMode = options.maskDecodeMode;
  out.tradeoffFactor = options.tradeoffFactor;
  out.returnMasks = options.returnMasks;
  return out;
}

/** A deadline option: undefined, or a finite positive number of milliseconds. */
function checkTimeout(value: unknown, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InferencePoolError('INVALID_ARGUMENT', `${what} must be a finite positive number of milliseconds`);
  }
  return value;
}

function abortError(signal: AbortSignal): InferencePoolError {
  const reason: unknown = signal.reason;
  const detail = reason instanceof Error ? `: ${reason.message}` : '';
  return new InferencePoolError('ABORTED', `the request was aborted${detail}`, { cause: reason });
}
