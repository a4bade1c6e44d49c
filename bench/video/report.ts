// The video benchmark's report: the file three ways, four streams against one, the live source in
// 'freshest' mode against a lone inference, the goals the issue sets (reported, never asserted) and
// every run. `brief` (the README's) leaves out what each way does, which the README says above it.
import { median } from '../measure.ts';
import { SHORT } from './chart.ts';
import type { FileContender, FileRun } from './file-runs.ts';
import { CONTENDERS, runsOf, sharedMachine, summarise } from './summary.ts';
import type { VideoReport, VideoSummary } from './summary.ts';

const LABELS: Record<FileContender, string> = {
  video: '(1) `pool.video` on the file',
  pipe: '(2) `ffmpeg` CLI → `pool.infer` per raw frame',
  memory: '(3) `pool.infer` on frames decoded beforehand',
};

const f = (v: number | undefined, digits = 1) => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');
const met = (ok: boolean) => (ok ? 'met' : '**not met**');

function header(report: VideoReport, brief: boolean): string[] {
  const m = report.machine;
  const v = report.video;
  const load = sharedMachine(report);
  const lines = [
    `Video benchmark (${report.mode}), ${report.date.slice(0, 10)}, commit ${report.commit}: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ${f(report.durationSeconds, 0)} s; 1-minute load average ${f(load.minLoad, 2)}–${f(load.maxLoad, 2)} over the run.`,
  ];
  if (load.shared) {
    lines.push(
      '',
      `**The machine was shared**: other work kept the load average up to ${f(load.maxLoad, 2)} on ${m.cores} cores while this ran, so every figure is lower and noisier than on a quiet machine ("cores busy" shows how much of the ${m.cores} cores each run got), and comparisons between runs that ran minutes apart (four streams against one) more so than between runs that ran back to back.`,
    );
  }
  if (!brief) {
    lines.push(
      '',
      `Input: \`${v.file}\` (made at set-up by \`scripts/make-videos.ts --bench\`), ${v.width}×${v.height} ${v.codec}, ${v.frames} frames at ${f(v.fps, 0)} fps. Model: the YOLOv8n-shaped detector \`${report.model.file}\` (seeded random weights, input ${report.model.inputSize}, batch size ${report.model.maxBatchSize}), pool defaults. Each run is a fresh child process (the model loaded and warmed up before the clock starts).`,
    );
  }
  return lines;
}

function fileSection(report: VideoReport, s: VideoSummary, brief: boolean): string[] {
  const frames = report.plan.fileFrames === undefined ? 'the whole file' : `the first ${report.plan.fileFrames} frames`;
  const runs = report.plan.reps === 1 ? 'one run each, not a median' : `median of ${report.plan.reps} runs each`;
  const n = report.model.maxBatchSize;
  const lines = [`**The file three ways** (${frames}; ${runs}, interleaved):`, ''];
  if (!brief) {
    lines.push(
      `- **(1)** \`pool.video(file, 'det')\` with its defaults: \`'every-frame'\`, at most ${n} frames in flight (the model's batch size), frames decoded by OpenCV's videoio (FFmpeg) on a native thread and handed to the pool as raw BGR in native memory; timed from the call to the last result.`,
      `- **(2)** what a Node developer would write: spawn \`ffmpeg -hide_banner -nostats -benchmark -i file -f rawvideo -pix_fmt bgr24 -\`, read its stdout with \`for await\`, copy the chunks into a fresh ${report.video.width}×${report.video.height}×3-byte \`Buffer\` per frame, and send each full frame as \`pool.infer({ data, width, height, format: 'bgr' }, 'det')\` with at most ${n} in flight (when ${n} are, it awaits one before reading on, so the pipe holds ffmpeg back); timed from the spawn to the last result. \`-benchmark\` only makes ffmpeg print its CPU time and peak RSS as it exits.`,
      `- **(3)** the same ffmpeg decoding into an array of frames first (not timed), then the same bounded loop over the array: what decoding may cost at most.`,
      '',
      "The order of the three turns from one repetition to the next. CPU: all threads of the Node process during the run, plus ffmpeg for (2), in ms per frame and in cores kept busy. Peak RSS: the Node process's VmHWM (the loaded model included; (3) also holds every decoded frame), and ffmpeg's own for (2).",
      '',
    );
  }
  lines.push(
    '| | frames/s | (1) / this | CPU ms/frame | cores busy | peak RSS MB | mean batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const c of CONTENDERS) {
    const p = s.per[c];
    const vs = c === 'video' ? '1.00×' : `${f(c === 'pipe' ? s.videoOverPipe : s.videoOverMemory, 2)}×`;
    const cpu =
      p.ffmpegCpuMsPerFrame !== undefined
        ? `${f(p.cpuMsPerFrame, 0)} (ffmpeg ${f(p.ffmpegCpuMsPerFrame, 1)})`
        : f(p.cpuMsPerFrame, 0);
    const rss =
      p.ffmpegPeakRssMb !== undefined ? `${f(p.peakRssMb, 0)} + ffmpeg ${f(p.ffmpegPeakRssMb, 0)}` : f(p.peakRssMb, 0);
    lines.push(
      `| ${LABELS[c]} | ${f(p.fps)} | ${vs} | ${cpu} | ${f(p.cores, 2)} | ${rss} | ${f(p.meanBatchSize, 2)} |`,
    );
  }
  const memory = runsOf(report, 'memory');
  if (!brief && memory.length) {
    const decode = memory.map((r) => r.decode!);
    lines.push(
      '',
      `(3)'s decoding beforehand, not in its figures: ${f(median(decode.map((d) => d.seconds)), 2)} s and ${f(median(decode.map((d) => d.cpuSeconds)), 2)} CPU s (ffmpeg, and the Node process reading its pipe into ${memory[0]!.frames} buffers), median.`,
    );
  }
  return lines;
}

