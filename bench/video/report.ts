// The video benchmark's report: the file three ways with the ratios the issue sets goals on, four
// streams against one, the live source in 'freshest' mode against a lone inference, every run, and an
// SVG chart. Goals are reported, never asserted.
import { median } from '../measure.ts';
import { drawBars, drawPanelFrame, svgDocument } from '../svg.ts';
import type { FileContender, FileRun } from './file-runs.ts';
import type { LiveRun } from './live.ts';

export interface VideoPlan {
  reps: number;
  /** Frames per stream where runs stop early (quick runs; the four streams); undefined: the whole file. */
  fileFrames?: number;
  streams: number;
  streamFrames?: number;
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

const LABELS: Record<FileContender, string> = {
  video: '(1) `pool.video` on the file',
  pipe: '(2) `ffmpeg` CLI → `pool.infer` per raw frame',
  memory: '(3) `pool.infer` on frames decoded beforehand',
};
const SHORT: Record<FileContender, string> = { video: '(1) video', pipe: '(2) ffmpeg pipe', memory: '(3) in memory' };
const COLOURS: Record<FileContender, string> = { video: '#1f77b4', pipe: '#d62728', memory: '#7f7f7f' };
const CONTENDERS: FileContender[] = ['video', 'pipe', 'memory'];

const f = (v: number | undefined, digits = 1) => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');
const met = (ok: boolean) => (ok ? 'met' : '**not met**');
/** All CPU the run used: this process and, for (2), ffmpeg. */
const cpuOf = (r: FileRun) => r.cpuSeconds + (r.ffmpegCpuSeconds ?? 0);

function runsOf(report: VideoReport, contender: FileContender) {
  return report.runs.filter((r) => r.contender === contender);
}

/** Medians per contender, and the two ratios taken rep by rep (runs that ran back to back). */
export function summarise(report: VideoReport) {
  const per = Object.fromEntries(
    CONTENDERS.map((c) => {
      const runs = runsOf(report, c);
      return [
        c,
        {
          runs: runs.length,
          fps: median(runs.map((r) => r.framesPerSecond)),
          cpuMsPerFrame: median(runs.map((r) => (1000 * cpuOf(r)) / r.frames)),
          cores: median(runs.map((r) => cpuOf(r) / r.seconds)),
          peakRssMb: median(runs.map((r) => r.peakRssMb)),
          ffmpegPeakRssMb: c === 'pipe' ? median(runs.map((r) => r.ffmpegPeakRssMb ?? NaN)) : undefined,
          meanBatchSize: median(runs.map((r) => r.meanBatchSize)),
        },
      ];
    }),
  ) as Record<
    FileContender,
    {
      runs: number;
      fps: number;
      cpuMsPerFrame: number;
      cores: number;
      peakRssMb: number;
      ffmpegPeakRssMb?: number;
      meanBatchSize: number;
    }
  >;
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
  };
}

function header(report: VideoReport): string[] {
  const m = report.machine;
  const v = report.video;
  const loads = report.loadAverage.map((l) => l.load[0]!);
  const lines = [
    `Video benchmark (${report.mode}), ${report.date.slice(0, 10)}, commit ${report.commit}: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ${f(report.durationSeconds, 0)} s; 1-minute load average ${f(Math.min(...loads), 2)}–${f(Math.max(...loads), 2)} over the run.`,
  ];
  if (Math.max(...loads) > m.cores / 2) {
    lines.push(
      '',
      `**The machine was shared**: other work kept the load average up to ${f(Math.max(...loads), 2)} on ${m.cores} cores while this ran, so every figure is lower and noisier than on a quiet machine, and ratios between runs that ran minutes apart (four streams against one) more so than ratios between runs that ran back to back.`,
    );
  }
  lines.push(
    '',
    `Input: \`${v.file}\` (made at set-up by \`scripts/make-videos.ts --bench\`), ${v.width}×${v.height} ${v.codec}, ${v.frames} frames at ${f(v.fps, 0)} fps. Model: the YOLOv8n-shaped detector \`${report.model.file}\` (seeded random weights, input ${report.model.inputSize}, batch size ${report.model.maxBatchSize}), pool defaults. Each run is a fresh child process (model loaded and warmed up before the clock starts).`,
  );
  return lines;
}

