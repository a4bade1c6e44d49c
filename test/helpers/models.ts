// The generated models' paths, a few special models built for the tests, and small pool helpers.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

import { GENERATED_DIR } from '../../scripts/make-models.ts';
import { GraphBuilder } from '../../scripts/onnx/builder.ts';
import { InferencePoolError } from '../../lib/index.ts';
import type { ErrorCode } from '../../lib/index.ts';

export { MEAN_COLOR_NAMES, PALETTE } from '../../scripts/models/classifiers.ts';

/** Path of a model written by `npx tsx scripts/make-models.ts`. */
export function modelPath(file: string): string {
  const path = join(GENERATED_DIR, file);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npx tsx scripts/make-models.ts\``);
  return path;
}

export const MODELS = {
  meanColor: 'mean-color.onnx',
  meanColorFixedBatch: 'mean-color-fixed-batch.onnx',
  meanColorNhwc: 'mean-color-nhwc.onnx',
  meanColorNoNames: 'mean-color-no-names.onnx',
  probability: 'probability.onnx',
  palette: 'palette.onnx',
  randomConv: 'random-conv.onnx',
} as const;

/**
 * images [batch, 3, size, size] → values [batch, 3·size·size]: the input tensor itself. With
 * activation 'none' a result's scores are exactly what preprocessing produced.
 */
export function tensorDumpModel(size: number, layout: 'nchw' | 'nhwc' = 'nchw'): Uint8Array {
  const g = new GraphBuilder('tensor_dump');
  const images = g.input('images', layout === 'nchw' ? ['batch', 3, size, size] : ['batch', size, size, 3]);
  g.op('Flatten', [images], { axis: 1 }, { output: 'values' });
  g.output('values', ['batch', 3 * size * size]);
  return g.toBytes();
}

/** Loads, but every run fails inside ONNX Runtime: the Reshape target does not divide the element count. */
export function failingAtRunModel(size = 8): Uint8Array {
  const g = new GraphBuilder('fails_at_run');
  const images = g.input('images', ['batch', 3, size, size]);
  const flat = g.op('Reshape', [images, g.int64('shape', [-1, 7])]);
  g.op('ReduceMean', [flat], { axes: [1], keepdims: 0 }, { output: 'logits' });
  g.output('logits', ['batch']);
  return g.toBytes();
}

/** Runs, but its output is a scalar, so no row belongs to a request: postprocessing must refuse it. */
export function scalarOutputModel(size = 8): Uint8Array {
  const g = new GraphBuilder('scalar_output');
  const images = g.input('images', ['batch', 3, size, size]);
  g.op('ReduceMean', [images], { keepdims: 0 }, { output: 'logits' });
  g.output('logits', []);
  return g.toBytes();
}

/** Rejects with an InferencePoolError of `code`; returns it for further checks. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  message?: RegExp,
): Promise<InferencePoolError> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  assert.ok(error !== undefined, `expected a rejection with ${code}, but it resolved`);
  assert.instance(error, InferencePoolError, `expected an InferencePoolError, got ${String(error)}`);
  const e = error as InferencePoolError;
  assert.is(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
  assert.is(e.name, 'InferencePoolError');
  assert.ok(e.message.length > 10, `message too short: '${e.message}'`);
  if (message) assert.match(e.message, message);
  return e;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails after `timeoutMs` (a generous bound, not a timing assertion). */
export async function waitFor(check: () => boolean, what: string | (() => string), timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) {
      assert.unreachable(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await sleep(2);
  }
}

/** Settles every promise and sorts the outcomes. */
export async function settleAll<T>(promises: Promise<T>[]) {
  const outcomes = await Promise.allSettled(promises);
  const values: T[] = [];
  const errors: unknown[] = [];
  for (const o of outcomes) {
    if (o.status === 'fulfilled') values.push(o.value);
    else errors.push(o.reason);
  }
  return { outcomes, values, errors };
}
