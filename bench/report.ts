// Turns a benchmark run into a markdown table and an SVG chart (throughput and p99 latency against
// concurrency, one line per contender, one row of panels per workload).
import { median } from './measure.ts';
import type { LoadResult } from './measure.ts';
import type { CeilingResult } from './contenders/ceiling.ts';
import type { MicroResult } from './micro.ts';
import type { SoakResult } from './soak.ts';
import { drawPanelFrame, svgDocument } from './svg.ts';

export type Run = LoadResult & { meanBatchSize?: number };

export interface Cell {
  workload: string;
  concurrency: number;
  total: number;
  runs: { plain: Run[]; pool: Run[] };
  ceilingImagesPerSecond: number;
}

export interface BenchReport {
  date: string;
  mode: 'quick' | 'full';
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  durationSeconds: number;
  ceilings: Record<string, CeilingResult>;
  cells: Cell[];
  micro: MicroResult[];
  soak: SoakResult;
}

export interface CellSummary {
  plain: number;
  pool: number;
  ceiling: number;
  /** Medians of the ratios taken run by run. */
  poolOverPlain: number;
  poolOverCeiling: number;
  p50: { plain: number; pool: number };
  p99: { plain: number; pool: number };
  eventLoopP99: { plain: number; pool: number };
  peakRssMb: { plain: number; pool: number };
  cpuMsPerImage: { plain: number; pool: number };
  meanBatchSize: number;
}

const med = (runs: Run[], pick: (r: Run) => number) => median(runs.map(pick));

export function summarize(cell: Cell): CellSummary {
  const { plain, pool } = cell.runs;
  return {
    plain: med(plain, (r) => r.imagesPerSecond),
    pool: med(pool, (r) => r.imagesPerSecond),
    ceiling: cell.ceilingImagesPerSecond,
    poolOverPlain: median(pool.map((p, i) => p.imagesPerSecond / plain[i]!.imagesPerSecond)),
    poolOverCeiling: median(pool.map((p) => p.imagesPerSecond / cell.ceilingImagesPerSecond)),
    p50: { plain: med(plain, (r) => r.latencyMs.p50), pool: med(pool, (r) => r.latencyMs.p50) },
    p99: { plain: med(plain, (r) => r.latencyMs.p99), pool: med(pool, (r) => r.latencyMs.p99) },
    eventLoopP99: { plain: med(plain, (r) => r.eventLoopDelayP99Ms), pool: med(pool, (r) => r.eventLoopDelayP99Ms) },
    peakRssMb: { plain: med(plain, (r) => r.peakRssMb), pool: med(pool, (r) => r.peakRssMb) },
    cpuMsPerImage: { plain: med(plain, (r) => r.cpuMsPerImage), pool: med(pool, (r) => r.cpuMsPerImage) },
    meanBatchSize: med(pool, (r) => r.meanBatchSize ?? 1),
  };
}

const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : '–');

export function renderMarkdown(report: BenchReport): string {
  const m = report.machine;
  const lines = [
    `Benchmark (${report.mode}), ${report.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ${f(report.durationSeconds, 0)} s.`,
    '',
    'Images per second (median of the runs), ratios taken run by run; latency and event-loop delay in ms; RSS in MB; CPU ms per image.',
    '',
    '| workload | in flight | plain | pool | ceiling | pool/plain | pool/ceiling | p50 plain / pool | p99 plain / pool | loop delay p99 plain / pool | peak RSS plain / pool | CPU/img plain / pool | mean batch |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const cell of report.cells) {
    const s = summarize(cell);
    lines.push(
      `| ${cell.workload} | ${cell.concurrency} | ${f(s.plain)} | ${f(s.pool)} | ${f(s.ceiling)} | ${f(s.poolOverPlain, 2)}× | ${f(s.poolOverCeiling, 2)}× | ${f(s.p50.plain, 0)} / ${f(s.p50.pool, 0)} | ${f(s.p99.plain, 0)} / ${f(s.p99.pool, 0)} | ${f(s.eventLoopP99.plain)} / ${f(s.eventLoopP99.pool)} | ${f(s.peakRssMb.plain, 0)} / ${f(s.peakRssMb.pool, 0)} | ${f(s.cpuMsPerImage.plain)} / ${f(s.cpuMsPerImage.pool)} | ${f(s.meanBatchSize, 2)} |`,
    );
  }
  lines.push('', 'Ceiling: the same ONNX Runtime sessions on pre-made tensors, best batch size.', '');
  lines.push('| workload | model | images/s | best batch | batch-1 latency ms |', '| --- | --- | ---: | ---: | ---: |');
  for (const [workload, c] of Object.entries(report.ceilings)) {
    for (const [model, r] of Object.entries(c.models)) {
      lines.push(`| ${workload} | ${model} | ${f(r.imagesPerSecond)} | ${r.bestBatch} | ${f(r.batch1LatencyMs)} |`);
    }
  }
  lines.push('', 'Stage micro-benchmarks (tinybench), one 1280×720 photo, YOLOv8n-shaped heads:', '');
  lines.push('| stage | implementation | mean ms | p50 ms |', '| --- | --- | ---: | ---: |');
  for (const r of report.micro)
    lines.push(`| ${r.stage} | ${r.implementation} | ${f(r.meanMs, 2)} | ${f(r.p50Ms, 2)} |`);
  const soak = report.soak;
  lines.push(
    '',
    `Memory soak: ${soak.requests} requests at ${soak.concurrency} in flight in ${f(soak.seconds)} s; RSS (MB) along the run: ` +
      soak.rssMb.map(([n, mb]) => `${n}: ${f(mb, 0)}`).join(', '),
    '',
  );
  return lines.join('\n');
}