function fileSection(report: VideoReport, s: ReturnType<typeof summarise>): string[] {
  const frames = report.plan.fileFrames === undefined ? 'the whole file' : `the first ${report.plan.fileFrames} frames`;
  const runs =
    report.plan.reps === 1 ? 'one run each (quick: not a median)' : `median of ${report.plan.reps} runs each`;
  const lines = [
    `**The file three ways** (${frames}; ${runs}, interleaved, the order turning from one repetition to the next):`,
    '',
    `- **(1)** \`pool.video(file, 'det')\` with its defaults: \`'every-frame'\`, at most ${report.model.maxBatchSize} frames in flight (the model's batch size), frames decoded by OpenCV's videoio (FFmpeg) on a native thread and handed to the pool as raw BGR in native memory; timed from the call to the last result.`,
    `- **(2)** what a Node developer would write: spawn \`ffmpeg -hide_banner -nostats -benchmark -i file -f rawvideo -pix_fmt bgr24 -\`, read its stdout with \`for await\`, copy the chunks into a fresh ${report.video.width}×${report.video.height}×3-byte \`Buffer\` per frame, and send each full frame as \`pool.infer({ data, width, height, format: 'bgr' }, 'det')\` with at most ${report.model.maxBatchSize} in flight (when ${report.model.maxBatchSize} are, it awaits one before reading on, so the pipe holds ffmpeg back); timed from the spawn to the last result. \`-benchmark\` only makes ffmpeg print its CPU time and peak RSS as it exits.`,
    `- **(3)** the same ffmpeg decoding into an array of frames first (not timed), then the same bounded loop over the array: what decoding may cost at most.`,
    '',
    "CPU: all threads of the Node process during the run, plus ffmpeg for (2), in ms per frame and in cores kept busy. Peak RSS: the Node process's VmHWM (the loaded model included; (3) also holds every decoded frame), and ffmpeg's own for (2).",
    '',
    '| | frames/s | (1) / this | CPU ms/frame | cores busy | peak RSS MB | mean batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const c of CONTENDERS) {
    const p = s.per[c];
    const vs = c === 'video' ? '1.00×' : `${f(c === 'pipe' ? s.videoOverPipe : s.videoOverMemory, 2)}×`;
    const rss =
      p.ffmpegPeakRssMb !== undefined ? `${f(p.peakRssMb, 0)} + ffmpeg ${f(p.ffmpegPeakRssMb, 0)}` : f(p.peakRssMb, 0);
    lines.push(
      `| ${LABELS[c]} | ${f(p.fps)} | ${vs} | ${f(p.cpuMsPerFrame, 0)} | ${f(p.cores, 2)} | ${rss} | ${f(p.meanBatchSize, 2)} |`,
    );
  }
  const decode = runsOf(report, 'memory').map((r) => r.decode!);
  if (decode.length) {
    lines.push(
      '',
      `(3)'s decoding beforehand took ${f(median(decode.map((d) => d.seconds)), 2)} s and ${f(median(decode.map((d) => d.cpuSeconds)), 2)} CPU s (ffmpeg and the Node process reading its pipe) for the ${runsOf(report, 'memory')[0]!.frames} frames (median).`,
    );
  }
  return lines;
}

