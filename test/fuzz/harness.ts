// Runs fuzz cases in child processes (test/fuzz/runner.ts), a chunk per child, and checks what can only
// be seen from outside: how each child exited, and what it wrote to stderr. The child marks each case on
// its stderr before running it, so stray output and crashes are pinned to a case. After a crash in the
// alone phase the cases around the culprit run again in fresh children, so one crash costs one case.
import { join } from 'node:path';

import { ROOT, runScript } from '../helpers/child.ts';
import { addChunk, addStderr, emptySummary, MARKER } from './summary.ts';
import type { ChunkSummary, FuzzSummary } from './summary.ts';

const RUNNER = join(ROOT, 'test', 'fuzz', 'runner.ts');
const MARKER_LINE = new RegExp(`${MARKER} ([^\\n]*)\\n`, 'g');
const MAX_CRASHES = 20;

export interface FuzzOptions {
  seed: number;
  cases: number;
  /** First case index; default 0. */
  first?: number;
  /** Cases per child process; default 5000. */
  chunk?: number;
  /** Requests in flight in the interleaved phase; default 1000. */
  window?: number;
  /** Write each case's encoded bytes to this folder. */
  save?: string;
  /** Called after each child with the totals so far. */
  progress?: (summary: FuzzSummary) => void;
}

/** Splits the child's stderr at the markers: [what was running, what it wrote] for each stray write. */
function strayOutput(stderr: string): { writes: [string, string][]; last: string } {
  const writes: [string, string][] = [];
  let at = 'startup';
  let from = 0;
  for (const m of stderr.matchAll(MARKER_LINE)) {
    if (m.index > from) writes.push([at, stderr.slice(from, m.index)]);
    at = m[1]!;
    from = m.index + m[0].length;
  }
  if (from < stderr.length) writes.push([at, stderr.slice(from)]);
  return { writes, last: at };
}

function lastJson(stdout: string): ChunkSummary | undefined {
  const line = stdout.trim().split('\n').pop();
  try {
    return line ? (JSON.parse(line) as ChunkSummary) : undefined;
  } catch {
    return undefined;
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const { seed, cases, first = 0, chunk = 5000, window = 1000 } = options;
  const started = performance.now();
  const total = emptySummary(seed, cases);
  const ranges: [number, number][] = [];
  for (let from = first; from < first + cases; from += chunk)
    ranges.push([from, Math.min(first + cases, from + chunk)]);
  while (ranges.length > 0) {
    const [from, to] = ranges.shift()!;
    const args = ['--seed', String(seed), '--from', String(from), '--to', String(to), '--window', String(window)];
    if (options.save) args.push('--save', options.save);
    const run = await runScript(RUNNER, args, 120_000 + 100 * (to - from));
    const { writes, last } = strayOutput(run.stderr);
    for (const [at, text] of writes) addStderr(total, at, text);
    const summary = run.code === 0 && !run.timedOut ? lastJson(run.stdout) : undefined;
    if (summary) {
      addChunk(total, summary);
    } else {
      const exit = run.timedOut ? 'timeout' : run.signal ? `signal ${run.signal}` : `exit ${run.code}`;
      const tail = writes.length > 0 && writes[writes.length - 1]![0] === last ? writes[writes.length - 1]![1] : '';
      total.crashes.push({ at: last, exit, stderrTail: tail.slice(-2000) });
      // Pinned to one case: run the others again. Otherwise the chunk's counts are lost (ran < cases).
      const culprit = /^alone (\d+) /.exec(last);
      if (culprit && total.crashes.length < MAX_CRASHES) {
        const i = Number(culprit[1]);
        if (i > from) ranges.unshift([from, i]);
        if (i + 1 < to) ranges.push([i + 1, to]);
      }
    }
    options.progress?.(total);
  }
  total.ms = performance.now() - started;
  return total;
}
