// The HTTP benchmark's report: the summary table (plain server against the pool's, with latency,
// failures, memory, the in-process pool and the raw-bytes route), the goals the issue states
// (reported, never asserted), every run in detail, and an SVG chart with a row per workload.
import { drawBars, drawPanelFrame, svgDocument } from '../svg.ts';

export const CONTENDERS = ['plain-server', 'pool-server', 'pool-server-raw', 'in-process-pool'] as const;
export type HttpContender = (typeof CONTENDERS)[number];

const LABELS: Record<HttpContender, string> = {
  'plain-server': 'plain server',
  'pool-server': 'pool server (base64 JSON)',
  'pool-server-raw': 'pool server (raw bytes)',
  'in-process-pool': 'in-process pool',
};
const SHORT: Record<HttpContender, string> = {
  'plain-server': 'plain',
  'pool-server': 'pool',
  'pool-server-raw': 'pool raw',
  'in-process-pool': 'in-process',
};
const COLOURS: Record<HttpContender, string> = {
  'plain-server': '#d62728',
  'pool-server': '#1f77b4',
  'pool-server-raw': '#17becf',
  'in-process-pool': '#7f7f7f',
};

export interface HttpRun {
  workload: string;
  contender: HttpContender;
  /** Why the cell has no figures (the CLI missing, a server that did not start, a crash). */
  skipped?: string;
  /** Valid 2xx answers completed inside the measured window, per second of it. */
  imagesPerSecond: number;
  completed: number;
  latencyMs: { p50: number; p99: number };
  /** Over the whole run, warm-up included (in-process: inside the window). */
  non2xx: number;
  errors: number;
  failures: Record<string, number>;
  firstFailures?: Record<string, string>;
  /** VmHWM of the serving process (in-process: the process running the pool), MB. */
  peakRssMb: number;
  /** Mean cores the server process kept busy in the window. */
  serverCpuCores?: number;
  startupSeconds?: number;
  connectionsOpened?: number;
  loaderCpuSeconds?: number;
  /** Valid answers per second of the run, warm-up included. */
  timeline?: number[];
  /** Why the first start failed, where the server started only at the second try. */
  startFailure?: string;
  /** The server was gone when the run ended. */
  serverDied?: boolean;
}

export interface HttpReport {
  date: string;
  mode: 'full' | 'quick' | 'custom';
  machine: { cpu: string; cores: number; memoryGb: number; node: string; platform: string };
  plan: { connections: number; warmInSeconds: number; seconds: number; firstAnswerWithinSeconds: number };
  descriptors: string;
  /** 1, 5, 15 minute load averages at the start and the end: other work on a shared machine shows here. */
  loadAverage: { start: number[]; end: number[] };
  durationSeconds: number;
  runs: HttpRun[];
}

const f = (v: number | undefined, digits = 1) => (v !== undefined && Number.isFinite(v) ? v.toFixed(digits) : '–');
const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && b > 0 && Number.isFinite(a) ? `${f(a / b, 2)}×` : '–';
const count = (v: number | undefined) => (v === undefined ? '–' : String(v));

function byCell(report: HttpReport) {
  const workloads = [...new Set(report.runs.map((r) => r.workload))];
  const get = (workload: string, contender: HttpContender) => {
    const r = report.runs.find((x) => x.workload === workload && x.contender === contender);
    return r && !r.skipped ? r : undefined;
  };
  return { workloads, get };
}

const FAILURES_NOTE =
  'non-2xx and errors over the whole run, warm-up included (in-process: rejections inside the window)';