function streamsSection(report: VideoReport, s: ReturnType<typeof summarise>): string[] {
  const four = report.streams;
  const one = s.per.video;
  const frames =
    report.plan.streamFrames === undefined ? 'the whole file' : `its first ${report.plan.streamFrames} frames`;
  return [
    `**${four.streams} streams at once**: ${four.streams} \`pool.video\` streams of the file (${frames} each) started together on one pool (each at most ${report.model.maxBatchSize} in flight, so up to ${four.streams * report.model.maxBatchSize}), against one stream ((1) above). Mean batch size from \`pool.stats()\` over the run.`,
    '',
    '| | frames/s, all streams | per stream | against one stream | CPU ms/frame | cores busy | peak RSS MB | mean batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| 1 stream ((1), median) | ${f(one.fps)} | ${f(one.fps)} | 1.00× | ${f(one.cpuMsPerFrame, 0)} | ${f(one.cores, 2)} | ${f(one.peakRssMb, 0)} | ${f(one.meanBatchSize, 2)} |`,
    `| ${four.streams} streams | ${f(four.framesPerSecond)} | ${f(four.framesPerSecond / four.streams)} | ${f(four.framesPerSecond / one.fps, 2)}× | ${f((1000 * four.cpuSeconds) / four.frames, 0)} | ${f(four.cpuSeconds / four.seconds, 2)} | ${f(four.peakRssMb, 0)} | ${f(four.meanBatchSize, 2)} |`,
    '',
    'On the CPU the pool runs this detector one image per run under load: a batch bound for its single-threaded sessions takes one slice of at most 2 M input floats, one 640×640 image (docs/ARCHITECTURE.md), and the two sessions run side by side, one per core. So the streams share the cores rather than forming bigger batches, and a mean batch of 1 is by design here; a GPU or a smaller input would batch.',
  ];
}

function liveSection(report: VideoReport): string[] {
  const lines = [
    `**Live source**: ffmpeg serves the file, looped, as a 30 fps live MPEG-TS stream over TCP on loopback (\`-re -stream_loop -1 … -c copy -f mpegts tcp://127.0.0.1:PORT?listen=1\`: copied, not re-encoded), and \`pool.video(url, 'det', { mode: 'freshest', maxInFlight })\` reads it for ${report.plan.liveSeconds} s. Latency is \`stream.stats().latencyMs\`: from a frame's handover by the native source to its result. The lone inference is \`pool.infer\` on one of the file's frames (raw BGR) one at a time on the same idle pool, before the stream (${report.live[0]?.lone.samples ?? 0} samples after 3 not counted).`,
    '',
    '| maxInFlight | lone inference p50 / p99 ms | latency p50 ms | latency p99 ms | p99 / lone p50 | read | inferred | dropped | input fps | output fps (last 120) | results/s (run) | cores busy |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.live) {
    const st = r.stats;
    lines.push(
      `| ${r.maxInFlight} | ${f(r.lone.p50, 0)} / ${f(r.lone.p99, 0)} | ${f(st.latencyMs.p50, 0)} | ${f(st.latencyMs.p99, 0)} | ${f(st.latencyMs.p99 / r.lone.p50, 2)}× | ${st.read} | ${st.inferred} | ${st.dropped} (${f((100 * st.dropped) / Math.max(1, st.read), 0)} %) | ${f(st.inputFps)} | ${f(st.outputFps)} | ${f(r.resultsPerSecond)} | ${f(r.cpuSeconds / r.seconds, 2)} |`,
    );
  }
  return lines;
}

function goalsSection(report: VideoReport, s: ReturnType<typeof summarise>): string[] {
  const lines = [
    "Goals (reported, never asserted; ratios taken run by run between runs that ran back to back, then the median; frames per CPU second, ffmpeg's included, takes out how much of the cores other work left each run):",
    '',
    '| goal | measured | |',
    '| --- | --- | --- |',
    `| (1) ≥ 0.9× (3), frames/s | ${f(s.videoOverMemory, 2)}× (frames per CPU second: ${f(s.videoOverMemoryPerCpu, 2)}×) | ${met(s.videoOverMemory >= 0.9)} |`,
    `| (1) ≥ 1.3× (2), frames/s | ${f(s.videoOverPipe, 2)}× (frames per CPU second: ${f(s.videoOverPipePerCpu, 2)}×) | ${met(s.videoOverPipe >= 1.3)} |`,
  ];
  for (const r of report.live) {
    const x = r.stats.latencyMs.p99 / r.lone.p50;
    lines.push(
      `| live, 'freshest', maxInFlight ${r.maxInFlight}: latency p99 ≤ 2× a lone inference | ${f(r.stats.latencyMs.p99, 0)} ms / ${f(r.lone.p50, 0)} ms = ${f(x, 2)}× | ${met(x <= 2)} |`,
    );
  }
  return lines;
}