function streamsSection(report: VideoReport, s: VideoSummary, brief: boolean): string[] {
  const four = report.streams;
  const one = s.per.video;
  const frames =
    report.plan.streamFrames === undefined ? 'the whole file' : `its first ${report.plan.streamFrames} frames`;
  const cells = (r: FileRun) =>
    `${f((1000 * r.cpuSeconds) / r.frames, 0)} | ${f(r.cpuSeconds / r.seconds, 2)} | ${f(r.peakRssMb, 0)} | ${f(r.meanBatchSize, 2)}`;
  return [
    `**${four.streams} streams at once**: ${four.streams} \`pool.video\` streams of the file (${frames} each, each at most ${report.model.maxBatchSize} in flight) started together on one pool, against one stream ((1) above, median). Mean batch size from \`pool.stats()\` over the run.`,
    '',
    '| | frames/s, all streams | per stream | against one stream | CPU ms/frame | cores busy | peak RSS MB | mean batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| 1 stream | ${f(one.fps)} | ${f(one.fps)} | 1.00× | ${f(one.cpuMsPerFrame, 0)} | ${f(one.cores, 2)} | ${f(one.peakRssMb, 0)} | ${f(one.meanBatchSize, 2)} |`,
    `| ${four.streams} streams | ${f(four.framesPerSecond)} | ${f(four.framesPerSecond / four.streams)} | ${f(four.framesPerSecond / one.fps, 2)}× | ${cells(four)} |`,
    '',
    brief
      ? 'A mean batch of 1 is by design here: on the CPU a batch bound for the single-threaded sessions takes one 640×640 image at a time (docs/ARCHITECTURE.md), and the streams share the cores instead.'
      : 'A mean batch of 1 is by design here: under load the pool runs this detector on its single-threaded sessions side by side (one per core), and a batch bound for them takes one slice of at most 2 M input floats, one 640×640 image (docs/ARCHITECTURE.md). So several streams share the cores rather than forming bigger batches; a GPU or a smaller input would batch.',
  ];
}

