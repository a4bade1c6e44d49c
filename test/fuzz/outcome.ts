// How a request ended, as a string that two runs of the same case can be compared by exactly: a result
// without its timing fields, batch size and detection_id UUIDs (everything else — image size, scores,
// classes, boxes, polygons, mask bitmaps — must be the same bit for bit), or an InferencePoolError's code.
// Anything else (a plain Error, a synchronous throw, a result of the wrong shape) is a contract failure.
import { createHash } from 'node:crypto';

import { ERROR_CODES, InferencePoolError } from '../../lib/index.ts';
import type { InferenceResult } from '../../lib/index.ts';

export type Outcome =
  | { kind: 'result'; key: string; text: string }
  | { kind: 'error'; code: string; message: string }
  /** Broke the contract: not a result, not an InferencePoolError with a known code. */
  | { kind: 'bad'; what: string };

const floats = (a: ArrayLike<number> | undefined) => (a ? Array.from(a) : null);

function canonical(r: InferenceResult): unknown {
  if (r.task === 'classification') {
    const { image, predictions, top, confidence, scores } = r;
    return { task: r.task, image, predictions, top, confidence, scores: floats(scores) };
  }
  return {
    task: r.task,
    image: r.image,
    predictions: r.predictions.map(({ detection_id: _id, ...rest }) => rest),
    boxes: floats(r.boxes),
    scores: floats(r.scores),
    classIds: floats(r.classIds),
    masks: r.masks?.map((m) => ({ ...m, data: createHash('sha1').update(m.data).digest('hex') })) ?? null,
  };
}

/** What is wrong with a result's shape, if anything (lengths that disagree, an image without pixels). */
function malformed(r: InferenceResult, task: string | undefined): string | undefined {
  if (task !== undefined && r.task !== task) return `task ${r.task}, model's ${task}`;
  if (!(r.image.width > 0 && r.image.height > 0)) return `image ${r.image.width}x${r.image.height}`;
  if (r.task !== 'classification') {
    const n = r.predictions.length;
    if (r.boxes.length !== 4 * n || r.scores.length !== n || r.classIds.length !== n) return 'array lengths';
    if (r.masks && r.masks.length !== n) return 'mask count';
  }
  return undefined;
}

export function fromResult(result: InferenceResult, task: string | undefined): Outcome {
  const wrong = malformed(result, task);
  if (wrong) return { kind: 'bad', what: `malformed result: ${wrong}` };
  const text = JSON.stringify(canonical(result));
  return { kind: 'result', key: createHash('sha1').update(text).digest('hex'), text };
}

export function fromError(error: unknown, how: 'rejected' | 'threw'): Outcome {
  if (
    how === 'rejected' &&
    error instanceof InferencePoolError &&
    (ERROR_CODES as readonly string[]).includes(error.code)
  ) {
    return { kind: 'error', code: error.code, message: error.message };
  }
  const name = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
  return { kind: 'bad', what: `${how} ${name}` };
}

/** The part two runs must agree on: the result's hash, or the error code. */
export function outcomeKey(o: Outcome): string {
  return o.kind === 'result' ? `result ${o.key}` : o.kind === 'error' ? `error ${o.code}` : `bad ${o.what}`;
}

/** A short form for reports. */
export function outcomeText(o: Outcome, max = 240): string {
  const s = o.kind === 'result' ? o.text : o.kind === 'error' ? `${o.code}: ${o.message}` : o.what;
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
