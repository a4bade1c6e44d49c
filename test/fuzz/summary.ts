// What a fuzz run reports: the child's per-chunk summary, the whole run's totals (with what the harness
// saw from outside: crashes and stderr), and the text printed for people.

/** Starts the lines the runner writes to its own stderr to say which case runs (see runner.ts). */
export const MARKER = '@@fuzz@@';

export interface Sample {
  index: number;
  label: string;
}

export interface ChunkSummary {
  seed: number;
  from: number;
  to: number;
  /** Alone phase: requests that resolved. */
  results: number;
  /** Alone phase: rejections by InferencePoolError code. */
  errors: Record<string, number>;
  /** Either phase: anything else (a plain Error, a synchronous throw, a malformed result, a hang). */
  badCount: number;
  bad: (Sample & { phase: string; what: string })[];
  /** Interleaved outcome differs from the alone one. */
  mismatchCount: number;
  mismatches: (Sample & { alone: string; interleaved: string })[];
  /** Each case's outcome, for short runs (a replay). */
  outcomes: (Sample & { outcome: string })[];
  /** Alone phase: the cases that raised peak memory most, and the slowest. */
  heaviest: CostSample[];
  slowest: CostSample[];
  /** Alone phase: cases over LIMITS. */
  overLimitCount: number;
  overLimit: CostSample[];
  ms: { setup: number; alone: number; interleaved: number };
}

export type CostSample = Sample & { peakMb: number; ms: number };

export interface Crash {
  /** The case running when the process died (alone phase), or the phase. */
  at: string;
  exit: string;
  stderrTail: string;
}

export interface StderrSample {
  /** The case (alone phase) or phase that was running when the bytes were written. */
  at: string;
  text: string;
}

export interface FuzzSummary {
  seed: number;
  cases: number;
  /** Cases that ran through the alone phase (fewer than `cases` after a crash). */
  ran: number;
  results: number;
  errors: Record<string, number>;
  badCount: number;
  bad: ChunkSummary['bad'];
  mismatchCount: number;
  mismatches: ChunkSummary['mismatches'];
  crashes: Crash[];
  stderrBytes: number;
  stderr: StderrSample[];
  outcomes: ChunkSummary['outcomes'];
  heaviest: CostSample[];
  slowest: CostSample[];
  overLimitCount: number;
  overLimit: CostSample[];
  ms: number;
}

const SAMPLES = 20;

export function emptySummary(seed: number, cases: number): FuzzSummary {
  return {
    seed,
    cases,
    ran: 0,
    results: 0,
    errors: {},
    badCount: 0,
    bad: [],
    mismatchCount: 0,
    mismatches: [],
    crashes: [],
    stderrBytes: 0,
    stderr: [],
    outcomes: [],
    heaviest: [],
    slowest: [],
    overLimitCount: 0,
    overLimit: [],
    ms: 0,
  };
}

export function addChunk(total: FuzzSummary, chunk: ChunkSummary): void {
  total.ran += chunk.to - chunk.from;
  total.results += chunk.results;
  for (const [code, n] of Object.entries(chunk.errors)) total.errors[code] = (total.errors[code] ?? 0) + n;
  total.badCount += chunk.badCount;
  total.bad.push(...chunk.bad.slice(0, SAMPLES - total.bad.length));
  total.mismatchCount += chunk.mismatchCount;
  total.mismatches.push(...chunk.mismatches.slice(0, SAMPLES - total.mismatches.length));
  total.outcomes.push(...chunk.outcomes);
  total.overLimitCount += chunk.overLimitCount;
  total.overLimit.push(...chunk.overLimit.slice(0, SAMPLES - total.overLimit.length));
  for (const c of chunk.heaviest) keepTop(total.heaviest, c, 'peakMb');
  for (const c of chunk.slowest) keepTop(total.slowest, c, 'ms');
}

const TOP = 5;

