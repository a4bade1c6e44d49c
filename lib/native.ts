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
  histogram: NativeLatencyHistogram;
  histograms: Record<'queue' | 'preprocess' | 'inference' | 'postprocess' | 'total', NativeLatencyHistogram>;
  priorities: Record<string, { completed: number; p50: number; p99: number }>;
}

export interface NativeLatencyHistogram {
  bucketsMs: number[];
  counts: number[];
  sumMs: number;
  count: number;
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

// --- Video and tracking (issue: video and streams) ---------------------------------------------

/** supervision's ByteTrack parameters (same names, same defaults). */
export interface NativeTrackerOptions {
  /** Detections at or above start new tracks (and are matched first). Default 0.25. */
  trackActivationThreshold: number;
  /** Frames a lost track is kept for re-association. Default 30. */
  lostTrackBuffer: number;
  /** IoU-based matching threshold (supervision's: matching cost 1 - IoU must be below it). Default 0.8. */
  minimumMatchingThreshold: number;
  /** The source's frame rate; with lostTrackBuffer it gives how long lost tracks live. Default 30. */
  frameRate: number;
  /** Frames a new track must be seen before it gets an id. Default 1. */
  minimumConsecutiveFrames: number;
}

/** ByteTrack for one stream: Kalman-filtered boxes, high- then low-confidence association by IoU. */
export interface NativeTracker {
  /**
   * One frame's detections (boxes n × 4 as x1, y1, x2, y2; scores n; classIds n) → a tracker id per
   * detection, stable across frames (ids start at 1), or -1 for a detection no track holds (yet).
   */
  update(boxes: Float32Array, scores: Float32Array, classIds: Int32Array): Int32Array;
  reset(): void;
}

export interface NativeVideoSourceOptions {
  /** 'every-frame': nothing dropped, decoding waits for room; 'freshest': a full buffer drops its oldest. */
  mode: 'every-frame' | 'freshest';
  /** Decoded frames held natively at most. */
  bufferSize: number;
  /** A live source that fails is reopened up to this many times (with backoff), then next() rejects. */
  reconnect: number;
  /** First backoff delay; doubles per attempt, at most 5 s. */
  reconnectDelayMs: number;
}

export interface NativeVideoInfo {
  width: number;
  height: number;
  /** The source's frame rate, 0 when it does not say. */
  fps: number;
  /** Frames in a file; -1 for a live or unknown-length source. */
  frameCount: number;
  /** Not a local file: a network stream (rtsp, udp, http…). */
  live: boolean;
}

export interface NativeVideoFrame {
  /** 0-based position in the source: frames dropped before it count too. */
  index: number;
  /** ms on the source's clock where it has one, else since the source was opened. */
  timestamp: number;
  /** BGR pixels in native memory (an external buffer: no copy), freed when JS collects it. */
  image: NativeRawImage;
}

export interface NativeVideoEvent {
  type: 'reconnecting' | 'reconnected';
  attempt: number;
  message: string;
}

export interface NativeVideoSource {
  /** Opens the source on its own thread; rejects with code VIDEO_SOURCE_FAILED naming the source and the reason. */
  open(): Promise<NativeVideoInfo>;
  /**
   * The next frame: 'every-frame' the next in order; 'freshest' the newest buffered (older ones are
   * dropped and counted). Resolves null at the end of a file or after close(); rejects
   * VIDEO_SOURCE_FAILED when a live source failed past its reconnects, or a file turned out corrupt.
   */
  next(): Promise<NativeVideoFrame | null>;
  /** Stops reading (a live source's frames are still drained and dropped, so it does not lag). */
  pause(): void;
  resume(): void;
  /** Stops the reader thread and releases the source; a pending next() resolves null. */
  close(): void;
  stats(): { read: number; dropped: number; reconnects: number; inputFps: number };
}

export interface NativeVideoWriter {
  /** Queues a frame with what to draw on it; false when the writer is behind and the frame was dropped. */
  write(image: NativeRawImage, drawing: NativeDrawing): boolean;
  /** Writes what is queued, closes the file. */
  close(): Promise<{ written: number; dropped: number }>;
}

export interface NativeVideoBinding {
  /** False when the addon was built without OpenCV's videoio; `reason` names the package to install. */
  available: boolean;
  reason?: string;
  VideoSource: new (
    source: string,
    options: NativeVideoSourceOptions,
    onEvent: (event: NativeVideoEvent) => void,
  ) => NativeVideoSource;
  VideoWriter: new (
    path: string,
    options: { fps: number; width: number; height: number; queueSize: number },
  ) => NativeVideoWriter;
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
  Tracker: new (options: NativeTrackerOptions) => NativeTracker;
  video: NativeVideoBinding;
}

/** The package's folder: lib/.. in a checkout, dist/lib/../.. once built (dist mirrors lib/ and bin/). */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const packageRoot = findPackageRoot();
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
