// `npm run bench` (full, about 20 minutes here) and `npm run bench:quick` (about 2 minutes):
// contenders measured in the same run, interleaved, each cell in a fresh process; medians and
// pairwise ratios; results to bench/results/ as JSON, a markdown table and an SVG chart.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';

import { benchChild } from './bench-process.ts';
import { median } from './measure.ts';
import type { LoadResult } from './measure.ts';
import type { CeilingResult } from './contenders/ceiling.ts';
import { renderChart, renderMarkdown } from './report.ts';
import type { BenchReport, Cell } from './report.ts';

const quick = process.argv.includes('--quick');
const root = new URL('..', import.meta.url).pathname;

interface Plan {
  workloads: string[];
  concurrencies: number[];
  reps: number;
  /** 1000 in flight is a burst of at least 1000 requests per run: measured once, for these workloads. */
  burstWorkloads: string[];
  /** Requests per measured run: about this many seconds of the pool's work, at least the concurrency. */
  seconds: number;
  ceilingSeconds: number;
  microIterations: number;
  soakRequests: number;
}

const plan: Plan = quick
  ? {
      workloads: ['detection', 'classification', 'all-three'],
      concurrencies: [1, 64],
      reps: 1,
      burstWorkloads: [],
      seconds: 3,
      ceilingSeconds: 1,
      microIterations: 20,
      soakRequests: 5000,
    }
  : {
      workloads: [
        'detection',
        'segmentation-fast',
        'segmentation-accurate',
        'classification',
        'all-three',
        'shapes-detection',
        'shapes-segmentation',
      ],
      concurrencies: [1, 16, 64, 1000],
      reps: 3,
      burstWorkloads: ['detection', 'classification', 'all-three'],
      seconds: 2,
      ceilingSeconds: 1,
      microIterations: 100,
      soakRequests: 100_000,
    };

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

/** Puts a full run's table between the README's benchmark markers, so the README shows the latest. */
function updateReadme(markdown: string): void {
  const file = join(root, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  const i = readme.indexOf(start);
  const j = readme.indexOf(end);
  if (i < 0 || j < i) return;
  const table = markdown.split('\n\nCeiling:')[0]!;
  const block = `${start}\n${table}\n\n![throughput and p99 latency against requests in flight](bench/results/latest.svg)\n\nMore (ceilings, stage micro-benchmarks, memory soak): [bench/results/latest.md](bench/results/latest.md).\n`;
  writeFileSync(file, readme.slice(0, i) + block + readme.slice(j));
}

function child<T>(job: object): T {
  return benchChild<T>(join(root, 'bench', 'child.ts'), job);
}

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const cells: Cell[] = [];
const ceilings: Record<string, CeilingResult> = {};

for (const workload of plan.workloads) {
  log(`${workload}: ceiling (pre-made tensors, best batch size)  [${elapsed()}]`);
  const ceiling = child<CeilingResult>({
    kind: 'ceiling',
    workload,
    batches: [1, 2, 4, 8],
    secondsPerBatch: plan.ceilingSeconds,
  });
  ceilings[workload] = ceiling;
  for (const concurrency of plan.concurrencies) {
    const burst = concurrency >= 1000;
    if (burst && !plan.burstWorkloads.includes(workload)) continue;
    const reps = burst ? 1 : plan.reps;
    // Enough requests for about `seconds` of work at the ceiling's pace; a burst of 1000 at 1000 in flight.
    const total = Math.max(concurrency, Math.round(ceiling.imagesPerSecond * plan.seconds), 8);
    const warmup = Math.min(Math.max(4, Math.round(ceiling.imagesPerSecond)), 64);
    const runs: Record<'plain' | 'pool', (LoadResult & { meanBatchSize?: number })[]> = { plain: [], pool: [] };
    for (let rep = 0; rep < reps; rep++) {
      // Interleaved, the order alternating from one repetition to the next.
      const order: ('plain' | 'pool')[] = rep % 2 === 0 ? ['plain', 'pool'] : ['pool', 'plain'];
      for (const contender of order) {
        log(
          `${workload} × ${concurrency} in flight: ${contender} run ${rep + 1}/${reps} (${total} requests)  [${elapsed()}]`,
        );
        runs[contender].push(child({ kind: 'load', contender, workload, concurrency, total, warmup }));
      }
    }
    cells.push({ workload, concurrency, total, runs, ceilingImagesPerSecond: ceiling.imagesPerSecond });
    const last = cells.at(-1)!;
    const ratio = median(last.runs.pool.map((p, i) => p.imagesPerSecond / last.runs.plain[i]!.imagesPerSecond));
    log(
      `  → pool/plain ${ratio.toFixed(2)}×, pool/ceiling ${(median(last.runs.pool.map((p) => p.imagesPerSecond)) / ceiling.imagesPerSecond).toFixed(2)}×`,
    );
  }
}

log(`stage micro-benchmarks (tinybench)  [${elapsed()}]`);
const micro = child<BenchReport['micro']>({ kind: 'micro', iterations: plan.microIterations });
log(`memory soak: ${plan.soakRequests} requests at 1000 in flight  [${elapsed()}]`);
const soak = child<BenchReport['soak']>({ kind: 'soak', requests: plan.soakRequests, concurrency: 1000 });

const report: BenchReport = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  },
  durationSeconds: (Date.now() - started) / 1000,
  ceilings,
  cells,
  micro,
  soak,
};
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const base = quick ? 'quick' : 'latest';
writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, `${base}.md`), renderMarkdown(report));
writeFileSync(join(dir, `${base}.svg`), renderChart(report));
if (!quick) updateReadme(renderMarkdown(report));
log(`done in ${elapsed()}: bench/results/${base}.{json,md,svg}`);
process.stdout.write(renderMarkdown(report));
