// The native surface, typed once. Everything that crosses into C++ goes through these types.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativePoolConfig {
  maxBatchSize: number;
  maxQueueDelayMs: number;
  maxQueueSize: number;
  priorityAgingMs: number;
  preprocessThreads: number;
  postprocessThreads: number;
  intraOpThreads: number;
  maxImagePixels: number;
  executionProvider: 'cpu' | 'cuda';
  deviceId: number;
  libraryPath: string;
}

export interface NativeModelSpec {
  id: string;
  path: string | Uint8Array;
  task: string;
  inputSize?: [number, number];
  resize: 'stretch' | 'letterbox';
  channelOrder: 'rgb' | 'bgr';
  mean?: number | number[];
  std?: number | number[];
  activation: 'auto' | 'softmax' | 'sigmoid' | 'none';
  outputLayout: 'auto' | 'yolov8' | 'yolov11' | 'yolov5' | 'end-to-end';
  maxBatchSize?: number;
  instances?: number;
  maxQueueSize?: number;
  warmup?: boolean | number[];
}

export interface NativeModelInfo {
  id: string;
  inputName: string;
  inputShape: number[];
  inputWidth: number;
  inputHeight: number;
  layout: 'nchw' | 'nhwc';
  maxBatchSize: number;
  instances: number;
  outputs: { name: string; shape: number[] }[];
  metadata: Record<string, string>;
}

export interface NativeTimes {
  queue: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  total: number;
}

export interface NativeResult {
  width: number;
  height: number;
  batchSize: number;
  time: NativeTimes;
  scores: Float32Array;
  /** Classification. */
  top?: number[];
  /** Detection. */
  boxes?: Float32Array;
  classIds?: Int32Array;
  /** Segmentation: x, y pairs per instance. */
  polygons?: Int32Array[];
  masks?: { data: Uint8Array; width: number; height: number; left: number; top: number }[];
}

export interface NativeRawImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: string;
}

export interface NativeRequestOptions {
  topK: number;
  confidence?: number;
  iouThreshold?: number;
  classAgnosticNms?: boolean;
  maxDetections?: number;
  maxCandidates?: number;
  classFilter?: number[];
  maskDecodeMode?: string;
  tradeoffFactor?: number;
  returnMasks?: boolean;
  timeoutMs?: number;
  priority?: number;
}

export interface NativeModelStats {
  requests: number;
  completed: number;
  failed: number;
  batches: number;
  batchSizeHistogram: number[];
  meanBatchSize: number;
  queueDepth: number;
  waiting: number;
  prepared: number;
  meanQueueMs: number;
  meanPreprocessMs: number;
  meanInferenceMs: number;
  meanPostprocessMs: number;
  expired: number;
  rejected: number;
  inFlight: number;
  latencyMs: Record<'queue' | 'preprocess' | 'inference' | 'postprocess' | 'total', NativeLatencySummary>;
  histogram: { bucketsMs: number[]; counts: number[]; sumMs: number; count: number };
  priorities: Record<string, { completed: number; p50: number; p99: number }>;
}

export interface NativeLatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface NativeRuntime {
  version: string;
  libraryPath: string;
  intraOpThreads: number;
  providers: string[];
}

export type NativeCompletion = (id: number, error: Error | null, result: NativeResult | null) => void;

export interface NativePool {
  loadModel(spec: NativeModelSpec): Promise<NativeModelInfo>;
  unloadModel(id: string): Promise<void>;
  submit(id: number, modelId: string, image: Uint8Array | NativeRawImage, options: NativeRequestOptions): void;
  /** Marks the request cancelled; true when native code no longer reads its image, so it may settle now. */
  cancel(id: number): boolean;
  stats(): Record<string, NativeModelStats>;
  setBatchingHeld(held: boolean): void;
  close(): Promise<void>;
  runtime(): NativeRuntime;
}