function runsSection(report: VideoReport): string[] {
  const lines = [
    'Every run:',
    '',
    '| run | contender | frames | s | frames/s | CPU s (Node + ffmpeg) | peak RSS MB (Node / ffmpeg) | mean batch |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const row = (rep: string, label: string, r: FileRun) =>
    lines.push(
      `| ${rep} | ${label} | ${r.frames} | ${f(r.seconds, 2)} | ${f(r.framesPerSecond)} | ${f(r.cpuSeconds, 2)}${r.ffmpegCpuSeconds !== undefined ? ` + ${f(r.ffmpegCpuSeconds, 2)}` : ''} | ${f(r.peakRssMb, 0)}${r.ffmpegPeakRssMb !== undefined ? ` / ${f(r.ffmpegPeakRssMb, 0)}` : ''} | ${f(r.meanBatchSize, 2)} |`,
    );
  for (const r of report.runs) row(String(r.rep + 1), SHORT[r.contender], r);
  row('–', `${report.streams.streams} streams`, report.streams);
  lines.push(
    '',
    `Load average (1 / 5 / 15 min): ${report.loadAverage.map((l) => `${l.after} ${l.load.join(' / ')}`).join('; ')}.`,
  );
  return lines;
}

export function renderMarkdown(report: VideoReport): string {
  const s = summarise(report);
  const sections = [
    header(report),
    fileSection(report, s),
    streamsSection(report, s),
    liveSection(report),
    goalsSection(report, s),
    runsSection(report),
  ];
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`;
}

/** For the README: everything but the list of runs. */
export function readmeBlocks(markdown: string): string[] {
  return [markdown.split('\n\nEvery run:')[0]!];
}

/** Frames per second the four ways (and all streams together); live latency against a lone inference. */
export function renderChart(report: VideoReport): string {
  const s = summarise(report);
  const pw = 360;
  const ph = 170;
  const margin = { left: 60, top: 30, right: 20, bottom: 30 };
  const cw = margin.left + pw + margin.right;
  const parts = svgDocument(
    2 * cw,
    margin.top + ph + margin.bottom + 40,
    `inference-pool on video (${report.mode}, ${report.date.slice(0, 10)}, ${report.machine.cores} cores, ${report.video.width}×${report.video.height} H.264, YOLOv8n-shaped detector)`,
  );
  const fps = [
    ...CONTENDERS.map((c) => ({ label: SHORT[c], value: s.per[c].fps, colour: COLOURS[c] })),
    { label: `${report.streams.streams} streams`, value: report.streams.framesPerSecond, colour: '#17becf' },
  ];
  const latency = [
    { label: 'lone', value: report.live[0]?.lone.p50 ?? NaN, colour: '#7f7f7f' },
    ...report.live.flatMap((r) => [
      { label: `p50 ×${r.maxInFlight}`, value: r.stats.latencyMs.p50, colour: '#1f77b4' },
      { label: `p99 ×${r.maxInFlight}`, value: r.stats.latencyMs.p99, colour: '#ff7f0e' },
    ]),
  ];
  const panels = [
    { title: 'frames/s', bars: fps, digits: 1 },
    { title: "live, 'freshest': latency ms (× maxInFlight)", bars: latency, digits: 0 },
  ];
  panels.forEach((panel, col) => {
    const ymax = Math.max(...panel.bars.map((b) => b.value).filter(Number.isFinite), 1e-9) * 1.15;
    const frame = { ox: col * cw + margin.left, oy: 40 + margin.top, pw, ph, ymax, title: panel.title };
    drawBars(parts, frame, drawPanelFrame(parts, frame), panel.bars, panel.digits);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
