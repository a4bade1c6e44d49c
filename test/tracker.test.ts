// The native ByteTrack tracker (loadBinding().Tracker) on synthetic streams: ids that stay with
// their objects, -1 for detections no track holds, per-instance ids and reset(), and the argument
// checks (INVALID_ARGUMENT). The tracking itself is covered in depth by native/tests/bytetrack_tests.cpp.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadBinding } from '../lib/native.ts';
import type { NativeTracker, NativeTrackerOptions } from '../lib/native.ts';

const { Tracker } = loadBinding();

const DEFAULTS: NativeTrackerOptions = {
  trackActivationThreshold: 0.25,
  lostTrackBuffer: 30,
  minimumMatchingThreshold: 0.8,
  frameRate: 30,
  minimumConsecutiveFrames: 1,
};

interface Det {
  cx: number;
  cy: number;
  w: number;
  h: number;
  score: number;
  classId?: number;
}

function frame(tracker: NativeTracker, dets: Det[]): number[] {
  const boxes = new Float32Array(dets.length * 4);
  const scores = new Float32Array(dets.length);
  const classIds = new Int32Array(dets.length);
  dets.forEach((d, i) => {
    boxes.set([d.cx - d.w / 2, d.cy - d.h / 2, d.cx + d.w / 2, d.cy + d.h / 2], i * 4);
    scores[i] = d.score;
    classIds[i] = d.classId ?? 0;
  });
  const ids = tracker.update(boxes, scores, classIds);
  assert.instance(ids, Int32Array);
  assert.is(ids.length, dets.length);
  return Array.from(ids);
}

/** Throws an Error with code INVALID_ARGUMENT and a message matching `message`. */
function throwsInvalid(fn: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  assert.instance(error, Error, 'expected a throw');
  assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
  assert.match((error as Error).message, message);
}

test('objects moving on straight lines keep their ids; ids start at 1', () => {
  const tracker = new Tracker(DEFAULTS);
  for (let f = 0; f < 60; f++) {
    const ids = frame(tracker, [
      { cx: 50 + 4 * f, cy: 100, w: 40, h: 80, score: 0.9, classId: 0 },
      { cx: 600 - 3 * f, cy: 300 + f, w: 60, h: 60, score: 0.7, classId: 2 },
      { cx: 300, cy: 500 - 2 * f, w: 30, h: 20, score: 0.5, classId: 1 },
    ]);
    assert.equal(ids, [1, 2, 3], `frame ${f}`);
  }
});

test('-1: low confidence never starts a track, a new track shows its id from its second frame', () => {
  const tracker = new Tracker(DEFAULTS);
  assert.equal(frame(tracker, [{ cx: 100, cy: 100, w: 40, h: 40, score: 0.9 }]), [1]);
  const lowOnly = { cx: 400, cy: 400, w: 50, h: 50, score: 0.2 };
  for (let f = 1; f < 10; f++) {
    const ids = frame(tracker, [{ cx: 100 + f, cy: 100, w: 40, h: 40, score: 0.9 }, lowOnly]);
    assert.equal(ids, [1, -1], `frame ${f}`);
  }
  // The tracked object fading to a low score keeps its id (ByteTrack's second association).
  for (let f = 10; f < 20; f++) {
    const ids = frame(tracker, [{ cx: 100 + f, cy: 100, w: 40, h: 40, score: 0.15 }, lowOnly]);
    assert.equal(ids, [1, -1], `frame ${f}`);
  }
  // A new confident object: no id on its first frame, its own id from the next.
  const newcomer = { cx: 700, cy: 200, w: 40, h: 40, score: 0.8 };
  assert.equal(frame(tracker, [{ cx: 120, cy: 100, w: 40, h: 40, score: 0.9 }, newcomer]), [1, -1]);
  assert.equal(frame(tracker, [{ cx: 121, cy: 100, w: 40, h: 40, score: 0.9 }, newcomer]), [1, 2]);
  assert.equal(frame(tracker, []), []);
});

test('an object gone for less than lostTrackBuffer frames comes back with its id; longer, with a new one', () => {
  const run = (gap: number, options: NativeTrackerOptions = DEFAULTS): number[] => {
    const tracker = new Tracker(options);
    const ids: number[] = [];
    let f = 0;
    for (; f < 10; f++) frame(tracker, [{ cx: 100 + f, cy: 100, w: 40, h: 40, score: 0.9 }]);
    for (let k = 0; k < gap; k++, f++) frame(tracker, []);
    for (let k = 0; k < 2; k++, f++) ids.push(...frame(tracker, [{ cx: 100 + f, cy: 100, w: 40, h: 40, score: 0.9 }]));
    return ids;
  };
  assert.equal(run(10), [1, 1]);
  assert.equal(run(40), [-1, 2]);
  assert.equal(run(10, { ...DEFAULTS, lostTrackBuffer: 5 }), [-1, 2]);
  // The buffer is for 30 fps: at 60 fps it lasts twice as many frames.
  assert.equal(run(40, { ...DEFAULTS, frameRate: 60 }), [1, 1]);
});

