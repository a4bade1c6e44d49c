// `npm run bench:scheduling` (about 5 minutes here; `-- --quick` about 1.5): how the pool schedules
// under saturation — priorities, deadlines, two models sharing the cores — with each treatment window
// alternating with its baseline in the same process. Reported against goals, never asserted. Results
// to bench/results/scheduling.{json,md} (quick runs: scheduling-quick.*).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { benchChild, loadAverage, machine } from './bench-process.ts';
import type { WindowResult } from './load-window.ts';
import { median } from './measure.ts';
import type { DeadlineResult, FairResult, PriorityResult, SchedulingJob } from './scheduling-child.ts';

const root = new URL('..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const plan = quick ? { reps: 1, warmInSeconds: 2, seconds: 4 } : { reps: 2, warmInSeconds: 3, seconds: 10 };
const log = (msg: string) => process.stderr.write(`[bench:scheduling] ${msg}\n`);

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const loads: Record<string, number[]> = { start: loadAverage() };
function run<T>(group: SchedulingJob['group']): T {
  log(`${group}: ${plan.reps} × (treatment + baseline), ${plan.seconds} s windows  [${elapsed()}]`);
  const job: SchedulingJob = { group, ...plan };
  const result = benchChild<T>(join(root, 'bench', 'scheduling-child.ts'), job);
  loads[group] = loadAverage();
  return result;
}
const priority = run<PriorityResult>('priority');
const deadline = run<DeadlineResult>('deadline');
const fair = run<FairResult>('fair');

const med = (windows: WindowResult[], pick: (w: WindowResult) => number) => median(windows.map(pick));
/** Median of the ratios taken window pair by window pair (rep i of each). */
const pairRatio = (a: WindowResult[], b: WindowResult[], pick: (w: WindowResult) => number) =>
  median(a.map((w, i) => pick(w) / pick(b[i]!)));
const stream = (label: string) => (w: WindowResult) => w.streams[label]!;
/** Completed per CPU second of this process, from throughput per wall second. */
const perCpu = (w: WindowResult, throughput: number) => (throughput * w.seconds) / w.cpuSeconds;
const eventLoop = (w: WindowResult) => w.eventLoopDelayP99Ms;

const low = stream('low');
const high = stream('high');
const prioritySummary = {
  loneP50Ms: priority.loneLatencyMs.p50,
  high: {
    p50Ms: med(priority.withHigh, (w) => high(w).latencyMs.p50),
    p99Ms: med(priority.withHigh, (w) => high(w).latencyMs.p99),
    sent: med(priority.withHigh, (w) => high(w).completed + high(w).expired),
  },
  low: {
    p50Ms: med(priority.withHigh, (w) => low(w).latencyMs.p50),
    p99Ms: med(priority.withHigh, (w) => low(w).latencyMs.p99),
    throughput: med(priority.withHigh, (w) => low(w).throughput),
  },
  baselineLow: {
    p50Ms: med(priority.baseline, (w) => low(w).latencyMs.p50),
    p99Ms: med(priority.baseline, (w) => low(w).latencyMs.p99),
    throughput: med(priority.baseline, (w) => low(w).throughput),
  },
  highP50OverLone: med(priority.withHigh, (w) => high(w).latencyMs.p50) / priority.loneLatencyMs.p50,
  lowThroughputRatio: pairRatio(priority.withHigh, priority.baseline, (w) => low(w).throughput),
  lowThroughputRatioPerCpu: pairRatio(priority.withHigh, priority.baseline, (w) => perCpu(w, low(w).throughput)),
  // The priority-1 requests (5/s) are themselves a quarter or more of detection's capacity here, so the
  // low ones alone cannot keep 0.95× of the baseline; low + high against it shows whether scheduling
  // them cost throughput (broken-up batches, say).
  highThroughput: med(priority.withHigh, (w) => high(w).completed / w.seconds),
  totalThroughputRatio: pairRatio(
    priority.withHigh,
    priority.baseline,
    (w) => low(w).throughput + (w.streams.high ? high(w).completed / w.seconds : 0),
  ),
  eventLoopP99Ms: { baseline: med(priority.baseline, eventLoop), withHigh: med(priority.withHigh, eventLoop) },
};

const d = stream('det');
const settled = (w: WindowResult) => d(w).completed + d(w).expired;
const deadlineSummary = {
  baselineThroughput: med(deadline.baseline, (w) => d(w).throughput),
  completedThroughput: med(deadline.withDeadline, (w) => d(w).throughput),
  fractionCompleted: med(deadline.withDeadline, (w) => d(w).completed / Math.max(1, settled(w))),
  fractionExpired: med(deadline.withDeadline, (w) => d(w).expired / Math.max(1, settled(w))),
  expiredPerSecond: med(deadline.withDeadline, (w) => d(w).expired / w.seconds),
  throughputRatio: pairRatio(deadline.withDeadline, deadline.baseline, (w) => d(w).throughput),
  throughputRatioPerCpu: pairRatio(deadline.withDeadline, deadline.baseline, (w) => perCpu(w, d(w).throughput)),
  otherFailures: [...deadline.baseline, ...deadline.withDeadline].reduce(
    (n, w) => n + Object.values(d(w).failed).reduce((a, b) => a + b, 0),
    0,
  ),
  eventLoopP99Ms: { baseline: med(deadline.baseline, eventLoop), withDeadline: med(deadline.withDeadline, eventLoop) },
};

const c = stream('cls');
const fairSummary = {
  det: {
    alone: med(fair.detAlone, (w) => d(w).throughput),
    shared: med(fair.both, (w) => d(w).throughput),
    sharedOverAlone: pairRatio(fair.both, fair.detAlone, (w) => d(w).throughput),
    sharedOverAlonePerCpu: pairRatio(fair.both, fair.detAlone, (w) => perCpu(w, d(w).throughput)),
  },
  cls: {
    alone: med(fair.clsAlone, (w) => c(w).throughput),
    shared: med(fair.both, (w) => c(w).throughput),
    sharedOverAlone: pairRatio(fair.both, fair.clsAlone, (w) => c(w).throughput),
    sharedOverAlonePerCpu: pairRatio(fair.both, fair.clsAlone, (w) => perCpu(w, c(w).throughput)),
  },
  eventLoopP99Ms: {
    detAlone: med(fair.detAlone, eventLoop),
    clsAlone: med(fair.clsAlone, eventLoop),
    both: med(fair.both, eventLoop),
  },
};

let commit = 'unknown';
try {
  commit = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8' }).trim();
} catch {
  // not a git checkout
}
const report = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  commit,
  machine: machine(),
  loadAverage: loads,
  plan,
  durationSeconds: (Date.now() - started) / 1000,
  summary: { priority: prioritySummary, deadline: deadlineSummary, fair: fairSummary },
  raw: { priority, deadline, fair },
};

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
const p = prioritySummary;
const dl = deadlineSummary;
const fs = fairSummary;
const md = [
  `Scheduling benchmark (${report.mode}), ${report.date.slice(0, 10)}, commit ${commit}: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; ${f(report.durationSeconds)} s.`,
  `Load average (1/5/15 min; other work shared the machine): ${Object.entries(loads)
    .map(([k, v]) => `${k === 'start' ? 'at start' : `after ${k}`} ${v.join(' / ')}`)
    .join('; ')}.`,
  '',
  `YOLOv8n-shaped detection and classification on 1280×720 JPEGs, default pool settings. Each treatment window alternates with its baseline window in one process (${plan.reps} of each, ${plan.seconds} s measured after ${plan.warmInSeconds} s of warm-in); medians over the windows, ratios window pair by window pair. Latency and event-loop delay in ms, throughput in images/s; "per CPU s" ratios divide each window's count by the CPU seconds this process got in it, which takes out how much of the cores other work left it (wall-clock ratios on this shared machine swing by ±50 % between identical windows). If the pool ignores \`priority\` or \`timeoutMs\` (before they land), a treatment window is just its baseline again.`,
  '',
  '**Priority under saturation**: detection, 64 in flight at priority 0, plus one priority-1 request every 200 ms.',
  '',
  '| | p50 | p99 | throughput | event-loop p99 |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| lone request (one at a time, idle pool) | ${f(p.loneP50Ms)} | ${f(priority.loneLatencyMs.p99)} | | |`,
  `| priority 1 (${f(p.high.sent)} sent per window) | ${f(p.high.p50Ms)} | ${f(p.high.p99Ms)} | | ${f(p.eventLoopP99Ms.withHigh, 1)} |`,
  `| priority 0, beside them | ${f(p.low.p50Ms)} | ${f(p.low.p99Ms)} | ${f(p.low.throughput, 1)} | |`,
  `| priority 0, alone (baseline) | ${f(p.baselineLow.p50Ms)} | ${f(p.baselineLow.p99Ms)} | ${f(p.baselineLow.throughput, 1)} | ${f(p.eventLoopP99Ms.baseline, 1)} |`,
  '',
  `- high p50 / lone p50 = ${f(p.highP50OverLone, 2)}× (goal ≤ 2×: ${goal(p.highP50OverLone <= 2)})`,
  `- low + high throughput / baseline = ${f(p.totalThroughputRatio, 2)}× (the high ones are ${f(p.highThroughput, 1)}/s of the baseline's ${f(p.baselineLow.throughput, 1)}/s, so low alone can reach at most ${f(1 - p.highThroughput / p.baselineLow.throughput, 2)}×)`,
  `- low throughput / baseline = ${f(p.lowThroughputRatio, 2)}×, per CPU s ${f(p.lowThroughputRatioPerCpu, 2)}× (goal ≥ 0.95×: ${goal(p.lowThroughputRatio >= 0.95)}, per CPU s ${goal(p.lowThroughputRatioPerCpu >= 0.95)})`,
  '',
  '**Deadlines under overload**: detection, 1000 in flight, `timeoutMs: 500`, each caller sending again as soon as a request settles.',
  '',
  '| | completed/s | completed | expired | expired/s | event-loop p99 |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  `| with deadlines | ${f(dl.completedThroughput, 1)} | ${f(100 * dl.fractionCompleted, 1)} % | ${f(100 * dl.fractionExpired, 1)} % | ${f(dl.expiredPerSecond)} | ${f(dl.eventLoopP99Ms.withDeadline, 1)} |`,
  `| without (baseline) | ${f(dl.baselineThroughput, 1)} | | | | ${f(dl.eventLoopP99Ms.baseline, 1)} |`,
  '',
  `- completed throughput / baseline = ${f(dl.throughputRatio, 2)}×, per CPU s ${f(dl.throughputRatioPerCpu, 2)}× (goal ≥ 0.95×: ${goal(dl.throughputRatio >= 0.95)}, per CPU s ${goal(dl.throughputRatioPerCpu >= 0.95)}); other failures: ${dl.otherFailures}`,
  '',
  '**Fair sharing**: detection and classification at 64 in flight each, at once, against each alone.',
  '',
  '| model | alone | shared | shared / alone | shared / fair share (half of alone) | per CPU s | goal ≥ 0.8× of fair share (wall / per CPU s) |',
  '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
  ...(['det', 'cls'] as const).map((m) => {
    const s = fs[m];
    return `| ${m === 'det' ? 'detection' : 'classification'} | ${f(s.alone, 1)} | ${f(s.shared, 1)} | ${f(s.sharedOverAlone, 2)}× | ${f(2 * s.sharedOverAlone, 2)}× | ${f(2 * s.sharedOverAlonePerCpu, 2)}× | ${goal(2 * s.sharedOverAlone >= 0.8)} / ${goal(2 * s.sharedOverAlonePerCpu >= 0.8)} |`;
  }),
  '',
  `Event-loop delay p99: detection alone ${f(fs.eventLoopP99Ms.detAlone, 1)}, classification alone ${f(fs.eventLoopP99Ms.clsAlone, 1)}, both ${f(fs.eventLoopP99Ms.both, 1)}.`,
  '',
].join('\n');

const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const base = quick ? 'scheduling-quick' : 'scheduling';
writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, `${base}.md`), md);
log(`done in ${elapsed()}: bench/results/${base}.{json,md}`);
process.stdout.write(md);
