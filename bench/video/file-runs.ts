// The benchmark file's frames through the detector three ways — (1) pool.video on the file, (2) the
// ffmpeg CLI piping raw frames to pool.infer, (3) pool.infer on frames decoded beforehand — and
// several pool.video streams of it at once. Each run times from its start (opening the file or
// spawning ffmpeg) to its last result.
import type { InferencePool } from '../../lib/index.ts';
import { peakRssMb } from '../proc-status.ts';
import { sendBounded } from './bounded.ts';
import { ffmpegFrames, probeSize } from './ffmpeg.ts';

export type FileContender = 'video' | 'pipe' | 'memory';

export interface FileRun {
  contender: FileContender | 'streams';
  streams: number;
  /** Each stream's bound on frames in flight: the model's batch size (pool.video's default). */
  maxInFlight: number;
  /** The model's input, width × height. */
  inputSize: [number, number];
  /** Frames with a result, all streams together. */
  frames: number;
  seconds: number;
  framesPerSecond: number;
  /** CPU seconds of this process (every thread: decoding, pre- and postprocessing, ONNX Runtime) in the run. */
  cpuSeconds: number;
  /** (2): ffmpeg's CPU seconds and peak RSS (MB). */
  ffmpegCpuSeconds?: number;
  ffmpegPeakRssMb?: number;
  /** This process's VmHWM, MB: the model and its warm-up included, and (3)'s decoded frames. */
  peakRssMb: number;
  /** From pool.stats(): requests per batch over the run. */
  meanBatchSize: number;
  /** (3): the decoding before the run, not in its time or CPU. */
  decode?: { seconds: number; cpuSeconds: number };
}

export interface FileJob {
  file: string;
  modelId: string;
  /** Stop after this many frames (per stream): quick runs. Default: the whole file. */
  maxFrames?: number;
}

/** Batches and requests so far, from the model's batch-size histogram. */
function batchTally(pool: InferencePool, modelId: string): { batches: number; items: number } {
  const histogram = pool.stats()[modelId]?.batchSizeHistogram ?? [];
  let batches = 0;
  let items = 0;
  histogram.forEach((count, size) => {
    batches += count;
    items += count * size;
  });
  return { batches, items };
}

type Measured = Omit<FileRun, 'contender' | 'streams' | 'maxInFlight' | 'inputSize' | 'peakRssMb' | 'meanBatchSize'>;

async function measure(
  pool: InferencePool,
  job: FileJob,
  body: () => Promise<{ frames: number; ffmpeg?: { cpuSeconds: number; peakRssMb: number } }>,
): Promise<Measured & { meanBatchSize: number }> {
  const before = batchTally(pool, job.modelId);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { frames, ffmpeg } = await body();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const after = batchTally(pool, job.modelId);
  return {
    frames,
    seconds,
    framesPerSecond: frames / seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    ...(ffmpeg ? { ffmpegCpuSeconds: ffmpeg.cpuSeconds, ffmpegPeakRssMb: ffmpeg.peakRssMb } : {}),
    meanBatchSize: (after.items - before.items) / Math.max(1, after.batches - before.batches),
  };
}

/** One pool.video stream over the file, with its defaults ('every-frame', the model's batch size in flight). */
async function videoFrames(pool: InferencePool, job: FileJob): Promise<number> {
  let frames = 0;
  for await (const item of pool.video(job.file, job.modelId)) {
    void item;
    if (++frames === job.maxFrames) break;
  }
  return frames;
}

function modelOf(pool: InferencePool, job: FileJob): Pick<FileRun, 'maxInFlight' | 'inputSize'> {
  const model = pool.models.find((m) => m.id === job.modelId)!;
  return { maxInFlight: model.maxBatchSize, inputSize: model.inputSize };
}

export async function runFile(pool: InferencePool, contender: FileContender, job: FileJob): Promise<FileRun> {
  const model = modelOf(pool, job);
  const maxBatchSize = model.maxInFlight;
  const size = probeSize(job.file);
  const infer = (data: Buffer) => pool.infer({ data, ...size, format: 'bgr' }, job.modelId);
  let decode: FileRun['decode'];
  let body: () => Promise<{ frames: number; ffmpeg?: { cpuSeconds: number; peakRssMb: number } }>;
  if (contender === 'video') {
    body = async () => ({ frames: await videoFrames(pool, job) });
  } else if (contender === 'pipe') {
    body = async () => {
      const { frames, usage } = ffmpegFrames(job.file, size, job.maxFrames);
      const sent = await sendBounded(frames, infer, maxBatchSize);
      return { frames: sent, ffmpeg: await usage };
    };
  } else {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const { frames: decoding, usage } = ffmpegFrames(job.file, size, job.maxFrames);
    const all: Buffer[] = [];
    for await (const frame of decoding) all.push(frame);
    const ffmpeg = await usage;
    const used = process.cpuUsage(cpu);
    decode = {
      seconds: (performance.now() - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6 + ffmpeg.cpuSeconds,
    };
    body = async () => ({ frames: await sendBounded(all, infer, maxBatchSize) });
  }
  const measured = await measure(pool, job, body);
  return { contender, streams: 1, ...model, ...measured, peakRssMb: peakRssMb(), ...(decode ? { decode } : {}) };
}

/** `streams` pool.video streams of the file at once, on one pool: their frames batch together. */
export async function runStreams(pool: InferencePool, streams: number, job: FileJob): Promise<FileRun> {
  const measured = await measure(pool, job, async () => {
    const counts = await Promise.all(Array.from({ length: streams }, () => videoFrames(pool, job)));
    return { frames: counts.reduce((a, b) => a + b, 0) };
  });
  return { contender: 'streams', streams, ...modelOf(pool, job), ...measured, peakRssMb: peakRssMb() };
}
