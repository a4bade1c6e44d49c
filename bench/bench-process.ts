// Shared by the benchmark entries that run each sample in a process of its own: spawning a child
// that prints `RESULT <json>`, and what the report says about the machine.
import { spawnSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');

export function benchChild<T>(script: string, job: object): T {
  const r = spawnSync(process.execPath, [tsx, script, JSON.stringify(job)], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || !line) throw new Error(`bench child failed (${JSON.stringify(job)}):\n${r.stderr}`);
  return JSON.parse(line.slice('RESULT '.length)) as T;
}

export function machine() {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The 1, 5 and 15 minute load averages: other work on a shared machine shows here. */
export function loadAverage(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}
