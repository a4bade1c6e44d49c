// The public types of the API. Field names follow Roboflow's inference responses where one exists.

export type Task = 'classification' | 'object-detection' | 'instance-segmentation';

export interface ModelSpec {
  /** The name requests use to pick this model. */
  id: string;
  /** A file path, or the ONNX file's bytes. */
  path: string | Uint8Array;
  task: Task;
  /** Class names by class id; else the model's `names` metadata (as Ultralytics writes it); else the id as text. */
  classNames?: string[];
  /** [width, height]; else read from the model's input shape, else from its `imgsz` metadata. */
  inputSize?: [number, number];
  /** Default 'stretch' for classification, 'letterbox' (centred, grey 114) for detection and segmentation. */
  resize?: 'stretch' | 'letterbox';
  /** Channel order the model expects. Default 'rgb'. */
  channelOrder?: 'rgb' | 'bgr';
  /** Subtracted from pixels scaled to [0, 1], per channel in the model's order (or one number for all). Default 0. */
  mean?: number | [number, number, number];
  /** Divides after the mean. Default 1. */
  std?: number | [number, number, number];
  /** Applied to classifier outputs. Default: softmax, unless the outputs already are probabilities. */
  activation?: 'softmax' | 'sigmoid' | 'none';
  /** Detection head layout; default: detected from the output shapes and metadata. */
  outputLayout?: 'yolov8' | 'yolov11' | 'yolov5' | 'end-to-end';
  /** Largest batch for this model; default the pool's maxBatchSize. A model whose batch dimension is fixed uses that. */
  maxBatchSize?: number;
  /**
   * Threads that run this model's batches at once, fed by its one batcher; each batch goes to
   * whichever is free (Triton's instance groups), all on one session. Default on the CPU: adaptive —
   * one thread per intra-op thread on a single-threaded session, so that under load batches run side
   * by side, and a session on all the threads for a batch that runs alone.
   */
  instances?: number;
  /** Requests this model may hold at once; beyond it infer() rejects with QUEUE_FULL for this model only. */
  maxQueueSize?: number;
  /** Default deadline for this model's requests (ms from the call); a request's own `timeoutMs` wins. */
  timeoutMs?: number;
  /**
   * Warm-up at load: each session of the model runs once, on zeros, per batch size that will be used
   * (1 … maxBatchSize, or these sizes), from the threads that will run it, so the first requests do not
   * pay ONNX Runtime's first-run costs; loadModel resolves after it. Default true.
   */
  warmup?: boolean | number[];
}

export interface PoolOptions {
  models?: ModelSpec[];
  /** Default 8. */
  maxBatchSize?: number;
  /** How long a partial batch may wait for company. Default 0: a lone request never waits. */
  maxQueueDelayMs?: number;
  /** Requests in the pool at once; beyond it infer() rejects with QUEUE_FULL. Default 10 000. */
  maxQueueSize?: number;
  /** Default deadline for every model's requests (ms from the call); a model's or a request's own wins. */
  timeoutMs?: number;
  /**
   * Aging of priorities: a waiting request gains one priority level for every this many ms it has
   * waited, so lower priorities are never starved. Default 10 000; 0 disables aging.
   */
  priorityAgingMs?: number;
  /** Default: the number of cores. */
  preprocessThreads?: number;
  /** Default: half the cores, at least 1. */
  postprocessThreads?: number;
  /** ONNX Runtime's intra-op threads, shared by every model. Default: the number of cores. Process-wide: the first pool's value holds. */
  intraOpThreads?: number;
  /** Default 'cpu'. */
  executionProvider?: 'cpu' | 'cuda';
  /** CUDA device. Default 0. */
  deviceId?: number;
  /** Images with more pixels are refused with IMAGE_TOO_LARGE. Default 50 000 000. */
  maxImagePixels?: number;
  /** The ONNX Runtime shared library to use; else $INFERENCE_POOL_ORT_LIBRARY, else onnxruntime-node's. */
  ortLibraryPath?: string;
}

export type PixelFormat = 'rgb' | 'bgr' | 'rgba' | 'bgra' | 'gray';

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  format: PixelFormat;
}

/** Encoded bytes (JPEG, PNG, BMP, WebP) or raw pixels. */
export type ImageInput = Uint8Array | RawImage;

export interface InferOptions {
  /** Classification: how many classes `predictions` lists. Default 5. */
  topK?: number;
  /** Detection: candidates scoring below are dropped. Default 0.4. */
  confidence?: number;
  /** Detection: NMS drops a box overlapping a better one by more than this IoU. Default 0.3. */
  iouThreshold?: number;
  /** Detection: NMS across classes instead of per class. Default false. */
  classAgnosticNms?: boolean;
  /** Detection: at most this many predictions. Default 300. */
  maxDetections?: number;
  /** Detection: only the best this many candidates enter NMS. Default 3000. */
  maxCandidates?: number;
  /** Detection: keep only these classes (names, or ids). */
  classFilter?: (string | number)[];
  /** Segmentation: 'accurate' (input resolution), 'fast' (prototype resolution) or 'tradeoff' (between). Default 'accurate'. */
  maskDecodeMode?: 'accurate' | 'fast' | 'tradeoff';
  /** Segmentation, 'tradeoff' mode: 0 = prototype resolution … 1 = input resolution. Default 0. */
  tradeoffFactor?: number;
  /** Segmentation: also return each instance's mask bitmap. Default false. */
  returnMasks?: boolean;
  /** Aborting rejects the request with ABORTED; work not yet started for it is skipped. */
  signal?: AbortSignal;
  /**
   * Deadline in ms from this call: a request still waiting (for a slot, or ready but not yet in a
   * running batch) when it passes rejects with DEADLINE_EXCEEDED and never runs. Default: the model's,
   * else the pool's `timeoutMs`, else none.
   */
  timeoutMs?: number;
  /** Higher first; default 0. Batches and admission take the highest (aged) priority first. */
  priority?: number;
}