export function renderMarkdown(report: HttpReport): string {
  const m = report.machine;
  const p = report.plan;
  const { workloads, get } = byCell(report);
  const lines = [
    `HTTP benchmark (${report.mode}), ${report.date.slice(0, 10)}: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}, ${m.platform}; ${f(report.durationSeconds, 0)} s; load average ${report.loadAverage.start.join(' / ')} at the start, ${report.loadAverage.end.join(' / ')} at the end.`,
    '',
    `${p.connections} clients, one keep-alive connection each, closed loop (the next request as soon as the answer arrives), 1280×720 JPEGs in turn; ${p.warmInSeconds} s warm-up counted from the first answer (a server that takes all ${p.connections} requests in at once answers nothing until it has decoded them all), then ${p.seconds} s measured; one run per cell, each server a fresh process, the loader a process of its own. ` +
      `Images per second: valid 2xx answers completed in the window; latency (ms) of those answers; ${FAILURES_NOTE}; peak RSS: VmHWM of the serving process, MB.`,
    '',
    '| workload | plain server | pool server | speedup | p50 plain / pool | p99 plain / pool | non-2xx plain / pool | errors plain / pool | peak RSS plain / pool | in-process pool | pool server / in-process | pool raw bytes | raw / base64 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const w of workloads) {
    const plain = get(w, 'plain-server');
    const pool = get(w, 'pool-server');
    const raw = get(w, 'pool-server-raw');
    const inproc = get(w, 'in-process-pool');
    lines.push(
      `| ${w} | ${f(plain?.imagesPerSecond)} | ${f(pool?.imagesPerSecond)} | ${ratio(pool?.imagesPerSecond, plain?.imagesPerSecond)} | ` +
        `${f(plain?.latencyMs.p50, 0)} / ${f(pool?.latencyMs.p50, 0)} | ${f(plain?.latencyMs.p99, 0)} / ${f(pool?.latencyMs.p99, 0)} | ` +
        `${count(plain?.non2xx)} / ${count(pool?.non2xx)} | ${count(plain?.errors)} / ${count(pool?.errors)} | ` +
        `${f(plain?.peakRssMb, 0)} / ${f(pool?.peakRssMb, 0)} | ${f(inproc?.imagesPerSecond)} | ${ratio(pool?.imagesPerSecond, inproc?.imagesPerSecond)} | ` +
        `${f(raw?.imagesPerSecond)} | ${ratio(raw?.imagesPerSecond, pool?.imagesPerSecond)} |`,
    );
  }
  const busiest = Math.max(report.loadAverage.start[0] ?? 0, report.loadAverage.end[0] ?? 0);
  if (busiest > m.cores) {
    lines.push(
      '',
      `The machine was shared: a load average up to ${busiest} on ${m.cores} cores (other work). Figures are lower and noisier than on a quiet machine; the server CPU column below shows how much of the cores each server got.`,
    );
  }
  lines.push('', ...renderGoals(report), '', ...renderRuns(report));
  return `${lines.join('\n')}\n`;
}

/** The issue's goals, per workload: the figure and whether it is met. Never asserted. */
function renderGoals(report: HttpReport): string[] {
  const { workloads, get } = byCell(report);
  const c = report.plan.connections;
  const cell = (value: number | undefined, text: string, met: (v: number) => boolean) =>
    value === undefined || !Number.isFinite(value) ? '–' : `${text}: ${met(value) ? 'met' : '**not met**'}`;
  const failed = (r: HttpRun | undefined) => (r ? r.non2xx + r.errors + (r.serverDied ? 1 : 0) : undefined);
  const goals: [string, (w: string) => string][] = [
    [
      'pool server ≥ 1.5× plain server',
      (w) => {
        const v = (get(w, 'pool-server')?.imagesPerSecond ?? NaN) / (get(w, 'plain-server')?.imagesPerSecond ?? NaN);
        return cell(v, `${f(v, 2)}×`, (x) => x >= 1.5);
      },
    ],
    [
      'pool server ≥ 0.9× in-process pool',
      (w) => {
        const v = (get(w, 'pool-server')?.imagesPerSecond ?? NaN) / (get(w, 'in-process-pool')?.imagesPerSecond ?? NaN);
        return cell(v, `${f(v, 2)}×`, (x) => x >= 0.9);
      },
    ],
    [
      `no failed request at ${c} connections (pool server, base64 / raw)`,
      (w) => {
        const a = failed(get(w, 'pool-server'));
        const b = failed(get(w, 'pool-server-raw'));
        if (a === undefined && b === undefined) return '–';
        return `${count(a)} / ${count(b)}: ${(a ?? 0) + (b ?? 0) === 0 ? 'met' : '**not met**'}`;
      },
    ],
    [
      'pool server peak RSS ≤ 1.5 GB (base64 / raw)',
      (w) => {
        const a = get(w, 'pool-server')?.peakRssMb;
        const b = get(w, 'pool-server-raw')?.peakRssMb;
        const worst = Math.max(a ?? -Infinity, b ?? -Infinity);
        return cell(worst, `${f(a, 0)} / ${f(b, 0)} MB`, (x) => x <= 1536);
      },
    ],
  ];
  const lines = [
    `Goals (reported, never asserted)${c === 1000 ? '' : `; this run had ${c} connections, the goals are for 1000`}:`,
    '',
    `| goal | ${workloads.join(' | ')} |`,
    `| --- | ${workloads.map(() => '---').join(' | ')} |`,
  ];
  for (const [goal, value] of goals) lines.push(`| ${goal} | ${workloads.map(value).join(' | ')} |`);
  return lines;
}

