// Closed-loop load: `concurrency` callers, each sending its next request as soon as the last one
// settles, until `total` requests have completed. Measures what the issue asks for, per run.
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoadResult {
  completed: number;
  seconds: number;
  imagesPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  eventLoopDelayP99Ms: number;
  peakRssMb: number;
  cpuMsPerImage: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `send(i)` for i in [0, total) with `concurrency` in flight. */
export async function runLoad(
  send: (i: number) => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<LoadResult> {
  const latencies: number[] = new Array(total);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 25);
  const cpuStart = process.cpuUsage();
  delay.enable();
  const started = performance.now();
  let next = 0;
  async function caller(): Promise<void> {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await send(i);
      latencies[i] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, caller));
  const seconds = (performance.now() - started) / 1000;
  delay.disable();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  const cpu = process.cpuUsage(cpuStart);
  latencies.sort((a, b) => a - b);
  return {
    completed: total,
    seconds,
    imagesPerSecond: total / seconds,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
    peakRssMb: peakRss / (1 << 20),
    cpuMsPerImage: (cpu.user + cpu.system) / 1000 / total,
  };
}
