// `npm run bench:video` (about 6 minutes here; `-- --quick` about 2): the video benchmark on the
// 1280×720 H.264 file made at set-up and the YOLOv8n-shaped detector. (1) pool.video on the file,
// (2) the ffmpeg CLI piping raw frames to pool.infer, (3) pool.infer on frames decoded beforehand,
// interleaved; four streams of the file at once; a live 30 fps loopback source in 'freshest' mode.
// Each run is a child process of its own (bench/video/child.ts). Goals are reported, never asserted.
// Results to bench/results/video.{json,md,svg} (quick: video-quick.*), a full run's summary to the README.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { benchChild, loadAverage, machine } from './bench-process.ts';
import { writeReadmeSection } from './readme-section.ts';
import type { VideoJob } from './video/child.ts';
import { probeSize } from './video/ffmpeg.ts';
import type { FileContender, FileRun } from './video/file-runs.ts';
import type { LiveRun } from './video/live.ts';
import { renderChart } from './video/chart.ts';
import { renderMarkdown, renderReadme } from './video/report.ts';
import type { VideoPlan, VideoReport } from './video/summary.ts';
import { workload } from './workloads.ts';
import { TEST_VIDEOS } from '../scripts/make-videos.ts';

const root = new URL('..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
// The full run: three repetitions of the whole file each way (about 20 s a run here), the four
// streams on the first 120 frames of it each (all of it would take a third of the run's time), and
// the live source at one and two frames in flight.
const plan: VideoPlan = quick
  ? { reps: 1, fileFrames: 90, streams: 4, streamFrames: 45, live: [1], liveSeconds: 6 }
  : { reps: 3, streams: 4, streamFrames: 120, live: [1, 2], liveSeconds: 10 };

const log = (msg: string) => process.stderr.write(`[bench:video] ${msg}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const loads: VideoReport['loadAverage'] = [{ after: 'start', load: loadAverage() }];

const file = TEST_VIDEOS.bench(); // made at set-up; made here if missing
const detector = workload('detection').models[0]!.spec;
const modelId = detector.id;

function child<T>(label: string, job: VideoJob): T {
  log(`${label}  [${elapsed()}]`);
  const result = benchChild<T>(join(root, 'bench', 'video', 'child.ts'), job);
  loads.push({ after: label, load: loadAverage() });
  return result;
}

const runs: VideoReport['runs'] = [];
const contenders: FileContender[] = ['video', 'pipe', 'memory'];
for (let rep = 0; rep < plan.reps; rep++) {
  // The order turns from one repetition to the next, so that drift on a shared machine weighs on all.
  const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]!);
  for (const contender of order) {
    const r = child<FileRun>(`${contender} run ${rep + 1}/${plan.reps}`, {
      kind: 'file',
      contender,
      file,
      modelId,
      maxFrames: plan.fileFrames,
    });
    runs.push({ ...r, contender, rep });
    log(`  ${r.frames} frames, ${r.framesPerSecond.toFixed(1)} frames/s`);
  }
}
const streams = child<FileRun>(`${plan.streams} streams at once`, {
  kind: 'streams',
  streams: plan.streams,
  file,
  modelId,
  maxFrames: plan.streamFrames,
});
log(
  `  ${streams.frames} frames, ${streams.framesPerSecond.toFixed(1)} frames/s, mean batch ${streams.meanBatchSize.toFixed(2)}`,
);
const live: LiveRun[] = [];
for (const maxInFlight of plan.live) {
  const r = child<LiveRun>(`live, 'freshest', maxInFlight ${maxInFlight}`, {
    kind: 'live',
    file,
    modelId,
    maxInFlight,
    seconds: plan.liveSeconds,
  });
  live.push(r);
  log(
    `  latency p50 ${r.stats.latencyMs.p50.toFixed(0)} ms, p99 ${r.stats.latencyMs.p99.toFixed(0)} ms; lone ${r.lone.p50.toFixed(0)} ms; dropped ${r.stats.dropped} of ${r.stats.read}`,
  );
}

function commit(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Frame count, rate and codec, from ffprobe. */
function probeVideo(path: string) {
  const r = spawnSync(
    'ffprobe',
    [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-count_packets',
      '-show_entries',
      'stream=codec_name,r_frame_rate,nb_read_packets',
      '-of',
      'json',
      path,
    ],
    { encoding: 'utf8' },
  );
  const s = (
    JSON.parse(r.stdout) as { streams: { codec_name: string; r_frame_rate: string; nb_read_packets: string }[] }
  ).streams[0]!;
  const [num, den] = s.r_frame_rate.split('/').map(Number);
  return {
    frames: Number(s.nb_read_packets),
    fps: num! / (den || 1),
    codec: s.codec_name === 'h264' ? 'H.264' : s.codec_name,
  };
}

const report: VideoReport = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  commit: commit(),
  machine: machine(),
  loadAverage: loads,
  plan,
  durationSeconds: (Date.now() - started) / 1000,
  video: { file: relative(root, file), ...probeSize(file), ...probeVideo(file) },
  model: {
    id: modelId,
    file: relative(root, detector.path as string),
    inputSize: runs[0]!.inputSize.join('×'),
    maxBatchSize: runs[0]!.maxInFlight,
  },
  runs,
  streams,
  live,
};
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const base = quick ? 'video-quick' : 'video';
const markdown = renderMarkdown(report);
writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, `${base}.md`), markdown);
writeFileSync(join(dir, `${base}.svg`), renderChart(report));
if (!quick) log(await writeReadmeSection('video', renderReadme(report)));
log(`done in ${elapsed()}: bench/results/${base}.{json,md,svg}`);
process.stdout.write(markdown);
