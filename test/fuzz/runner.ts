// The fuzz child process: runs cases [from, to) of a seed twice and prints a JSON summary as its last
// stdout line. Run by test/fuzz/harness.ts, which watches this process's exit and stderr.
//
//  1. alone: a fresh pool, one request at a time, in case order;
//  2. interleaved: another fresh pool, every case again in a shuffled order with up to `window` requests
//     in flight, valid and corrupt inputs mixed in the same batches.
// A case's two outcomes must be identical: a result depends only on its own input.
//
// Before each case of the first phase this process writes a marker line ("@@fuzz@@ alone <i> <label>")
// to its own stderr. The harness removes the markers; anything left was written by the library, and the
// marker before it names the case that wrote it (or, after a crash, the case that was running).
//
// Usage: tsx test/fuzz/runner.ts --seed S --from A --to B [--window W] [--save DIR]
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { InferencePool } from '../../lib/index.ts';
import type { InferenceResult } from '../../lib/index.ts';
import { prng } from '../helpers/images.ts';
import { makeCase, modelSpecs } from './cases.ts';
import type { FuzzCase } from './cases.ts';
import { buildCorpus } from './corpus.ts';
import { fromError, fromResult, outcomeKey, outcomeText } from './outcome.ts';
import type { Outcome } from './outcome.ts';
import { measure } from './resources.ts';
import { MARKER, noteCost } from './summary.ts';
import type { ChunkSummary } from './summary.ts';

const CASE_TIMEOUT_MS = 30_000;
const SAMPLES = 20;

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes a marker line straight to fd 2, before the request starts, so it lands in order with what native
 * code writes there. Once Node has opened process.stderr on a socket the fd is non-blocking, and a full
 * pipe (a busy parent) answers EAGAIN: wait a millisecond and go on, rather than die of it.
 */
function marker(text: string): void {
  let bytes = Buffer.from(`${MARKER} ${text.replace(/\s+/g, ' ')}\n`);
  while (bytes.length > 0) {
    try {
      bytes = bytes.subarray(writeSync(2, bytes));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** Settles a case's request: never throws, whatever the pool does. */
async function run(pool: InferencePool, c: FuzzCase, tasks: Map<string, string>): Promise<Outcome> {
  let promise: Promise<InferenceResult>;
  try {
    promise = pool.infer(c.input as Parameters<InferencePool['infer']>[0], c.model, c.options as object);
  } catch (error) {
    return fromError(error, 'threw');
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ kind: 'bad', what: `not settled after ${CASE_TIMEOUT_MS} ms` }),
      CASE_TIMEOUT_MS,
    );
  });
  const settled = promise.then(
    (r) => fromResult(r, tasks.get(c.model)),
    (e: unknown) => fromError(e, 'rejected'),
  );
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      window: { type: 'string', default: '1000' },
      save: { type: 'string' },
    },
  });
  const seed = Number(values.seed);
  const from = Number(values.from);
  const to = Number(values.to);
  const window = Math.max(1, Number(values.window));
  if (!Number.isInteger(seed) || !Number.isInteger(from) || !Number.isInteger(to) || to < from) {
    throw new Error('usage: runner.ts --seed S --from A --to B [--window W] [--save DIR]');
  }
  const started = performance.now();
  const corpus = await buildCorpus();
  const cases: FuzzCase[] = [];
  for (let i = from; i < to; i++) cases.push(makeCase(corpus, seed, i));
  if (values.save) {
    for (const c of cases) {
      if (c.input instanceof Uint8Array) writeFileSync(join(values.save, `seed${seed}-case${c.index}.bin`), c.input);
    }
  }
  const summary: ChunkSummary = {
    seed,
    from,
    to,
    results: 0,
    errors: {},
    bad: [],
    badCount: 0,
    mismatches: [],
    mismatchCount: 0,
    outcomes: [],
    heaviest: [],
    slowest: [],
    overLimitCount: 0,
    overLimit: [],
    ms: { setup: 0, alone: 0, interleaved: 0 },
  };
  const specs = modelSpecs();
  const tasks = new Map(specs.map((s) => [s.id, s.task]));
  summary.ms.setup = performance.now() - started;

  // 1. Alone.
  let t = performance.now();
  const alone: Outcome[] = [];
  let pool = await InferencePool.create({ models: specs });
  for (const c of cases) {
    marker(`alone ${c.index} ${c.label}`);
    const done = measure();
    const o = await run(pool, c, tasks);
    const cost = done();
    alone.push(o);
    noteCost(summary, c, cost);
    if (o.kind === 'result') summary.results++;
    else if (o.kind === 'error') summary.errors[o.code] = (summary.errors[o.code] ?? 0) + 1;
    else {
      summary.badCount++;
      if (summary.bad.length < SAMPLES)
        summary.bad.push({ index: c.index, label: c.label, phase: 'alone', what: o.what });
    }
    if (cases.length <= SAMPLES)
      summary.outcomes.push({ index: c.index, label: c.label, outcome: outcomeText(o, 2000) });
  }
  marker('closing');
  await pool.close();
  summary.ms.alone = performance.now() - t;

  // 2. Interleaved: shuffled, `window` in flight.
  marker('interleaved');
  t = performance.now();
  pool = await InferencePool.create({ models: specs, maxQueueSize: window + 16 });
  const order = cases.map((_, k) => k);
  const rand = prng(seed ^ 0x5bd1e995);
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(rand() * (k + 1));
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  let next = 0;
  const worker = async () => {
    while (next < order.length) {
      const k = order[next++]!;
      const c = cases[k]!;
      const o = await run(pool, c, tasks);
      const before = alone[k]!;
      if (o.kind === 'bad') {
        summary.badCount++;
        if (summary.bad.length < SAMPLES)
          summary.bad.push({ index: c.index, label: c.label, phase: 'interleaved', what: o.what });
      } else if (outcomeKey(o) !== outcomeKey(before)) {
        summary.mismatchCount++;
        if (summary.mismatches.length < SAMPLES) {
          summary.mismatches.push({
            index: c.index,
            label: c.label,
            alone: outcomeText(before),
            interleaved: outcomeText(o),
          });
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, order.length) }, worker));
  marker('closing');
  await pool.close();
  summary.ms.interleaved = performance.now() - t;
  marker('done');
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

await main();