export interface NativeDrawing {
  instances: {
    box: [number, number, number, number];
    classId: number;
    label: string;
    polygon?: Int32Array;
    mask?: { data: Uint8Array; width: number; height: number; left: number; top: number };
  }[];
  title?: string;
  /** Box and polygon lines, pixels; 0 or absent: from the image's size. */
  strokeWidth?: number;
}

/** Single stages as synchronous functions, for benchmarks and stage tests (not the serving path). */
export interface NativeStages {
  decode(
    image: Uint8Array | NativeRawImage,
    targetWidth?: number,
    targetHeight?: number,
  ): { width: number; height: number; decodedWidth: number; decodedHeight: number };
  preprocess(
    image: Uint8Array | NativeRawImage,
    spec: { width: number; height: number; resize: 'stretch' | 'letterbox' },
  ): Float32Array;
  detect(
    head: Float32Array,
    headShape: number[],
    protos: Float32Array | null,
    protoShape: number[] | null,
    geometry: {
      inputWidth: number;
      inputHeight: number;
      originalWidth: number;
      originalHeight: number;
      resize: 'stretch' | 'letterbox';
      segment: boolean;
    },
    options: Partial<NativeRequestOptions>,
  ): Pick<NativeResult, 'boxes' | 'scores' | 'classIds' | 'polygons' | 'masks'>;
  /**
   * The model alone on a pre-made batch, with the pool's runtime and sessions: one session on every
   * intra-op thread, or (sideBySide) the adaptive single-threaded sessions each on its own thread.
   */
  timeModel(
    path: string,
    batch: number,
    seconds: number,
    libraryPath: string,
    intraOpThreads: number,
    sideBySide: boolean,
  ): { msPerRun: number; imagesPerSecond: number };
}

interface NativeBinding {
  stages: NativeStages;
  NativePool: new (config: NativePoolConfig, onComplete: NativeCompletion) => NativePool;
  annotate(
    image: Uint8Array | NativeRawImage,
    drawing: NativeDrawing,
    options: { format: 'png' | 'jpeg'; quality: number },
  ): Promise<Buffer>;
  /** Stops every pool of this environment now (process exit): terminates runs, joins threads. */
  shutdownAll(): void;
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let binding: NativeBinding | undefined;

/**
 * Loads the addon built by cmake-js (build/Release/inference_pool.node), or the one that
 * $INFERENCE_POOL_ADDON_PATH names (`npm run test:asan` points it at a build with sanitizers).
 */
export function loadBinding(): NativeBinding {
  if (binding) return binding;
  const file = process.env.INFERENCE_POOL_ADDON_PATH || join(packageRoot, 'build', 'Release', 'inference_pool.node');
  if (!existsSync(file)) {
    throw new Error(`the native addon is not built (${file} is missing): run \`npm run build:native\``);
  }
  binding = require(file) as NativeBinding;
  return binding;
}

/**
 * The ONNX Runtime shared library to load: the `ortLibraryPath` option, else
 * $INFERENCE_POOL_ORT_LIBRARY, else the one inside the onnxruntime-node package.
 */
export function resolveOrtLibrary(explicit?: string): string {
  if (explicit) return explicit;
  const fromEnv = process.env.INFERENCE_POOL_ORT_LIBRARY;
  if (fromEnv) return fromEnv;
  const pkg = dirname(require.resolve('onnxruntime-node/package.json'));
  const names =
    process.platform === 'darwin'
      ? ['libonnxruntime.dylib']
      : process.platform === 'win32'
        ? ['onnxruntime.dll']
        : ['libonnxruntime.so.1'];
  for (const napi of ['napi-v6', 'napi-v3']) {
    for (const name of names) {
      const candidate = join(pkg, 'bin', napi, process.platform, process.arch, name);
      if (existsSync(candidate)) return candidate;
    }
  }
  throw new Error(`no ONNX Runtime library found in ${pkg}; set INFERENCE_POOL_ORT_LIBRARY or ortLibraryPath`);
}
