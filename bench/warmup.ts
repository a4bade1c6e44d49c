// What warm-up at load saves: for the YOLOv8n-shaped detector and the trained shapes segmenter, fresh
// processes with `warmup` off and on, interleaved; medians of the first requests' latency and of the
// load time. `npx tsx bench/warmup.ts [--reps N]` (about 3 minutes here at 5 reps); results to
// bench/results/warmup.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { median } from './measure.ts';
import { benchChild, machine, loadAverage } from './bench-process.ts';
import type { WarmupJob, WarmupSample } from './warmup-child.ts';

const root = new URL('..', import.meta.url).pathname;
const repsArg = process.argv.indexOf('--reps');
const reps = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5;
const WORKLOADS = ['detection', 'shapes-segmentation'];

const log = (msg: string) => process.stderr.write(`[bench:warmup] ${msg}\n`);

interface Cell {
  workload: string;
  off: WarmupSample[];
  on: WarmupSample[];
}

const started = Date.now();
const loadBefore = loadAverage();
const cells: Cell[] = WORKLOADS.map((workload) => ({ workload, off: [], on: [] }));
for (let rep = 0; rep < reps; rep++) {
  for (const cell of cells) {
    // Interleaved, the order alternating, so that other work on the machine weighs on both alike.
    const order = rep % 2 === 0 ? [false, true] : [true, false];
    for (const warmup of order) {
      log(`${cell.workload}, warmup ${warmup ? 'on' : 'off'}: process ${rep + 1}/${reps}`);
      const job: WarmupJob = { workload: cell.workload, warmup };
      cell[warmup ? 'on' : 'off'].push(benchChild<WarmupSample>(join(root, 'bench', 'warmup-child.ts'), job));
    }
  }
}

interface Summary {
  loadMs: number;
  firstMs: number;
  secondMs: number;
  /** Requests 3 … 10. */
  steadyMs: number;
  firstOverSteady: number;
  firstInferenceMs: number;
  laterInferenceMs: number;
  burstMs: number;
}

function summarize(samples: WarmupSample[]): Summary {
  const m = (pick: (s: WarmupSample) => number) => median(samples.map(pick));
  return {
    loadMs: m((s) => s.loadMs),
    firstMs: m((s) => s.sequentialMs[0]!),
    secondMs: m((s) => s.sequentialMs[1]!),
    steadyMs: m((s) => median(s.sequentialMs.slice(2))),
    firstOverSteady: m((s) => s.sequentialMs[0]! / median(s.sequentialMs.slice(2))),
    firstInferenceMs: m((s) => s.firstInferenceMs),
    laterInferenceMs: m((s) => s.medianLaterInferenceMs),
    burstMs: m((s) => s.burstMs),
  };
}

const report = {
  date: new Date().toISOString(),
  machine: machine(),
  loadAverage: { before: loadBefore, after: loadAverage() },
  reps,
  durationSeconds: (Date.now() - started) / 1000,
  cells: cells.map((c) => ({ ...c, summary: { off: summarize(c.off), on: summarize(c.on) } })),
};

const f = (v: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const lines = [
  `Warm-up at load, ${report.date.slice(0, 10)}: ${report.machine.cpu}, ${report.machine.cores} cores, Node ${report.machine.node}; load average ${report.loadAverage.before.join(' / ')} before, ${report.loadAverage.after.join(' / ')} after (other work shared the machine); ${f(report.durationSeconds)} s.`,
  '',
  `Medians of ${reps} fresh processes per cell, \`warmup\` off → on. Latency in ms as the caller sees it (1280×720 JPEGs, one request at a time), load = \`InferencePool.create\` with the model; "inference" is the first request's ONNX Runtime run; burst = 16 requests at once right after, the first batches above one.`,
  '',
  '| model | load | first request | second | steady (3rd-10th) | first / steady | first inference / later | burst of 16 |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const c of report.cells) {
  const { off, on } = c.summary;
  lines.push(
    `| ${c.workload} | ${f(off.loadMs)} → ${f(on.loadMs)} | ${f(off.firstMs)} → ${f(on.firstMs)} | ${f(off.secondMs)} → ${f(on.secondMs)} | ${f(off.steadyMs)} → ${f(on.steadyMs)} | ${f(off.firstOverSteady, 2)}× → ${f(on.firstOverSteady, 2)}× | ${f(off.firstInferenceMs)} / ${f(off.laterInferenceMs)} → ${f(on.firstInferenceMs)} / ${f(on.laterInferenceMs)} | ${f(off.burstMs)} → ${f(on.burstMs)} |`,
  );
}
const markdown = `${lines.join('\n')}\n`;
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'warmup.json'), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, 'warmup.md'), markdown);
log(`done in ${f(report.durationSeconds)} s: bench/results/warmup.{json,md}`);
process.stdout.write(markdown);