// One request's limits. Decoding an image at the pool's default limit of 50 Mpx takes 150 MiB, a few
// copies of it (conversion, resize) some hundreds more; beyond 1 GiB a request is allocating by a number
// it was given (a class id, a header field), not by its pixels. 10 s is 100 times the slowest legitimate
// case seen here (a 3000x2000 picture with 300 masks).
export const LIMITS = { peakMb: 1024, ms: 10_000 };

export function overLimit(c: { peakMb: number; ms: number }): boolean {
  return c.peakMb > LIMITS.peakMb || c.ms > LIMITS.ms;
}

function keepTop(list: CostSample[], sample: CostSample, by: 'peakMb' | 'ms'): void {
  if (list.length === TOP && !(sample[by] > list[TOP - 1]![by])) return;
  list.push(sample);
  list.sort((a, b) => b[by] - a[by]);
  list.length = Math.min(list.length, TOP);
}

export function noteCost(summary: ChunkSummary, c: Sample, cost: { peakMb: number; ms: number }): void {
  const sample = { index: c.index, label: c.label, peakMb: Math.round(cost.peakMb), ms: Math.round(cost.ms) };
  if (overLimit(sample)) {
    summary.overLimitCount++;
    if (summary.overLimit.length < SAMPLES) summary.overLimit.push(sample);
  }
  keepTop(summary.heaviest, sample, 'peakMb');
  keepTop(summary.slowest, sample, 'ms');
}

export function addStderr(total: FuzzSummary, at: string, text: string): void {
  total.stderrBytes += Buffer.byteLength(text);
  if (total.stderr.length < SAMPLES)
    total.stderr.push({ at, text: text.length > 400 ? `${text.slice(0, 400)}…` : text });
}

/** True when the run met the contract: no crash, nothing on stderr, no stray errors, no mismatches. */
export function clean(s: FuzzSummary): boolean {
  return (
    s.crashes.length === 0 &&
    s.stderrBytes === 0 &&
    s.badCount === 0 &&
    s.mismatchCount === 0 &&
    s.overLimitCount === 0 &&
    s.ran === s.cases
  );
}

export function formatSummary(s: FuzzSummary): string {
  const lines = [
    `fuzz seed ${s.seed}: ${s.ran} of ${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s`,
    `  results      ${s.results}`,
    ...Object.entries(s.errors)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `  ${code.padEnd(12)} ${n}`),
    `  crashes      ${s.crashes.length}`,
    `  stderr bytes ${s.stderrBytes}`,
    `  mismatches   ${s.mismatchCount}`,
    `  bad outcomes ${s.badCount} (not a result nor an InferencePoolError, or never settled)`,
    `  over limits  ${s.overLimitCount} (one request over ${LIMITS.peakMb} MiB or ${LIMITS.ms / 1000} s)`,
  ];
  for (const c of s.crashes) lines.push(`CRASH ${c.exit} at ${c.at}\n    stderr: ${c.stderrTail.trim().slice(-400)}`);
  for (const e of s.stderr) lines.push(`STDERR at ${e.at}\n    ${e.text.trim().replace(/\n/g, '\n    ')}`);
  for (const m of s.mismatches) {
    lines.push(`MISMATCH case ${m.index}: ${m.label}\n    alone:       ${m.alone}\n    interleaved: ${m.interleaved}`);
  }
  for (const b of s.bad) lines.push(`BAD case ${b.index} (${b.phase}): ${b.label}\n    ${b.what}`);
  const cost = (c: CostSample) => `${c.peakMb} MiB ${c.ms} ms case ${c.index}: ${c.label}`;
  for (const c of s.overLimit) lines.push(`OVER LIMIT ${cost(c)}`);
  lines.push('most memory (alone, peak above resident):', ...s.heaviest.map((c) => `  ${cost(c)}`));
  lines.push('slowest (alone):', ...s.slowest.map((c) => `  ${cost(c)}`));
  for (const o of s.outcomes) lines.push(`case ${o.index}: ${o.label}\n    ${o.outcome}`);
  if (!clean(s)) lines.push(`replay one case: npm run fuzz -- --seed ${s.seed} --case <index>`);
  return lines.join('\n');
}