const COLOURS = { plain: '#d62728', pool: '#1f77b4', ceiling: '#7f7f7f' };

/** Small multiples: per workload, throughput and p99 latency against concurrency (log scale). */
export function renderChart(report: BenchReport): string {
  const workloads = [...new Set(report.cells.map((c) => c.workload))];
  const pw = 360;
  const ph = 200;
  const margin = { left: 60, top: 30, right: 20, bottom: 40 };
  const cw = margin.left + pw + margin.right;
  const ch = margin.top + ph + margin.bottom;
  const width = 2 * cw;
  const height = workloads.length * ch + 40;
  const parts = svgDocument(
    width,
    height,
    `inference-pool benchmark (${report.mode}, ${report.date.slice(0, 10)}, ${report.machine.cores} cores): ` +
      `<tspan fill="${COLOURS.plain}">plain</tspan>, <tspan fill="${COLOURS.pool}">pool</tspan>, <tspan fill="${COLOURS.ceiling}">ceiling</tspan>`,
  );
  workloads.forEach((workload, row) => {
    const cells = report.cells.filter((c) => c.workload === workload).sort((a, b) => a.concurrency - b.concurrency);
    const sums = cells.map(summarize);
    const xs = cells.map((c) => c.concurrency);
    const panels: { title: string; series: Record<string, number[]>; unit: string }[] = [
      {
        title: `${workload}: images/s`,
        series: { plain: sums.map((s) => s.plain), pool: sums.map((s) => s.pool), ceiling: sums.map((s) => s.ceiling) },
        unit: '/s',
      },
      {
        title: `${workload}: p99 latency (ms)`,
        series: { plain: sums.map((s) => s.p99.plain), pool: sums.map((s) => s.p99.pool) },
        unit: 'ms',
      },
    ];
    panels.forEach((panel, col) => {
      const ox = col * cw + margin.left;
      const oy = 40 + row * ch + margin.top;
      const all = Object.values(panel.series).flat().filter(Number.isFinite);
      const ymax = Math.max(...all, 1) * 1.1;
      const lx = (c: number) =>
        ox + (xs.length > 1 ? (Math.log(c) - Math.log(xs[0]!)) / (Math.log(xs.at(-1)!) - Math.log(xs[0]!)) : 0.5) * pw;
      const ly = drawPanelFrame(parts, { ox, oy, pw, ph, ymax, title: panel.title });
      for (const c of xs)
        parts.push(`<text x="${lx(c)}" y="${oy + ph + 16}" text-anchor="middle" fill="#555">${c}</text>`);
      parts.push(
        `<text x="${ox + pw / 2}" y="${oy + ph + 32}" text-anchor="middle" fill="#555">requests in flight</text>`,
      );
      for (const [name, values] of Object.entries(panel.series)) {
        const colour = COLOURS[name as keyof typeof COLOURS];
        const points = values.map((v, i) => `${lx(xs[i]!).toFixed(1)},${ly(v).toFixed(1)}`).join(' ');
        const dash = name === 'ceiling' ? ' stroke-dasharray="4 3"' : '';
        parts.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
        values.forEach((v, i) =>
          parts.push(`<circle cx="${lx(xs[i]!).toFixed(1)}" cy="${ly(v).toFixed(1)}" r="3" fill="${colour}"/>`),
        );
      }
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