export interface Timings {
  queue: number;
  preprocess: number;
  inference: number;
  postprocess: number;
  total: number;
}

export interface ClassificationPrediction {
  class: string;
  class_id: number;
  confidence: number;
}

export interface ClassificationResult {
  task: 'classification';
  image: { width: number; height: number };
  /** Top-K, best first. */
  predictions: ClassificationPrediction[];
  /** The best class's name. */
  top: string;
  confidence: number;
  /** Every class's score, after the activation. */
  scores: Float32Array;
  /** Milliseconds. */
  time: Timings;
  /** How many requests ran in the same batch. */
  batchSize: number;
}

export interface Point {
  x: number;
  y: number;
}

export interface DetectionPrediction {
  /** Box centre, original-image pixels. */
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
  class: string;
  class_id: number;
  /** A UUID. */
  detection_id: string;
  /** Segmentation: the outer polygon of the instance mask, original-image pixels. */
  points?: Point[];
  /** Video with `tracker: 'bytetrack'`: the track this detection belongs to, stable across frames. */
  tracker_id?: number;
}

/** One instance's mask cropped to its box: `data[y * width + x]` is 1 inside the instance, 0 outside. */
export interface InstanceMask {
  data: Uint8Array;
  width: number;
  height: number;
  /** Position of the bitmap's top-left pixel in the original image. */
  left: number;
  top: number;
}

export interface DetectionResult {
  task: 'object-detection' | 'instance-segmentation';
  image: { width: number; height: number };
  /** Best first. */
  predictions: DetectionPrediction[];
  /** n × 4: x1, y1, x2, y2 in original-image pixels, zero-copy. */
  boxes: Float32Array;
  scores: Float32Array;
  classIds: Int32Array;
  /** Segmentation with `returnMasks: true`: one per prediction. */
  masks?: InstanceMask[];
  time: Timings;
  batchSize: number;
}

export type InferenceResult = ClassificationResult | DetectionResult;

export interface ModelInfo {
  id: string;
  task: Task;
  classNames: string[];
  inputName: string;
  inputShape: number[];
  inputSize: [number, number];
  layout: 'nchw' | 'nhwc';
  maxBatchSize: number;
  instances: number;
  outputs: { name: string; shape: number[] }[];
  metadata: Record<string, string>;
}

/**
 * Percentiles of one latency over the sliding window (the last 55 to 60 s), in milliseconds; all 0
 * while the window is empty. Nearest-rank percentiles read from log-spaced buckets (at most 6.25 % or
 * 1 µs wide): the midpoint of the bucket holding the sample of rank ceil(q · n), clamped to the
 * window's minimum and maximum, so within half a bucket of the exact value. `max` is exact (to 1 µs).
 */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * One all-time latency (a stage's, or the total) of completed requests, Prometheus style: `counts[i]`
 * = requests whose latency was at most `bucketsMs[i]` (cumulative, so never decreasing; the last bound
 * is Infinity, so the last count is `count`, which is `completed`). `sumMs` is the sum of those
 * latencies. Every histogram has the same fixed bounds (ms): 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
 * 2500, 5000, 10000, 30000, 60000, Infinity. Recorded in whole microseconds, from the same clock
 * readings as each result's `time`; failed requests are not counted.
 */
export interface LatencyHistogram {
  bucketsMs: number[];
  counts: number[];
  sumMs: number;
  count: number;
}

export interface PriorityStats {
  /** All-time completed requests of this priority level. */
  completed: number;
  /** Total latency over the sliding window, ms (0 when none completed in it). */
  p50: number;
  p99: number;
}

export interface ModelStats {
  requests: number;
  completed: number;
  failed: number;
  /** Requests that failed with DEADLINE_EXCEEDED. */
  expired: number;
  /** Requests refused with QUEUE_FULL. */
  rejected: number;
  /** Requests admitted and not yet completed. */
  inFlight: number;
  batches: number;
  /** [n] = how many batches had n requests. */
  batchSizeHistogram: number[];
  meanBatchSize: number;
  /** Requests admitted but not yet in a batch. */
  queueDepth: number;
  meanQueueMs: number;
  meanPreprocessMs: number;
  meanInferenceMs: number;
  meanPostprocessMs: number;
  /** Per stage, as in a result's `time`, over the sliding window. */
  latencyMs: Record<keyof Timings, LatencySummary>;
  /** Total latency, all-time, with fixed Prometheus bounds: the same values as `histograms.total`. */
  histogram: LatencyHistogram;
  /**
   * Per stage, as in a result's `time`, all-time, with the same fixed Prometheus bounds (for queue and
   * compute duration metrics). Read from one snapshot: each one's `count` is `completed`, and its
   * `sumMs` is `completed` times the stage's mean (`meanQueueMs` and the like).
   */
  histograms: Record<keyof Timings, LatencyHistogram>;
  /** By request priority level (the integer, as a string key). */
  priorities: Record<string, PriorityStats>;
}

/** Per model id. */
export type PoolStats = Record<string, ModelStats>;