test('minimumConsecutiveFrames delays ids; ids are per tracker; reset() starts over', () => {
  const a = new Tracker({ ...DEFAULTS, minimumConsecutiveFrames: 3 });
  const seen: number[] = [];
  for (let f = 0; f < 6; f++) seen.push(...frame(a, [{ cx: 100 + f, cy: 100, w: 40, h: 40, score: 0.9 }]));
  assert.equal(seen, [-1, -1, -1, 1, 1, 1]);

  const b = new Tracker(DEFAULTS);
  frame(b, [
    { cx: 100, cy: 100, w: 40, h: 40, score: 0.9 },
    { cx: 300, cy: 100, w: 40, h: 40, score: 0.9 },
  ]);
  const c = new Tracker(DEFAULTS);
  assert.equal(frame(c, [{ cx: 300, cy: 100, w: 40, h: 40, score: 0.9 }]), [1], 'a second tracker counts from 1');
  b.reset();
  assert.equal(frame(b, [{ cx: 300, cy: 100, w: 40, h: 40, score: 0.9 }]), [1], 'reset: ids and frames start over');
});

test('options: missing ones take the defaults, bad ones throw INVALID_ARGUMENT', () => {
  const partial = new Tracker({ lostTrackBuffer: 5 } as unknown as NativeTrackerOptions);
  assert.equal(frame(partial, [{ cx: 1, cy: 1, w: 2, h: 2, score: 0.9 }]), [1]);
  const bad: [Partial<NativeTrackerOptions>, RegExp][] = [
    [{ trackActivationThreshold: 1.5 }, /trackActivationThreshold/],
    [{ trackActivationThreshold: -0.1 }, /trackActivationThreshold/],
    [{ minimumMatchingThreshold: Number.NaN }, /minimumMatchingThreshold/],
    [{ lostTrackBuffer: -1 }, /lostTrackBuffer/],
    [{ lostTrackBuffer: 2.5 }, /lostTrackBuffer.*integer/],
    [{ frameRate: 0 }, /frameRate/],
    [{ frameRate: Number.POSITIVE_INFINITY }, /frameRate/],
    [{ minimumConsecutiveFrames: 0 }, /minimumConsecutiveFrames/],
    [{ minimumConsecutiveFrames: '3' as unknown as number }, /minimumConsecutiveFrames/],
  ];
  for (const [options, message] of bad) throwsInvalid(() => new Tracker({ ...DEFAULTS, ...options }), message);
  throwsInvalid(() => new Tracker(42 as unknown as NativeTrackerOptions), /options must be an object/);
});

test('update() checks its arrays: types and lengths', () => {
  const tracker = new Tracker(DEFAULTS);
  const boxes = new Float32Array([0, 0, 10, 10, 20, 20, 30, 30]);
  const scores = new Float32Array([0.9, 0.9]);
  const classIds = new Int32Array([0, 0]);
  assert.equal(Array.from(tracker.update(boxes, scores, classIds)), [1, 2]);
  throwsInvalid(() => tracker.update(boxes.subarray(0, 7), scores, classIds), /4 numbers per score/);
  throwsInvalid(() => tracker.update(boxes, scores, new Int32Array(3)), /classIds one per score/);
  throwsInvalid(() => tracker.update(boxes, scores.subarray(0, 1), classIds.subarray(0, 1)), /4 numbers per score/);
  throwsInvalid(
    () => tracker.update(Array.from(boxes) as unknown as Float32Array, scores, classIds),
    /boxes must be a Float32Array/,
  );
  throwsInvalid(() => tracker.update(boxes, new Float64Array(2) as unknown as Float32Array, classIds), /scores/);
  throwsInvalid(() => tracker.update(boxes, scores, new Float32Array(2) as unknown as Int32Array), /classIds/);
  // A subarray view is read at its offset.
  const padded = new Float32Array([99, 99, 99, 99, 0, 0, 10, 10, 20, 20, 30, 30]);
  assert.equal(Array.from(tracker.update(padded.subarray(4), scores, classIds)), [1, 2]);
});

test.run();
