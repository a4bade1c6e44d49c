// One group of the scheduling benchmark in a process of its own, on one pool with the default
// settings: each treatment window alternates with its baseline window, so that other work on a shared
// machine weighs on both alike. Prints one line `RESULT <json>`.
//
// Written against the request options being added (`priority`: integer, higher first, default 0;
// `timeoutMs`: rejected with DEADLINE_EXCEEDED if still waiting after that long). A pool that does not
// know them yet ignores them, and the windows still run.
import { InferencePool } from '../lib/index.ts';
import type { InferOptions } from '../lib/index.ts';
import { benchImages } from './images.ts';
import type { BenchImage } from './images.ts';
import { runWindow } from './load-window.ts';
import type { Stream, WindowResult } from './load-window.ts';
import { percentile } from './measure.ts';
import { workload } from './workloads.ts';
import type { BenchModel } from './workloads.ts';

export interface SchedulingJob {
  group: 'priority' | 'deadline' | 'fair';
  reps: number;
  warmInSeconds: number;
  seconds: number;
}

export interface PriorityResult {
  loneLatencyMs: { p50: number; p99: number };
  baseline: WindowResult[];
  withHigh: WindowResult[];
}
export interface DeadlineResult {
  baseline: WindowResult[];
  withDeadline: WindowResult[];
}
export interface FairResult {
  detAlone: WindowResult[];
  clsAlone: WindowResult[];
  both: WindowResult[];
}

/** The options under test, not yet in InferOptions: passed through untyped. */
type SchedulingOptions = InferOptions & { priority?: number; timeoutMs?: number };

const job = JSON.parse(process.argv[2]!) as SchedulingJob;
const images = await benchImages();
const det = workload('detection').models[0]!;
const cls = workload('classification').models[0]!;
const models = job.group === 'fair' ? [det, cls] : [det];
const pool = await InferencePool.create({ models: models.map((m) => m.spec) });

function sender(model: BenchModel, extra: SchedulingOptions = {}) {
  return (i: number, signal: AbortSignal) => {
    const options: SchedulingOptions = { ...model.options, ...extra, signal };
    return pool.infer((images[i % images.length] as BenchImage).jpeg, model.spec.id, options);
  };
}
const closed = (label: string, model: BenchModel, concurrency: number, extra?: SchedulingOptions): Stream => ({
  label,
  concurrency,
  send: sender(model, extra),
});

// Not measured: every model once, then a short burst so the measured windows start warm.
for (const m of models) await sender(m)(0, new AbortController().signal);
await runWindow(
  models.map((m) => closed(m.spec.id, m, 64)),
  0,
  job.warmInSeconds,
);

const window = (streams: Stream[]) => runWindow(streams, job.warmInSeconds, job.seconds);
let result: PriorityResult | DeadlineResult | FairResult;

if (job.group === 'priority') {
  // A lone request's latency: one at a time on the idle pool.
  const lone: number[] = [];
  for (let i = 0; i < 15; i++) {
    const sent = performance.now();
    await sender(det)(i, new AbortController().signal);
    lone.push(performance.now() - sent);
  }
  lone.sort((a, b) => a - b);
  const r: PriorityResult = {
    loneLatencyMs: { p50: percentile(lone, 50), p99: percentile(lone, 99) },
    baseline: [],
    withHigh: [],
  };
  const low = closed('low', det, 64, { priority: 0 });
  const high: Stream = { label: 'high', intervalMs: 200, send: sender(det, { priority: 1 }) };
  for (let rep = 0; rep < job.reps; rep++) {
    const order = rep % 2 === 0 ? ['baseline', 'withHigh'] : ['withHigh', 'baseline'];
    for (const which of order) {
      if (which === 'baseline') r.baseline.push(await window([low]));
      else r.withHigh.push(await window([low, high]));
    }
  }
  result = r;
} else if (job.group === 'deadline') {
  const r: DeadlineResult = { baseline: [], withDeadline: [] };
  for (let rep = 0; rep < job.reps; rep++) {
    const order = rep % 2 === 0 ? ['baseline', 'withDeadline'] : ['withDeadline', 'baseline'];
    for (const which of order) {
      if (which === 'baseline') r.baseline.push(await window([closed('det', det, 1000)]));
      else r.withDeadline.push(await window([closed('det', det, 1000, { timeoutMs: 500 })]));
    }
  }
  result = r;
} else {
  const r: FairResult = { detAlone: [], clsAlone: [], both: [] };
  for (let rep = 0; rep < job.reps; rep++) {
    const order = ['detAlone', 'clsAlone', 'both'] as const;
    for (const which of rep % 2 === 0 ? order : [...order].reverse()) {
      if (which === 'detAlone') r.detAlone.push(await window([closed('det', det, 64)]));
      else if (which === 'clsAlone') r.clsAlone.push(await window([closed('cls', cls, 64)]));
      else r.both.push(await window([closed('det', det, 64), closed('cls', cls, 64)]));
    }
  }
  result = r;
}

await pool.close();
console.log(`RESULT ${JSON.stringify(result)}`);
