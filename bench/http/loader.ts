// The HTTP benchmark's load generator, in a process of its own so that the server's event loop is
// measured alone: exactly `concurrency` clients, each on its own keep-alive connection, each posting
// its next image as soon as its last answer has arrived (closed loop, bench/load-window.ts), bodies
// cycling through the benchmark's 1280×720 JPEGs. Every 2xx body must be JSON with a `predictions`
// list. Run by bench/http.ts: `node --import tsx bench/http/loader.ts <job json>`; prints
// `RESULT <json>`.
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import type { Socket } from 'node:net';

import { benchImages } from '../images.ts';
import { cpuSeconds } from '../proc-status.ts';
import { runWindow } from '../load-window.ts';
import type { StreamResult } from '../load-window.ts';
import { httpWorkloadNamed } from './workloads.ts';
import type { HttpWorkload } from './workloads.ts';

export interface LoaderJob {
  url: string;
  workload: string;
  /** 'json': `/infer/<task>` with a base64 image; 'raw': the legacy `/<dataset>/<version>` with the JPEG bytes. */
  mode: 'json' | 'raw';
  concurrency: number;
  warmInSeconds: number;
  seconds: number;
  /** The warm-up counts from the first answer, waited for at most this long (bench/load-window.ts). */
  firstAnswerWithinSeconds: number;
  /** The server's pid, for the CPU it used in the window (/proc; the loader runs on the same machine). */
  serverPid?: number;
}

export interface LoaderResult {
  /** Inside the measured window: 2xx answers with a valid body (throughput, latency) and failures by code. */
  window: StreamResult;
  seconds: number;
  /** Over the whole run, warm-up included: failures by code (`HTTP_<status>` for a non-2xx answer). */
  failuresAllRun: Record<string, number>;
  /** The first message seen for each failure code (the start of the answer's body for a non-2xx). */
  firstFailures: Record<string, string>;
  okAllRun: number;
  /** Connections the clients opened: more than `concurrency` means the server closed some. */
  connectionsOpened: number;
  /** This process's CPU seconds in the window (to see whether the loader itself was short of CPU). */
  loaderCpuSeconds: number;
  /** Mean cores the server process kept busy in the window. */
  serverCpuCores?: number;
  /** Valid answers per second of the run, warm-up included: shows whether the window saw a steady state. */
  timeline: number[];
}

/** A request that did not end in a valid 2xx answer; `code` is how runWindow counts it. */
class RequestFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Request {
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

function requests(w: HttpWorkload, mode: LoaderJob['mode'], jpegs: Buffer[]): Request[] {
  if (mode === 'raw') {
    const query = new URLSearchParams(Object.entries(w.fields).map(([k, v]): [string, string] => [k, String(v)]));
    return jpegs.map((jpeg) => ({
      path: `/${w.modelId}?${query}`,
      headers: { 'content-type': 'image/jpeg' },
      body: jpeg,
    }));
  }
  return jpegs.map((jpeg) => ({
    path: `/infer/${w.task}`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(
      JSON.stringify({ model_id: w.modelId, image: { type: 'base64', value: jpeg.toString('base64') }, ...w.fields }),
    ),
  }));
}

const job = JSON.parse(process.argv[2]!) as LoaderJob;
const w = httpWorkloadNamed(job.workload);
const bodies = requests(
  w,
  job.mode,
  (await benchImages()).map((image) => image.jpeg),
);
const url = new URL(job.url);
// One socket per client, kept open between its requests; none queue in the agent.
const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency, maxFreeSockets: job.concurrency });
const sockets = new WeakSet<Socket>();
let connectionsOpened = 0;
let okAllRun = 0;
const failuresAllRun: Record<string, number> = {};

function post(r: Request, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: r.path,
        headers: { ...r.headers, 'content-length': String(r.body.length) },
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks).toString('utf8');
          if (status < 200 || status >= 300) return reject(new RequestFailure(`HTTP_${status}`, text.slice(0, 200)));
          try {
            const parsed = JSON.parse(text) as { predictions?: unknown };
            if (!Array.isArray(parsed.predictions)) throw new Error('no predictions list');
          } catch (error) {
            return reject(new RequestFailure('INVALID_BODY', `${(error as Error).message}: ${text.slice(0, 200)}`));
          }
          resolve();
        });
      },
    );
    req.on('socket', (socket: Socket) => {
      if (!sockets.has(socket)) {
        sockets.add(socket);
        connectionsOpened++;
      }
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

// One counter for every client, so that the clients' bodies differ from one another at any moment.
let next = 0;
const timeline: number[] = [];
const runStart = performance.now();
// The server's CPU over the window, read as the window opens and closes.
const serverCpu: number[] = [];
const onWindow = () => void (job.serverPid !== undefined && serverCpu.push(cpuSeconds(job.serverPid)));
const firstMessages = new Map<string, string>();
const result = await runWindow(
  [
    {
      label: 'http',
      concurrency: job.concurrency,
      send: async (_i, signal) => {
        setMaxListeners(0, signal); // every request in flight listens to the window's one signal
        try {
          await post(bodies[next++ % bodies.length]!, signal);
          okAllRun++;
          const second = Math.floor((performance.now() - runStart) / 1000);
          while (timeline.length <= second) timeline.push(0);
          timeline[second]!++;
        } catch (error) {
          if (!signal.aborted) {
            const code = String((error as { code?: unknown }).code ?? 'UNKNOWN');
            failuresAllRun[code] = (failuresAllRun[code] ?? 0) + 1;
            const at = ((performance.now() - runStart) / 1000).toFixed(1);
            if (!firstMessages.has(code)) firstMessages.set(code, `at ${at} s: ${(error as Error).message}`);
          }
          throw error;
        }
      },
    },
  ],
  job.warmInSeconds,
  job.seconds,
  { warmInFromFirstAnswerWithin: job.firstAnswerWithinSeconds, onWindow },
);
agent.destroy();
const out: LoaderResult = {
  window: result.streams.http!,
  seconds: result.seconds,
  failuresAllRun,
  firstFailures: Object.fromEntries(firstMessages),
  okAllRun,
  connectionsOpened,
  loaderCpuSeconds: result.cpuSeconds,
  ...(serverCpu.length === 2 ? { serverCpuCores: (serverCpu[1]! - serverCpu[0]!) / result.seconds } : {}),
  timeline,
};
console.log(`RESULT ${JSON.stringify(out)}`);