function renderRuns(report: HttpReport): string[] {
  const lines = [
    "Every run (server CPU: mean cores the serving process kept busy in the window, in-process: the pool's process; connections: opened by the loader, more than the clients means the server closed some; loader CPU: its CPU seconds in the window):",
    '',
    '| workload | contender | images/s | completed | p50 ms | p99 ms | non-2xx | errors | failures by code | peak RSS MB | server CPU | start-up s | connections | loader CPU s |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of report.runs) {
    if (r.skipped) {
      const empty = ' |'.repeat(11);
      lines.push(`| ${r.workload} | ${LABELS[r.contender]} | not run: ${r.skipped.split('\n')[0]} |${empty}`);
      continue;
    }
    const codes = Object.entries(r.failures)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    lines.push(
      `| ${r.workload} | ${LABELS[r.contender]} | ${f(r.imagesPerSecond)} | ${r.completed} | ${f(r.latencyMs.p50, 0)} | ${f(r.latencyMs.p99, 0)} | ` +
        `${r.non2xx} | ${r.errors} | ${codes || '–'}${r.serverDied ? ' (server died)' : ''} | ${f(r.peakRssMb, 0)} | ${f(r.serverCpuCores, 2)} | ` +
        `${f(r.startupSeconds)}${r.startFailure ? ' (second try)' : ''} | ${count(r.connectionsOpened)} | ${f(r.loaderCpuSeconds)} |`,
    );
  }
  for (const r of report.runs) {
    for (const [code, message] of Object.entries(r.firstFailures ?? {})) {
      lines.push(
        '',
        `${r.workload}, ${LABELS[r.contender]}: the first ${code} ${message.replace(/\s+/g, ' ').slice(0, 300)}`,
      );
    }
  }
  for (const r of report.runs.filter((x) => x.startFailure)) {
    lines.push('', `${r.workload}, ${LABELS[r.contender]}: the first start failed: ${r.startFailure}`);
  }
  lines.push('', `File descriptors: ${report.descriptors}.`);
  return lines;
}

/** A row per workload: images per second and p99 latency, a bar per contender. */
export function renderChart(report: HttpReport): string {
  const { workloads, get } = byCell(report);
  const pw = 360;
  const ph = 170;
  const margin = { left: 60, top: 30, right: 20, bottom: 30 };
  const cw = margin.left + pw + margin.right;
  const ch = margin.top + ph + margin.bottom;
  const parts = svgDocument(
    2 * cw,
    workloads.length * ch + 40,
    `inference-pool over HTTP (${report.mode}, ${report.date.slice(0, 10)}, ${report.machine.cores} cores, ${report.plan.connections} connections)`,
  );
  workloads.forEach((workload, row) => {
    const panels = [
      { title: `${workload}: images/s`, pick: (r: HttpRun) => r.imagesPerSecond, digits: 1 },
      { title: `${workload}: p99 latency (s)`, pick: (r: HttpRun) => r.latencyMs.p99 / 1000, digits: 1 },
    ];
    panels.forEach((panel, col) => {
      const ox = col * cw + margin.left;
      const oy = 40 + row * ch + margin.top;
      const values = CONTENDERS.map((c) => {
        const r = get(workload, c);
        return r ? panel.pick(r) : NaN;
      });
      const ymax = Math.max(...values.filter(Number.isFinite), 1e-9) * 1.15;
      const frame = { ox, oy, pw, ph, ymax, title: panel.title };
      const ly = drawPanelFrame(parts, frame);
      const bars = CONTENDERS.map((c, i) => ({ label: SHORT[c], value: values[i]!, colour: COLOURS[c] }));
      drawBars(parts, frame, ly, bars, panel.digits);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
