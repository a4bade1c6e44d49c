// Fuzzes the pool with mutated images, raw inputs and random options (see test/fuzz/), as many cases as
// asked, and prints the counts: results, each error code, crashes, stderr bytes, mismatches.
//
//   npm run fuzz -- --cases 100000            a random seed (printed)
//   npm run fuzz -- --seed 123 --cases 5000   replays a run
//   npm run fuzz -- --seed 123 --case 4711    replays one case and prints its outcome
//   options: --chunk N (cases per child process), --window N (in flight at once), --save DIR (write the
//   cases' encoded bytes there), --json (print the summary as JSON)
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { runFuzz } from '../test/fuzz/harness.ts';
import { clean, formatSummary } from '../test/fuzz/summary.ts';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    cases: { type: 'string', default: '2000' },
    case: { type: 'string' },
    chunk: { type: 'string', default: '5000' },
    window: { type: 'string', default: '1000' },
    save: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

const seed = values.seed !== undefined ? Number(values.seed) : Math.floor(Math.random() * 2 ** 31);
const one = values.case !== undefined ? Number(values.case) : undefined;
const cases = one !== undefined ? 1 : Number(values.cases);
for (const [name, v] of Object.entries({ seed, cases, chunk: Number(values.chunk), window: Number(values.window) })) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} must be a non-negative integer`);
}
if (values.save) mkdirSync(values.save, { recursive: true });

if (!values.json)
  process.stdout.write(`fuzz seed ${seed}${one !== undefined ? `, case ${one}` : `, ${cases} cases`}\n`);
const summary = await runFuzz({
  seed,
  cases,
  first: one ?? 0,
  chunk: Number(values.chunk),
  window: Number(values.window),
  save: values.save,
  progress: (s) => {
    if (!values.json && one === undefined && cases > Number(values.chunk)) {
      process.stdout.write(
        `  ${s.ran} cases, ${s.crashes.length} crashes, ${s.mismatchCount} mismatches, ${s.stderrBytes} stderr bytes\n`,
      );
    }
  },
});
process.stdout.write(`${values.json ? JSON.stringify(summary, null, 2) : formatSummary(summary)}\n`);
process.exitCode = clean(summary) ? 0 : 1;
