// `npm run bench:http` (about 11 minutes here; `-- --quick`, 200 connections and 5 s windows, about
// 5): the pool behind HTTP against a plain Node server, per workload, in the same run. Contenders:
// `inference-pool serve` with base64 JSON on /infer/<task> and with raw JPEG bytes on the legacy
// /<dataset>/<version> route, a plain server (Fastify + the in-process benchmark's plain pipeline)
// on the same JSON route, and the in-process pool at the same number in flight (no HTTP: what the
// HTTP layer may cost at most). Each server is a fresh child process; the load comes from another
// (bench/http/loader.ts), so the server's event loop is measured alone. Goals are reported, never
// asserted. Results to bench/results/http.{json,md,svg} (quick: http-quick.*), the full run's table
// and chart to the README.
//
// Flags for trying things out (results then go to http-custom.*): --connections=N, --seconds=N,
// --warmup=N, --workloads=a,b, --contenders=plain-server,pool-server,pool-server-raw,in-process-pool.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { benchChild, loadAverage, machine } from './bench-process.ts';
import type { WindowCellResult, WindowJob } from './child.ts';
import { ensureDescriptors } from './http/fd-limit.ts';
import type { LoaderJob, LoaderResult } from './http/loader.ts';
import { updateReadme } from './http/readme.ts';
import { CONTENDERS, renderChart, renderMarkdown } from './http/report.ts';
import type { HttpContender, HttpReport, HttpRun } from './http/report.ts';
import { cliPresent, CLI, isRunning, startServer, stopServer } from './http/servers.ts';
import type { RunningServer } from './http/servers.ts';
import { HTTP_WORKLOADS } from './http/workloads.ts';
import type { HttpWorkload } from './http/workloads.ts';
import { peakRssMb } from './proc-status.ts';

const root = new URL('..', import.meta.url).pathname;
const quick = process.argv.includes('--quick');
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const custom = ['connections', 'seconds', 'warmup', 'workloads', 'contenders'].some((n) => flag(n) !== undefined);

const plan = {
  connections: Number(flag('connections') ?? (quick ? 200 : 1000)),
  warmInSeconds: Number(flag('warmup') ?? (quick ? 2 : 5)),
  seconds: Number(flag('seconds') ?? (quick ? 5 : 30)),
  /** The warm-up counts from the first answer (bench/load-window.ts), waited for at most this long. */
  firstAnswerWithinSeconds: quick ? 120 : 300,
};
const workloads = (flag('workloads')?.split(',') ?? HTTP_WORKLOADS.map((w) => w.name)).map(
  (name) => HTTP_WORKLOADS.find((w) => w.name === name) ?? fail(`unknown workload ${name}`),
);
const contenders = (flag('contenders')?.split(',') ?? [...CONTENDERS]).map((c) =>
  (CONTENDERS as readonly string[]).includes(c) ? (c as HttpContender) : fail(`unknown contender ${c}`),
);
const mode: HttpReport['mode'] = custom ? 'custom' : quick ? 'quick' : 'full';

function fail(message: string): never {
  throw new Error(message);
}

