// Fuzzing the pool (test/fuzz/): mutated JPEG, PNG, WebP and BMP files, raw pixels of every format with
// wrong lengths and sizes, junk, and random request options, run in a child process once alone and once
// interleaved with all the others. A bounded run here; `npm run fuzz -- --cases 100000` for a long one.
// FUZZ_SEED and FUZZ_CASES override the seed and the count; the seed is printed for a replay.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { runFuzz } from './fuzz/harness.ts';
import { formatSummary } from './fuzz/summary.ts';

const seed = Number(process.env.FUZZ_SEED ?? 1);
const cases = Number(process.env.FUZZ_CASES ?? 4000);

const summary = await runFuzz({ seed, cases });
process.stdout.write(`${formatSummary(summary)}\n`);
const replay = `(replay: npm run fuzz -- --seed ${seed} --cases ${cases}, or one case with --case <index>)`;

test('the runs exercise results and errors alike', () => {
  // A harness whose cases all fail early would test nothing: each kind of outcome must be common.
  const share = (n: number | undefined) => (n ?? 0) / Math.max(1, summary.ran);
  assert.ok(share(summary.results) > 0.2, `only ${summary.results} results of ${summary.ran}`);
  assert.ok(share(summary.errors.INVALID_IMAGE) > 0.1, `only ${summary.errors.INVALID_IMAGE} INVALID_IMAGE`);
  assert.ok(share(summary.errors.INVALID_ARGUMENT) > 0.03, `only ${summary.errors.INVALID_ARGUMENT} INVALID_ARGUMENT`);
});

test('no process crashes', () => {
  const what = summary.crashes.map((c) => `${c.exit} at ${c.at}`).join('\n');
  assert.is(summary.crashes.length, 0, `${what} ${replay}`);
  assert.is(summary.ran, summary.cases, `only ${summary.ran} of ${summary.cases} cases ran`);
});

test('nothing is written to stderr', () => {
  const what = summary.stderr.map((e) => `${e.at}: ${e.text.trim()}`).join('\n');
  assert.is(summary.stderrBytes, 0, `${summary.stderrBytes} bytes, e.g.\n${what}\n${replay}`);
});

test('every request settles with a result or an InferencePoolError with a code', () => {
  const what = summary.bad.map((b) => `case ${b.index} (${b.phase}) ${b.label}: ${b.what}`).join('\n');
  assert.is(summary.badCount, 0, `${what} ${replay}`);
});

test('a result depends only on its own input: alone and interleaved agree exactly', () => {
  const what = summary.mismatches
    .map((m) => `case ${m.index} ${m.label}\n  alone:       ${m.alone}\n  interleaved: ${m.interleaved}`)
    .join('\n');
  assert.is(summary.mismatchCount, 0, `${what}\n${replay}`);
});

test('no request takes over a gigabyte or ten seconds', () => {
  const what = summary.overLimit.map((c) => `${c.peakMb} MiB ${c.ms} ms case ${c.index}: ${c.label}`).join('\n');
  assert.is(summary.overLimitCount, 0, `${what}\n${replay}`);
});

test.run();
