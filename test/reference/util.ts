// Small assertions shared by the detection and segmentation tests.
import * as assert from 'uvu/assert';

import type { DetectionResult, InferencePool } from '../../lib/index.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls until `check` holds; fails after `timeoutMs` (a generous bound, not a timing assertion). */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) assert.unreachable(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

export function close(actual: number, expected: number, tolerance: number, label: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${label}: ${actual} is not within ${tolerance} of ${expected} (off by ${Math.abs(actual - expected)})`,
  );
}

/** The result's boxes as [x1, y1, x2, y2] tuples. */
export function boxesOf(r: DetectionResult): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < r.scores.length; i++) out.push(Array.from(r.boxes.subarray(4 * i, 4 * i + 4)));
  return out;
}

export function assertBoxes(r: DetectionResult, expected: number[][], tolerance: number, label: string): void {
  assert.is(r.scores.length, expected.length, `${label}: detection count`);
  expected.forEach((e, i) => {
    for (let k = 0; k < 4; k++) close(r.boxes[4 * i + k]!, e[k]!, tolerance, `${label}: box ${i} coordinate ${k}`);
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The invariants every detection result keeps: arrays of one length, predictions in the arrays' order and
 * consistent with them (x, y the box centre, width/height its size, class the id's name), best first,
 * boxes inside the image, UUIDs well formed and distinct (`seen` collects them across results).
 */
export function assertConsistent(
  r: DetectionResult,
  classNames: string[] | null,
  label: string,
  seen?: Set<string>,
): void {
  const n = r.predictions.length;
  assert.is(r.scores.length, n, `${label}: scores length`);
  assert.is(r.classIds.length, n, `${label}: classIds length`);
  assert.is(r.boxes.length, 4 * n, `${label}: boxes length`);
  assert.instance(r.boxes, Float32Array);
  assert.instance(r.scores, Float32Array);
  assert.instance(r.classIds, Int32Array);
  const ids = seen ?? new Set<string>();
  for (let i = 0; i < n; i++) {
    const p = r.predictions[i]!;
    const [x1, y1, x2, y2] = [r.boxes[4 * i]!, r.boxes[4 * i + 1]!, r.boxes[4 * i + 2]!, r.boxes[4 * i + 3]!];
    const what = `${label}: prediction ${i}`;
    close(p.x, (x1 + x2) / 2, 1e-9, `${what} x`);
    close(p.y, (y1 + y2) / 2, 1e-9, `${what} y`);
    close(p.width, x2 - x1, 1e-9, `${what} width`);
    close(p.height, y2 - y1, 1e-9, `${what} height`);
    assert.is(p.confidence, r.scores[i], `${what} confidence`);
    assert.is(p.class_id, r.classIds[i], `${what} class_id`);
    if (classNames) assert.is(p.class, classNames[p.class_id], `${what} class`);
    assert.ok(x1 >= 0 && y1 >= 0 && x2 <= r.image.width && y2 <= r.image.height, `${what} inside the image`);
    assert.ok(x1 <= x2 && y1 <= y2, `${what} ordered corners`);
    if (i > 0) assert.ok(r.scores[i - 1]! >= r.scores[i]!, `${what}: best first`);
    assert.match(p.detection_id, UUID, `${what} detection_id is a UUID`);
    assert.not.ok(ids.has(p.detection_id), `${what} detection_id is unique`);
    ids.add(p.detection_id);
  }
}

/** Waits until `count` requests for `id` sit in its queue (batching held). */
export async function waitQueued(pool: InferencePool, id: string, count: number): Promise<void> {
  await waitFor(() => (pool.stats()[id]?.queueDepth ?? 0) >= count, `${count} queued requests for ${id}`);
}
