// A live 30 fps source (bench/video/live-source.ts) into a detector slower than 30 fps, in 'freshest'
// mode: how old a result is when it comes (frame-to-result latency, from the stream's own stats)
// against a lone inference on the idle pool, and how many frames the stream had to drop.
import type { InferencePool, VideoStreamStats } from '../../lib/index.ts';
import { percentile } from '../measure.ts';
import { peakRssMb } from '../proc-status.ts';
import { ffmpegFrames, probeSize } from './ffmpeg.ts';
import { startLiveSource } from './live-source.ts';

export interface LiveJob {
  file: string;
  modelId: string;
  maxInFlight: number;
  seconds: number;
}

export interface LiveRun {
  maxInFlight: number;
  /** pool.infer on one of the file's frames (raw BGR), one at a time on the idle pool, before and after the stream, ms. */
  lone: { p50: number; p99: number; samples: number };
  /** From opening the stream to the last result counted. */
  seconds: number;
  /** stream.stats() at the end: latency from a frame's handover by the source to its result. */
  stats: VideoStreamStats;
  /** Results per second over the whole run (stats' outputFps is over the last 120). */
  resultsPerSecond: number;
  cpuSeconds: number;
  peakRssMb: number;
}

const LONE_WARM = 3;
/** Half before the stream, half after: on a shared machine the cores left to this process drift. */
const LONE_SAMPLES = 24;

/** One of the file's frames, as raw BGR, and a function timing pool.infer on it `n` times in turn. */
async function loneTimer(pool: InferencePool, job: LiveJob): Promise<(n: number) => Promise<number[]>> {
  const size = probeSize(job.file);
  const { frames, usage } = ffmpegFrames(job.file, size, 1);
  let data: Buffer | undefined;
  for await (const frame of frames) data = frame;
  await usage;
  return async (n) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const sent = performance.now();
      await pool.infer({ data: data!, ...size, format: 'bgr' }, job.modelId);
      times.push(performance.now() - sent);
    }
    return times;
  };
}

export async function runLive(pool: InferencePool, job: LiveJob): Promise<LiveRun> {
  const timeLone = await loneTimer(pool, job);
  await timeLone(LONE_WARM);
  const lone = await timeLone(LONE_SAMPLES / 2);
  const source = await startLiveSource(job.file);
  const stream = pool.video(source.url, job.modelId, { mode: 'freshest', maxInFlight: job.maxInFlight });
  // A source that stalls for good would hold the loop: the stream is closed well after its time.
  const guard = setTimeout(() => stream.close(), (job.seconds + 30) * 1000);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let stats: VideoStreamStats | undefined;
  let results = 0;
  let seconds = 0;
  try {
    for await (const item of stream) {
      void item;
      results++;
      seconds = (performance.now() - started) / 1000;
      if (seconds >= job.seconds) {
        stats = stream.stats();
        break;
      }
    }
  } finally {
    clearTimeout(guard);
    source.close();
  }
  if (!stats) throw new Error(`the live stream ended after ${seconds.toFixed(1)} s, before its ${job.seconds} s`);
  const used = process.cpuUsage(cpu);
  lone.push(...(await timeLone(LONE_SAMPLES / 2)));
  lone.sort((a, b) => a - b);
  return {
    maxInFlight: job.maxInFlight,
    lone: { p50: percentile(lone, 50), p99: percentile(lone, 99), samples: lone.length },
    seconds,
    stats,
    resultsPerSecond: results / seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: peakRssMb(),
  };
}
