// What a video benchmark run records, and the figures its report and chart are made of: medians per
// way of running the file, and the ratios the issue sets goals on, taken run by run.
import { median } from '../measure.ts';
import type { FileContender, FileRun } from './file-runs.ts';
import type { LiveRun } from './live.ts';

export interface VideoPlan {
  reps: number;
  /** (1)–(3) stop after this many frames (quick runs); undefined: the whole file. */
  fileFrames?: number;
  streams: number;
  /** Frames per stream in the several-streams run; undefined: the whole file. */
  streamFrames?: number;
  /** The live runs' maxInFlight, one run each. */
  live: number[];
  liveSeconds: number;
}

export interface VideoReport {
  date: string;
  mode: 'full' | 'quick';
  commit: string;
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  /** 1, 5 and 15 minute load averages at the start and after each part: other work on a shared machine. */
  loadAverage: { after: string; load: number[] }[];
  plan: VideoPlan;
  durationSeconds: number;
  video: { file: string; width: number; height: number; frames: number; fps: number; codec: string };
  model: { id: string; file: string; inputSize: string; maxBatchSize: number };
  /** (1), (2) and (3), `reps` each, in the order they ran (rep r of each ran back to back). */
  runs: (FileRun & { contender: FileContender; rep: number })[];
  streams: FileRun;
  live: LiveRun[];
}

export const CONTENDERS: FileContender[] = ['video', 'pipe', 'memory'];

/** All the CPU a run used: the Node process and, for (2), ffmpeg. */
export const cpuOf = (r: FileRun) => r.cpuSeconds + (r.ffmpegCpuSeconds ?? 0);

export function runsOf(report: VideoReport, contender: FileContender) {
  return report.runs.filter((r) => r.contender === contender);
}

export interface ContenderSummary {
  runs: number;
  fps: number;
  cpuMsPerFrame: number;
  /** (2): ffmpeg's share of cpuMsPerFrame. */
  ffmpegCpuMsPerFrame?: number;
  cores: number;
  peakRssMb: number;
  ffmpegPeakRssMb?: number;
  meanBatchSize: number;
}

function summariseRuns(runs: FileRun[]): ContenderSummary {
  const ffmpeg = runs.some((r) => r.ffmpegCpuSeconds !== undefined);
  return {
    runs: runs.length,
    fps: median(runs.map((r) => r.framesPerSecond)),
    cpuMsPerFrame: median(runs.map((r) => (1000 * cpuOf(r)) / r.frames)),
    ...(ffmpeg
      ? { ffmpegCpuMsPerFrame: median(runs.map((r) => (1000 * (r.ffmpegCpuSeconds ?? NaN)) / r.frames)) }
      : {}),
    cores: median(runs.map((r) => cpuOf(r) / r.seconds)),
    peakRssMb: median(runs.map((r) => r.peakRssMb)),
    ...(ffmpeg ? { ffmpegPeakRssMb: median(runs.map((r) => r.ffmpegPeakRssMb ?? NaN)) } : {}),
    meanBatchSize: median(runs.map((r) => r.meanBatchSize)),
  };
}

export function summarise(report: VideoReport) {
  const per = Object.fromEntries(CONTENDERS.map((c) => [c, summariseRuns(runsOf(report, c))])) as Record<
    FileContender,
    ContenderSummary
  >;
  /** Median of a / b over the repetitions (the runs of one ran back to back). */
  const ratio = (a: FileContender, b: FileContender, pick: (r: FileRun) => number) => {
    const pairs = [...new Set(report.runs.map((r) => r.rep))].flatMap((rep) => {
      const x = report.runs.find((r) => r.rep === rep && r.contender === a);
      const y = report.runs.find((r) => r.rep === rep && r.contender === b);
      return x && y ? [pick(x) / pick(y)] : [];
    });
    return median(pairs);
  };
  const wall = (r: FileRun) => r.framesPerSecond;
  // Frames per CPU second: takes out how much of the cores other work left each run.
  const perCpu = (r: FileRun) => r.frames / cpuOf(r);
  return {
    per,
    videoOverMemory: ratio('video', 'memory', wall),
    videoOverPipe: ratio('video', 'pipe', wall),
    videoOverMemoryPerCpu: ratio('video', 'memory', perCpu),
    videoOverPipePerCpu: ratio('video', 'pipe', perCpu),
    /** What skipping decoding altogether gains over (2): the most any way of decoding could. */
    memoryOverPipe: ratio('memory', 'pipe', wall),
    memoryOverPipePerCpu: ratio('memory', 'pipe', perCpu),
  };
}

export type VideoSummary = ReturnType<typeof summarise>;

/** The highest 1-minute load average seen, and whether other work shared the cores. */
export function sharedMachine(report: VideoReport): { maxLoad: number; minLoad: number; shared: boolean } {
  const loads = report.loadAverage.map((l) => l.load[0]!);
  const maxLoad = Math.max(...loads);
  return { maxLoad, minLoad: Math.min(...loads), shared: maxLoad > report.machine.cores };
}