function liveSection(report: VideoReport, brief: boolean): string[] {
  const lone = report.live[0]?.lone.samples ?? 0;
  const lines = brief
    ? [
        `**Live source** (30 fps MPEG-TS over TCP on loopback, ${report.plan.liveSeconds} s per run; latency from \`stream.stats()\`; the lone inference: \`pool.infer\` one frame at a time on the idle pool):`,
      ]
    : [
        `**Live source**: ffmpeg serves the file, looped, as a 30 fps live MPEG-TS stream over TCP on loopback (\`-re -stream_loop -1 … -c copy -f mpegts tcp://127.0.0.1:PORT?listen=1\`: copied, not re-encoded), and \`pool.video(url, 'det', { mode: 'freshest', maxInFlight })\` reads it for ${report.plan.liveSeconds} s. Latency is \`stream.stats().latencyMs\`: from a frame's handover by the native source to its result. The lone inference is \`pool.infer\` on one of the file's frames (raw BGR), one at a time on the same idle pool, half the ${lone} samples before the stream and half after (3 more before, not counted).`,
      ];
  lines.push(
    '',
    '| maxInFlight | lone inference p50 / p99 ms | latency p50 ms | latency p99 ms | p99 / lone p50 | read | inferred | dropped | input fps | output fps (last 120) | results/s (run) | cores busy |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of report.live) {
    const st = r.stats;
    lines.push(
      `| ${r.maxInFlight} | ${f(r.lone.p50, 0)} / ${f(r.lone.p99, 0)} | ${f(st.latencyMs.p50, 0)} | ${f(st.latencyMs.p99, 0)} | ${f(st.latencyMs.p99 / r.lone.p50, 2)}× | ${st.read} | ${st.inferred} | ${st.dropped} (${f((100 * st.dropped) / Math.max(1, st.read), 0)} %) | ${f(st.inputFps)} | ${f(st.outputFps)} | ${f(r.resultsPerSecond)} | ${f(r.cpuSeconds / r.seconds, 2)} |`,
    );
  }
  return lines;
}

function goalsSection(report: VideoReport, s: VideoSummary): string[] {
  const lines = [
    "Goals (reported, never asserted; ratios taken run by run between runs that ran back to back, then the median; frames per CPU second, ffmpeg's included, takes out how much of the cores other work left each run):",
    '',
    '| goal | measured | |',
    '| --- | --- | --- |',
    `| (1) ≥ 0.9× (3), frames/s | ${f(s.videoOverMemory, 2)}× (per CPU second: ${f(s.videoOverMemoryPerCpu, 2)}×) | ${met(s.videoOverMemory >= 0.9)} |`,
    `| (1) ≥ 1.3× (2), frames/s | ${f(s.videoOverPipe, 2)}× (per CPU second: ${f(s.videoOverPipePerCpu, 2)}×) | ${met(s.videoOverPipe >= 1.3)} |`,
  ];
  for (const r of report.live) {
    const x = r.stats.latencyMs.p99 / r.lone.p50;
    lines.push(
      `| live, \`'freshest'\`, maxInFlight ${r.maxInFlight}: latency p99 ≤ 2× a lone inference | ${f(r.stats.latencyMs.p99, 0)} ms / ${f(r.lone.p50, 0)} ms = ${f(x, 2)}× | ${met(x <= 2)} |`,
    );
  }
  const pipe = s.per.pipe;
  const bound = Math.max(s.memoryOverPipe, s.memoryOverPipePerCpu);
  lines.push(
    '',
    `Decoding is a small share of the work here: ffmpeg spends ${f(pipe.ffmpegCpuMsPerFrame, 1)} ms of CPU on a frame, of the ${f(pipe.cpuMsPerFrame, 0)} ms (2) spends in all; the detector takes the rest. (3), which decodes nothing while it is timed, is ${f(s.memoryOverPipe, 2)}× (2) in frames/s and ${f(s.memoryOverPipePerCpu, 2)}× per CPU second: the most any way of decoding could gain over (2) with this model on this CPU${bound < 1.3 ? ", short of the goal's 1.3×" : ''}.`,
  );
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

function render(report: VideoReport, brief: boolean): string[] {
  const s = summarise(report);
  return [
    header(report, brief),
    fileSection(report, s, brief),
    streamsSection(report, s, brief),
    liveSection(report, brief),
    goalsSection(report, s),
  ].map((lines) => lines.join('\n'));
}

export function renderMarkdown(report: VideoReport): string {
  return `${[...render(report, false), runsSection(report).join('\n')].join('\n\n')}\n`;
}

/** The README's section, between its markers. */
export function renderReadme(report: VideoReport): string[] {
  return [
    ...render(report, true),
    '![frames per second each way, and live latency against a lone inference](bench/results/video.svg)',
    'What each way does, every run and the load average after each: [bench/results/video.md](bench/results/video.md).',
  ];
}
