// A measured window of mixed load for the scheduling benchmark: closed-loop streams (N in flight,
// each caller sending its next request as soon as the last settles) and open-loop streams (one
// request every T ms), run together. Only what completes inside the window counts for throughput;
// an open-loop request sent inside it is followed to its end (the closed loops keep the pool busy
// meanwhile), so a late one is not left out of the latencies.
import { monitorEventLoopDelay } from 'node:perf_hooks';

import { percentile } from './measure.ts';

export interface Stream {
  label: string;
  /** Closed loop: this many requests in flight. */
  concurrency?: number;
  /** Open loop: one request every this many milliseconds, inside the window only. */
  intervalMs?: number;
  send(i: number, signal: AbortSignal): Promise<unknown>;
}

export interface StreamResult {
  /** Succeeded (closed loop: inside the window; open loop: sent inside it). */
  completed: number;
  /** Rejected with DEADLINE_EXCEEDED (closed loop: inside the window). */
  expired: number;
  /** Any other rejection, by code. */
  failed: Record<string, number>;
  /** completed per second of the window. */
  throughput: number;
  latencyMs: { p50: number; p99: number };
}

export interface WindowResult {
  seconds: number;
  /** CPU seconds this process (every thread of it) used in the window: on a machine shared with other
   * work, throughput per CPU second compares windows whose share of the cores differed. */
  cpuSeconds: number;
  streams: Record<string, StreamResult>;
  eventLoopDelayP99Ms: number;
}

const codeOf = (error: unknown): string => String((error as { code?: unknown })?.code ?? 'UNKNOWN');

interface Tally {
  latencies: number[];
  expired: number;
  failed: Record<string, number>;
}

function countFailure(tally: Tally, error: unknown): void {
  const code = codeOf(error);
  if (code === 'DEADLINE_EXCEEDED') tally.expired++;
  else tally.failed[code] = (tally.failed[code] ?? 0) + 1;
}

export interface WindowOptions {
  /**
   * Count the warm-in from the first answer (waiting at most this many seconds for it) rather than from
   * the start: a server that takes every request in at once answers nothing until it has decoded them
   * all, and a window opened before that would measure the pile-up, not the pace (the HTTP benchmark's
   * plain server at 1000 connections).
   */
  warmInFromFirstAnswerWithin?: number;
  /** Called as the window opens and as it closes (the HTTP loader reads the server's CPU time there). */
  onWindow?: (edge: 'start' | 'end') => void;
}

export async function runWindow(
  streams: Stream[],
  warmInSeconds: number,
  seconds: number,
  options: WindowOptions = {},
): Promise<WindowResult> {
  const controller = new AbortController();
  let answered!: () => void;
  const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
  let stopping = false;
  let start = Infinity;
  let end = Infinity;
  const inWindow = (t: number) => t >= start && t <= end;
  const tallies = new Map<string, Tally>(streams.map((s) => [s.label, { latencies: [], expired: 0, failed: {} }]));

  async function closedLoopCaller(stream: Stream, tally: Tally): Promise<void> {
    let i = 0;
    while (!stopping) {
      const sent = performance.now();
      try {
        await stream.send(i++, controller.signal);
        answered();
        const done = performance.now();
        if (inWindow(done)) tally.latencies.push(done - sent);
      } catch (error) {
        if (stopping) return;
        if (inWindow(performance.now())) countFailure(tally, error);
      }
    }
  }

  const callers: Promise<void>[] = [];
  for (const stream of streams) {
    if (stream.concurrency === undefined) continue;
    const tally = tallies.get(stream.label)!;
    for (let c = 0; c < stream.concurrency; c++) callers.push(closedLoopCaller(stream, tally));
  }

  if (options.warmInFromFirstAnswerWithin !== undefined) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise((resolve) => (timer = setTimeout(resolve, options.warmInFromFirstAnswerWithin! * 1000)));
    await Promise.race([firstAnswer, limit]);
    clearTimeout(timer);
  }
  await new Promise((resolve) => setTimeout(resolve, warmInSeconds * 1000));
  options.onWindow?.('start');
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const cpuStart = process.cpuUsage();
  start = performance.now();
  end = Infinity;
  // Open-loop streams: sent inside the window, each followed to its end.
  const openSends: Promise<void>[] = [];
  const timers = streams
    .filter((s) => s.intervalMs !== undefined)
    .map((stream) => {
      const tally = tallies.get(stream.label)!;
      let i = 0;
      return setInterval(() => {
        const sent = performance.now();
        openSends.push(
          stream.send(i++, new AbortController().signal).then(
            () => void tally.latencies.push(performance.now() - sent),
            (error: unknown) => countFailure(tally, error),
          ),
        );
      }, stream.intervalMs);
    });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  end = performance.now();
  options.onWindow?.('end');
  const cpu = process.cpuUsage(cpuStart);
  delay.disable();
  for (const t of timers) clearInterval(t);
  await Promise.all(openSends);
  stopping = true;
  controller.abort();
  await Promise.all(callers);

  const measured = (end - start) / 1000;
  const results: Record<string, StreamResult> = {};
  for (const [label, tally] of tallies) {
    const sorted = [...tally.latencies].sort((a, b) => a - b);
    results[label] = {
      completed: sorted.length,
      expired: tally.expired,
      failed: tally.failed,
      throughput: sorted.length / measured,
      latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99) },
    };
  }
  return {
    seconds: measured,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    streams: results,
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
  };
}