const log = (msg: string) => process.stderr.write(`[bench:http] ${msg}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;

const noFigures = { imagesPerSecond: NaN, completed: 0, latencyMs: { p50: NaN, p99: NaN }, peakRssMb: NaN };
const skipped = (w: HttpWorkload, contender: HttpContender, why: string): HttpRun => ({
  workload: w.name,
  contender,
  skipped: why,
  ...noFigures,
  non2xx: 0,
  errors: 0,
  failures: {},
});

function splitFailures(failures: Record<string, number>) {
  let non2xx = 0;
  let errors = 0;
  for (const [code, n] of Object.entries(failures)) {
    if (code.startsWith('HTTP_')) non2xx += n;
    else errors += n;
  }
  return { non2xx, errors };
}

/** One server contender: a fresh server, the loader against it, the server's figures from /proc. */
async function overHttp(w: HttpWorkload, contender: Exclude<HttpContender, 'in-process-pool'>): Promise<HttpRun> {
  const kind = contender === 'plain-server' ? 'plain' : 'pool';
  if (kind === 'pool' && !cliPresent()) return skipped(w, contender, `${CLI} is not there yet`);
  let server: RunningServer | undefined;
  let startFailure: string | undefined;
  try {
    try {
      server = await startServer(kind, w, `http-${w.name}-${contender}`);
    } catch (error) {
      // Once more: on a shared machine a load that overruns a start-up limit may be passing. Reported.
      startFailure = (error as Error).message.split('\n')[0];
      log(`  did not start (${startFailure}); trying once more`);
      server = await startServer(kind, w, `http-${w.name}-${contender}-retry`);
    }
    log(`  ${contender} ready in ${server.startupSeconds.toFixed(1)} s (pid ${server.pid}); loading  [${elapsed()}]`);
    const job: LoaderJob = {
      url: server.url,
      workload: w.name,
      mode: contender === 'pool-server-raw' ? 'raw' : 'json',
      concurrency: plan.connections,
      warmInSeconds: plan.warmInSeconds,
      seconds: plan.seconds,
      firstAnswerWithinSeconds: plan.firstAnswerWithinSeconds,
      serverPid: server.pid,
    };
    const r = benchChild<LoaderResult>(join(root, 'bench', 'http', 'loader.ts'), job);
    const serverDied = !isRunning(server);
    return {
      workload: w.name,
      contender,
      imagesPerSecond: r.window.throughput,
      completed: r.window.completed,
      latencyMs: r.window.latencyMs,
      ...splitFailures(r.failuresAllRun),
      failures: r.failuresAllRun,
      ...(Object.keys(r.firstFailures).length ? { firstFailures: r.firstFailures } : {}),
      peakRssMb: peakRssMb(server.pid),
      serverCpuCores: r.serverCpuCores,
      startupSeconds: server.startupSeconds,
      connectionsOpened: r.connectionsOpened,
      loaderCpuSeconds: r.loaderCpuSeconds,
      timeline: r.timeline,
      ...(serverDied ? { serverDied } : {}),
      ...(startFailure ? { startFailure } : {}),
    };
  } catch (error) {
    return skipped(w, contender, (error as Error).message);
  } finally {
    if (server) await stopServer(server);
  }
}

/** The in-process pool at the same number in flight, through the in-process benchmark's child. */
function inProcess(w: HttpWorkload): HttpRun {
  const job: WindowJob = {
    kind: 'window',
    contender: 'pool',
    workload: w.name,
    concurrency: plan.connections,
    warmInSeconds: plan.warmInSeconds,
    seconds: plan.seconds,
    firstAnswerWithinSeconds: plan.firstAnswerWithinSeconds,
  };
  try {
    const r = benchChild<WindowCellResult>(join(root, 'bench', 'child.ts'), job);
    return {
      workload: w.name,
      contender: 'in-process-pool',
      imagesPerSecond: r.window.throughput,
      completed: r.window.completed,
      latencyMs: r.window.latencyMs,
      non2xx: 0,
      errors: r.window.expired + Object.values(r.window.failed).reduce((a, b) => a + b, 0),
      failures: r.window.failed,
      peakRssMb: r.peakRssMb,
      serverCpuCores: r.cpuSeconds / r.seconds,
    };
  } catch (error) {
    return skipped(w, 'in-process-pool', (error as Error).message);
  }
}

const descriptors = ensureDescriptors(plan.connections);
log(
  `${plan.connections} connections, ${plan.warmInSeconds} s warm-up + ${plan.seconds} s per run; ${descriptors.note}`,
);
const loadStart = loadAverage();
const runs: HttpRun[] = [];
for (const [k, w] of workloads.entries()) {
  // The order turns from one workload to the next, so that drift on a shared machine weighs on all.
  const order = contenders.map((_, i) => contenders[(i + k) % contenders.length]!);
  for (const contender of order) {
    log(`${w.name}: ${contender}  [${elapsed()}]`);
    const run = contender === 'in-process-pool' ? inProcess(w) : await overHttp(w, contender);
    runs.push(run);
    if (run.skipped) log(`  not run: ${run.skipped}`);
    else {
      log(
        `  ${run.imagesPerSecond.toFixed(1)} images/s, p50 ${run.latencyMs.p50.toFixed(0)} ms, p99 ${run.latencyMs.p99.toFixed(0)} ms, ` +
          `non-2xx ${run.non2xx}, errors ${run.errors}, peak RSS ${run.peakRssMb.toFixed(0)} MB`,
      );
    }
  }
}

const report: HttpReport = {
  date: new Date().toISOString(),
  mode,
  machine: machine(),
  plan,
  descriptors: descriptors.note,
  loadAverage: { start: loadStart, end: loadAverage() },
  durationSeconds: (Date.now() - started) / 1000,
  // In the table's order, whatever order they ran in.
  runs: workloads.flatMap((w) =>
    CONTENDERS.flatMap((c) => runs.filter((r) => r.workload === w.name && r.contender === c)),
  ),
};
const dir = join(root, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const base = { full: 'http', quick: 'http-quick', custom: 'http-custom' }[mode];
const markdown = renderMarkdown(report);
writeFileSync(join(dir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(dir, `${base}.md`), markdown);
writeFileSync(join(dir, `${base}.svg`), renderChart(report));
if (mode === 'full') log(await updateReadme(markdown));
log(`done in ${elapsed()}: bench/results/${base}.{json,md,svg}`);
process.stdout.write(markdown);
