// Object detection through the pool with constant-output models (the raw head is known exactly, so every
// expected box, score and class is computed by hand from the contract), plus batch integrity on a
// random-weight model whose output depends on the image.
//
// Boxes: the constant heads hold small integers and halves, so where the resize scale is a power of two
// the expected original-pixel boxes are exact; elsewhere they are (v − pad)/scale in float64 rounded to
// float32, and compared within 1e-3 px.
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult, ImageInput, InferOptions, ModelSpec } from '../lib/index.ts';
import {
  constantEndToEndDetector,
  constantYolov5Detector,
  constantYolov8Detector,
} from '../scripts/models/detectors.ts';
import type { Yolov8Box } from '../scripts/models/detectors.ts';
import { randomYolov8Detector } from '../scripts/models/random-yolo.ts';
import { decodeDetections, imageTransform } from './reference/detection.ts';
import { flat, scene } from './reference/images.ts';
import { channelsFirst, constantModel } from './reference/models.ts';
import { assertBoxes, assertConsistent, boxesOf, close, sleep, waitQueued } from './reference/util.ts';

const NAMES = ['cat', 'dog', 'bird'];
const IN = 100; // input side of the constant models

/** A v8 anchor from corners, with one class scored. */
function box(x1: number, y1: number, x2: number, y2: number, classId: number, score: number, classes = 3): Yolov8Box {
  const scores = new Array<number>(classes).fill(0);
  scores[classId] = score;
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1, scores };
}

// Geometry: three boxes in input pixels, one inside, one over the top-left corner, one over the bottom-right.
const GEOMETRY_INPUT = [
  [40, 45, 60, 55],
  [-5, 20, 15, 40],
  [85, 67, 105, 77],
];
const geometry = constantYolov8Detector({
  inputSize: [IN, IN],
  classes: 3,
  names: NAMES,
  boxes: GEOMETRY_INPUT.map(([x1, y1, x2, y2], i) => box(x1!, y1!, x2!, y2!, i, 0.9 - 0.1 * i)),
});

// NMS: A and B (IoU exactly 0.5) of class 0, C on B's box in class 1, D far away in class 0.
const NMS_BOXES = [
  box(0, 0, 30, 20, 0, 0.9), // A
  box(10, 0, 40, 20, 0, 0.8), // B: IoU(A, B) = 400 / 800
  box(10, 0, 40, 20, 1, 0.7), // C
  box(60, 60, 80, 80, 0, 0.6), // D
];
// A chain: B overlaps A (IoU 0.5), C overlaps B (IoU 0.5) but A only by 0.2.
const CHAIN_BOXES = [box(0, 0, 30, 20, 0, 0.9), box(10, 0, 40, 20, 0, 0.8), box(20, 0, 50, 20, 0, 0.7)];
// Five disjoint boxes, scores 0.9 … 0.5, listed worst first so anchor order is not score order.
const DISJOINT_BOXES = [0, 1, 2, 3, 4].map((i) => box(20 * i, 0, 20 * i + 10, 10, 0, 0.5 + 0.1 * i)).reverse();
// Ties: equal scores at anchors 0..2 (disjoint boxes), anchor 1 the leftmost.
const TIE_BOXES = [box(40, 0, 50, 10, 0, 0.75), box(0, 0, 10, 10, 0, 0.75), box(80, 0, 90, 10, 0, 0.75)];
// Thresholds: exactly 0.5, the float32 just below 0.5, exactly 0.25.
const BELOW_HALF = Math.fround(0.5 - 2 ** -25);
const THRESHOLD_BOXES = [box(0, 0, 10, 10, 0, 0.5), box(20, 0, 30, 10, 1, BELOW_HALF), box(40, 0, 50, 10, 2, 0.25)];
// Class filter: anchor 0 best cat then dog, anchor 1 best bird.
const FILTER_BOXES: Yolov8Box[] = [
  { cx: 15, cy: 15, w: 10, h: 10, scores: [0.9, 0.6, 0.1] },
  { cx: 65, cy: 65, w: 10, h: 10, scores: [0.2, 0.3, 0.8] },
];

function v8(boxes: Yolov8Box[]) {
  return constantYolov8Detector({ inputSize: [IN, IN], classes: 3, names: NAMES, boxes });
}

const v5 = constantYolov5Detector({
  inputSize: [IN, IN],
  classes: 2,
  names: ['cat', 'dog'],
  boxes: [
    { cx: 10, cy: 10, w: 10, h: 10, objectness: 0.75, scores: [0.5, 0.25] }, // cat 0.375
    { cx: 30, cy: 10, w: 10, h: 10, objectness: 0.5, scores: [0.25, 0.875] }, // dog 0.4375
    { cx: 50, cy: 10, w: 10, h: 10, objectness: 0.375, scores: [1, 0] }, // cat 0.375
    { cx: 70, cy: 10, w: 10, h: 10, objectness: 0.9375, scores: [0.25, 0.125] }, // cat 0.234375: objectness alone passes
    { cx: 90, cy: 10, w: 10, h: 10, objectness: 0.25, scores: [0, 1] }, // dog 0.25
  ],
});

// End-to-end rows, not in score order; two of class 1 overlap heavily (no NMS in the pool for these).
const E2E_ROWS: Array<[number, number, number, number, number, number]> = [
  [10, 10, 30, 30, 0.625, 1],
  [12, 12, 32, 32, 0.875, 1],
  [50, 50, 70, 70, 0.25, 0],
  [0, 0, 5, 5, 0.75, 2],
  [-10, 90, 20, 120, 0.5, 0],
];
const e2e = constantEndToEndDetector({ inputSize: [IN, IN], rows: E2E_ROWS, names: NAMES });

// A YOLOv8-layout head [b, 8, 3] (4 classes, 3 anchors) without any metadata: more channels than anchors,
// so only `outputLayout` can say how to read it.
const UNLABELLED_ROWS = [
  [20, 20, 10, 10, 0.1, 0.8, 0.1, 0.1],
  [50, 50, 20, 20, 0.1, 0.1, 0.1, 0.7],
  [80, 80, 10, 10, 0.1, 0.1, 0.1, 0.1],
];
const unlabelled = channelsFirst(UNLABELLED_ROWS);
const unlabelledModel = constantModel([IN, IN], [{ name: 'output0', ...unlabelled }]);

const RANDOM_SIZE = 96;
const randomModel = randomYolov8Detector({ inputSize: [RANDOM_SIZE, RANDOM_SIZE], classes: 5, seed: 7 });

const models: ModelSpec[] = [
  { id: 'geometry', path: geometry, task: 'object-detection' },
  { id: 'geometry-stretch', path: geometry, task: 'object-detection', resize: 'stretch' },
  {
    id: 'geometry-fixed',
    path: constantYolov8Detector({
      inputSize: [IN, IN],
      classes: 3,
      names: NAMES,
      fixedBatch: true,
      boxes: GEOMETRY_INPUT.map(([x1, y1, x2, y2], i) => box(x1!, y1!, x2!, y2!, i, 0.9 - 0.1 * i)),
    }),
    task: 'object-detection',
  },
  { id: 'nms', path: v8(NMS_BOXES), task: 'object-detection' },
  { id: 'chain', path: v8(CHAIN_BOXES), task: 'object-detection' },
  { id: 'disjoint', path: v8(DISJOINT_BOXES), task: 'object-detection' },
  { id: 'ties', path: v8(TIE_BOXES), task: 'object-detection' },
  { id: 'thresholds', path: v8(THRESHOLD_BOXES), task: 'object-detection' },
  { id: 'filter', path: v8(FILTER_BOXES), task: 'object-detection' },
  { id: 'filter-renamed', path: v8(FILTER_BOXES), task: 'object-detection', classNames: ['lion', 'wolf', 'hawk'] },
  { id: 'v5', path: v5, task: 'object-detection' },
  { id: 'e2e', path: e2e, task: 'object-detection' },
  { id: 'unlabelled-v8', path: unlabelledModel, task: 'object-detection', outputLayout: 'yolov8' },
  { id: 'unlabelled-v11', path: unlabelledModel, task: 'object-detection', outputLayout: 'yolov11' },
  { id: 'v5-as-v8', path: v5, task: 'object-detection', outputLayout: 'yolov8' },
  { id: 'random', path: randomModel, task: 'object-detection' },
];

const pool = await InferencePool.create({ maxBatchSize: 8, models });
const ids = new Set<string>(); // every detection_id of the file

async function detect(id: string, image: ImageInput, options: InferOptions = {}, names: string[] | null = NAMES) {
  const r = await pool.infer<DetectionResult>(image, id, options);
  assert.is(r.task, 'object-detection');
  assertConsistent(r, names, id, ids);
  return r;
}

/** Maps an input-pixel box back through a resize: (v − pad)/scale in float64, float32, clipped. */
function mapped(b: number[], ow: number, oh: number, resize: 'letterbox' | 'stretch'): number[] {
  const t = imageTransform(ow, oh, IN, IN, resize);
  const clip = (v: number, hi: number) => Math.min(Math.max(Math.fround(v), 0), hi);
  return [
    clip((b[0]! - t.padX) / t.scaleX, ow),
    clip((b[1]! - t.padY) / t.scaleY, oh),
    clip((b[2]! - t.padX) / t.scaleX, ow),
    clip((b[3]! - t.padY) / t.scaleY, oh),
  ];
}

test('letterbox, wider original (200x100): scale 1/2, 25 px bars top and bottom, clipped boxes', async () => {
  const r = await detect('geometry', flat(200, 100), { confidence: 0.5 });
  assert.equal(r.image, { width: 200, height: 100 });
  // By hand: x/0.5, (y − 25)/0.5, clipped to 200 × 100.
  assertBoxes(
    r,
    [
      [80, 40, 120, 60],
      [0, 0, 30, 30],
      [170, 84, 200, 100],
    ],
    0,
    'letterbox 200x100',
  );
  assert.equal(Array.from(r.classIds), [0, 1, 2]);
  assert.equal(Array.from(r.scores), [0.9, 0.8, 0.7].map(Math.fround));
  assert.equal(
    r.predictions.map((p) => p.class),
    ['cat', 'dog', 'bird'],
  );
  const p = r.predictions[0]!;
  assert.equal([p.x, p.y, p.width, p.height], [100, 50, 40, 20]);
});

test('letterbox, taller original (100x250): scale 0.4, 30 px bars left and right; boxes in a bar collapse onto the edge', async () => {
  const r = await detect('geometry', flat(100, 250), { confidence: 0.5 });
  // (x − 30)/0.4, y/0.4; the second box lies left of the picture (x2 = 15 < 30) so both x clip to 0,
  // the third lies right of it (x1 = 85 > 70) so both clip to 100.
  assertBoxes(
    r,
    [
      [25, 112.5, 75, 137.5],
      [0, 50, 0, 100],
      [100, 167.5, 100, 192.5],
    ],
    1e-4,
    'letterbox 100x250',
  );
  for (const [i, b] of GEOMETRY_INPUT.entries()) {
    assert.equal(boxesOf(r)[i], mapped(b, 100, 250, 'letterbox'), `box ${i} is the float32 of the float64 mapping`);
  }
});

test('letterbox with an odd ratio (300x170: picture 100x57 at top 21) and an upscale (40x30: 100x75 at top 12)', async () => {
  for (const [w, h] of [
    [300, 170],
    [40, 30],
  ] as const) {
    const t = imageTransform(w, h, IN, IN);
    const r = await detect('geometry', flat(w, h), { confidence: 0.5 });
    assertBoxes(
      r,
      GEOMETRY_INPUT.map((b) => mapped(b, w, h, 'letterbox')),
      1e-3,
      `letterbox ${w}x${h}`,
    );
    if (w === 300) assert.equal([t.padX, t.padY, t.scaleY], [0, 21, 57 / 170]);
    else assert.equal([t.padX, t.padY, t.scaleX, t.scaleY], [0, 12, 2.5, 2.5]);
  }
});

test('stretch: each axis scaled on its own (200x100, 60x150), boxes clipped', async () => {
  const wide = await detect('geometry-stretch', flat(200, 100), { confidence: 0.5 });
  assertBoxes(
    wide,
    [
      [80, 45, 120, 55],
      [0, 20, 30, 40],
      [170, 67, 200, 77],
    ],
    0,
    'stretch 200x100',
  );
  const tall = await detect('geometry-stretch', flat(60, 150), { confidence: 0.5 });
  // x·0.6, y·1.5
  assertBoxes(
    tall,
    [
      [24, 67.5, 36, 82.5],
      [0, 30, 9, 60],
      [51, 100.5, 60, 115.5],
    ],
    1e-4,
    'stretch 60x150',
  );
});

test('at the input size with letterbox the boxes are the head boxes, clipped to the image', async () => {
  const r = await detect('geometry', flat(IN, IN), { confidence: 0.5 });
  assertBoxes(
    r,
    [
      [40, 45, 60, 55],
      [0, 20, 15, 40],
      [85, 67, 100, 77],
    ],
    0,
    'identity',
  );
});

// The letterbox placement is defined on the original size: nw = round(w·r) with r = min(W/w, H/h). A JPEG at least
// 2× the input decodes at 1/2, 1/4 or 1/8 scale (ceil of the size); on this build the placement is then computed
// from the reduced size, and where rounding differs the picture is one pixel wider or taller than the contract's
// (401x1203: reduced 101x301 gives nw = 34 instead of 33), so boxes land up to ~2.5 original px off the raw path's.
test('encoded images (PNG, and JPEGs large enough to decode at reduced scale) map boxes like raw pixels', async () => {
  for (const [w, h] of [
    [200, 100],
    [803, 401],
    [401, 1203],
  ] as const) {
    const raw = scene(w, h, w);
    const encoder = () => sharp(Buffer.from(raw.data), { raw: { width: w, height: h, channels: 3 } });
    const [jpeg, png] = await Promise.all([encoder().jpeg({ quality: 90 }).toBuffer(), encoder().png().toBuffer()]);
    const expected = GEOMETRY_INPUT.map((b) => mapped(b, w, h, 'letterbox'));
    for (const [kind, image] of [
      ['raw', raw],
      ['jpeg', jpeg],
      ['png', png],
    ] as const) {
      const r = await detect('geometry', image, { confidence: 0.5 });
      assert.equal(r.image, { width: w, height: h }, `${kind} ${w}x${h} size`);
      assertBoxes(r, expected, 1e-3, `${kind} ${w}x${h}`);
    }
  }
});

test('a model with a fixed batch dimension of 1 gives the same results (requests run one per batch)', async () => {
  const images = [flat(200, 100), flat(100, 250), flat(40, 30)];
  const [fixed, dynamic] = await Promise.all([
    Promise.all(images.map((image) => detect('geometry-fixed', image, { confidence: 0.5 }))),
    Promise.all(images.map((image) => detect('geometry', image, { confidence: 0.5 }))),
  ]);
  fixed.forEach((r, i) => {
    assert.is(r.batchSize, 1);
    assert.equal(Array.from(r.boxes), Array.from(dynamic[i]!.boxes));
    assert.equal(Array.from(r.scores), Array.from(dynamic[i]!.scores));
  });
});

test('NMS: a same-class overlap above the IoU threshold goes, another class on the same box stays', async () => {
  const image = flat(IN, IN);
  const r = await detect('nms', image, { confidence: 0.5, iouThreshold: 0.3 });
  assertBoxes(
    r,
    [
      [0, 0, 30, 20],
      [10, 0, 40, 20],
      [60, 60, 80, 80],
    ],
    0,
    'per class',
  );
  assert.equal(Array.from(r.classIds), [0, 1, 0]);
  assert.equal(Array.from(r.scores), [0.9, 0.7, 0.6].map(Math.fround));

  const agnostic = await detect('nms', image, { confidence: 0.5, iouThreshold: 0.3, classAgnosticNms: true });
  assert.equal(Array.from(agnostic.scores), [0.9, 0.6].map(Math.fround), 'class-agnostic drops B and C');
  assert.equal(Array.from(agnostic.classIds), [0, 0]);
});

test('NMS: IoU equal to the threshold is kept (the rule is IoU > threshold)', async () => {
  const image = flat(IN, IN);
  const at = await detect('nms', image, { confidence: 0.5, iouThreshold: 0.5 });
  assert.equal(Array.from(at.scores), [0.9, 0.8, 0.7, 0.6].map(Math.fround), 'IoU 0.5 at threshold 0.5');
  const below = await detect('nms', image, { confidence: 0.5, iouThreshold: 0.49 });
  assert.equal(Array.from(below.scores), [0.9, 0.7, 0.6].map(Math.fround), 'IoU 0.5 above threshold 0.49');
  const agnosticAt = await detect('nms', image, { confidence: 0.5, iouThreshold: 0.5, classAgnosticNms: true });
  // B kept (IoU 0.5 with A); C has IoU 1 with B: gone.
  assert.equal(Array.from(agnosticAt.scores), [0.9, 0.8, 0.6].map(Math.fround));
  const none = await detect('nms', image, { confidence: 0.5, iouThreshold: 1 });
  assert.is(none.predictions.length, 4, 'threshold 1: nothing suppressed');
});

test('NMS is greedy: in a chain A>B>C, B suppressed by A no longer suppresses C', async () => {
  const r = await detect('chain', flat(IN, IN), { confidence: 0.5, iouThreshold: 0.3 });
  assertBoxes(
    r,
    [
      [0, 0, 30, 20],
      [20, 0, 50, 20],
    ],
    0,
    'chain',
  );
});

test('confidence: a score equal to the threshold is kept, the float32 just below it is not', async () => {
  const image = flat(IN, IN);
  const half = await detect('thresholds', image, { confidence: 0.5 });
  assert.equal(Array.from(half.scores), [0.5]);
  assert.equal(Array.from(half.classIds), [0]);
  const quarter = await detect('thresholds', image, { confidence: 0.25 });
  assert.equal(Array.from(quarter.scores), [0.5, BELOW_HALF, 0.25]);
  const justBelow = await detect('thresholds', image, { confidence: BELOW_HALF });
  assert.equal(Array.from(justBelow.scores), [0.5, BELOW_HALF]);
  const zero = await detect('thresholds', image, { confidence: 0 });
  assert.is(zero.predictions.length, 3);
  const one = await detect('thresholds', image, { confidence: 1 });
  assert.is(one.predictions.length, 0);
});

test('default confidence is 0.4 and default IoU threshold 0.3', async () => {
  const image = flat(IN, IN);
  const t = await detect('thresholds', image);
  assert.equal(Array.from(t.scores), [0.5, BELOW_HALF]);
  const n = await detect('nms', image);
  assert.equal(Array.from(n.scores), [0.9, 0.7, 0.6].map(Math.fround));
});

test('maxDetections keeps the best n, best first', async () => {
  const image = flat(IN, IN);
  const all = await detect('disjoint', image, { confidence: 0.1 });
  assert.equal(Array.from(all.scores), [0.9, 0.8, 0.7, 0.6, 0.5].map(Math.fround));
  assert.equal(
    boxesOf(all).map((b) => b[0]),
    [80, 60, 40, 20, 0],
  );
  const three = await detect('disjoint', image, { confidence: 0.1, maxDetections: 3 });
  assert.equal(Array.from(three.scores), [0.9, 0.8, 0.7].map(Math.fround));
  const zero = await detect('disjoint', image, { confidence: 0.1, maxDetections: 0 });
  assert.is(zero.predictions.length, 0);
});

test('maxCandidates: only the best n enter NMS (the kept count is bounded by it; a chain loses its tail)', async () => {
  const image = flat(IN, IN);
  const disjoint = await detect('disjoint', image, { confidence: 0.1, maxCandidates: 3 });
  assert.equal(Array.from(disjoint.scores), [0.9, 0.8, 0.7].map(Math.fround));
  const zero = await detect('disjoint', image, { confidence: 0.1, maxCandidates: 0 });
  assert.is(zero.predictions.length, 0);
  // Chain: with all three, C survives NMS (B was suppressed by A); with the best two only A is left.
  const full = await detect('chain', image, { confidence: 0.5, iouThreshold: 0.3, maxCandidates: 3 });
  assert.equal(Array.from(full.scores), [0.9, 0.7].map(Math.fround));
  const two = await detect('chain', image, { confidence: 0.5, iouThreshold: 0.3, maxCandidates: 2 });
  assert.equal(Array.from(two.scores), [0.9].map(Math.fround));
  // Candidates under the confidence threshold do not use up maxCandidates.
  const thresholded = await detect('disjoint', image, { confidence: 0.75, maxCandidates: 2 });
  assert.equal(Array.from(thresholded.scores), [0.9, 0.8].map(Math.fround));
});

test('equal scores: lower anchor first, both for maxCandidates and for the order of predictions', async () => {
  const image = flat(IN, IN);
  const all = await detect('ties', image, { confidence: 0.5 });
  assert.equal(
    boxesOf(all).map((b) => b[0]),
    [40, 0, 80],
    'anchor order',
  );
  const one = await detect('ties', image, { confidence: 0.5, maxCandidates: 1 });
  assert.equal(
    boxesOf(one).map((b) => b[0]),
    [40],
  );
  const two = await detect('ties', image, { confidence: 0.5, maxDetections: 2 });
  assert.equal(
    boxesOf(two).map((b) => b[0]),
    [40, 0],
  );
});

test('classFilter by name and by id: the best allowed class of each anchor', async () => {
  const image = flat(IN, IN);
  const all = await detect('filter', image);
  assert.equal(
    all.predictions.map((p) => [p.class, p.confidence]),
    [
      ['cat', Math.fround(0.9)],
      ['bird', Math.fround(0.8)],
    ],
  );
  const dog = await detect('filter', image, { classFilter: ['dog'] });
  assert.equal(
    dog.predictions.map((p) => [p.class, p.confidence]),
    [['dog', Math.fround(0.6)]],
    'anchor 0 as dog; anchor 1 dog 0.3 < 0.4',
  );
  const bird = await detect('filter', image, { classFilter: [2] });
  assert.equal(
    bird.predictions.map((p) => [p.class, p.class_id]),
    [['bird', 2]],
  );
  const mixed = await detect('filter', image, { classFilter: ['dog', 2] });
  assert.equal(
    mixed.predictions.map((p) => p.class),
    ['bird', 'dog'],
  );
  const lowDog = await detect('filter', image, { classFilter: ['dog'], confidence: 0.25 });
  assert.equal(
    lowDog.predictions.map((p) => [p.class, p.confidence]),
    [
      ['dog', Math.fround(0.6)],
      ['dog', Math.fround(0.3)],
    ],
  );
  assert.is((await detect('filter', image, { classFilter: ['zebra'] })).predictions.length, 0, 'unknown name');
  assert.is((await detect('filter', image, { classFilter: [7] })).predictions.length, 0, 'id out of range');
  assert.is((await detect('filter', image, { classFilter: [] })).predictions.length, 2, 'empty filter: no filter');
  // Names given in the model spec replace the metadata's, for results and for the filter.
  const renamed = await detect('filter-renamed', image, { classFilter: ['wolf'] }, ['lion', 'wolf', 'hawk']);
  assert.equal(
    renamed.predictions.map((p) => [p.class, p.class_id]),
    [['wolf', 1]],
  );
  assert.is(
    (await detect('filter-renamed', image, { classFilter: ['dog'] }, null)).predictions.length,
    0,
    'metadata name',
  );
});

test('YOLOv5 layout: score = objectness × best class score, thresholded on the product', async () => {
  const image = flat(IN, IN);
  const names = ['cat', 'dog'];
  const r = await detect('v5', image, { confidence: 0.25 }, names);
  assert.equal(
    r.predictions.map((p) => [p.class, p.confidence, p.x]),
    [
      ['dog', 0.4375, 30],
      ['cat', 0.375, 10],
      ['cat', 0.375, 50],
      ['dog', 0.25, 90],
    ],
  );
  const strict = await detect('v5', image, { confidence: 0.4 }, names);
  assert.equal(
    strict.predictions.map((p) => p.confidence),
    [0.4375],
  );
  const low = await detect('v5', image, { confidence: 0.2 }, names);
  assert.equal(
    low.predictions.map((p) => [p.class, p.confidence]).at(-1),
    ['cat', 0.234375],
    'objectness 0.9375 × 0.25',
  );
  const catOnly = await detect('v5', image, { confidence: 0.1, classFilter: ['cat'] }, names);
  assert.equal(
    catOnly.predictions.map((p) => [p.x, p.confidence]),
    [
      [10, 0.375],
      [50, 0.375],
      [70, 0.234375],
      [30, 0.125],
    ],
    'the best allowed class, times objectness',
  );
});

test('end-to-end: rows as given, no NMS; confidence, classFilter and maxDetections; best first', async () => {
  const image = flat(IN, IN);
  const r = await detect('e2e', image, { confidence: 0.4 });
  assert.equal(Array.from(r.scores), [0.875, 0.75, 0.625, 0.5]);
  assert.equal(Array.from(r.classIds), [1, 2, 1, 0]);
  assertBoxes(
    r,
    [
      [12, 12, 32, 32],
      [0, 0, 5, 5],
      [10, 10, 30, 30],
      [0, 90, 20, 100],
    ],
    0,
    'e2e',
  );
  const top2 = await detect('e2e', image, { confidence: 0.4, maxDetections: 2 });
  assert.equal(Array.from(top2.scores), [0.875, 0.75]);
  const ones = await detect('e2e', image, { confidence: 0.1, classFilter: ['dog'] });
  assert.equal(Array.from(ones.scores), [0.875, 0.625]);
  const low = await detect('e2e', image, { confidence: 0.1 });
  assert.is(low.predictions.length, 5);
  const agnostic = await detect('e2e', image, { confidence: 0.4, iouThreshold: 0.1, classAgnosticNms: true });
  assert.is(agnostic.predictions.length, 4, 'iouThreshold and classAgnosticNms do not apply');
  // Letterbox geometry applies as for the other layouts: 200x100, scale 1/2, bars of 25.
  const wide = await detect('e2e', flat(200, 100), { confidence: 0.7 });
  assertBoxes(
    wide,
    [
      [24, 0, 64, 14],
      [0, 0, 10, 0],
    ],
    0,
    'e2e letterbox',
  );
});

// The contract lists what applies to end-to-end heads: confidence, classFilter, maxDetections (no NMS).
// maxCandidates bounds the candidates that enter NMS, so with no NMS it has nothing to bound.
test('end-to-end: maxCandidates does not limit the rows (there is no NMS)', async () => {
  const r = await detect('e2e', flat(IN, IN), { confidence: 0.4, maxCandidates: 1 });
  assert.equal(Array.from(r.scores), [0.875, 0.75, 0.625, 0.5], 'all four rows above 0.4');
});

test('outputLayout: a head without metadata that only the override can read (yolov8 and its alias yolov11)', async () => {
  const image = flat(IN, IN);
  // [b, 8, 3] read as YOLOv5 would be 3 values per anchor, which no YOLOv5 head has: refused at load or at
  // inference, either way with an error rather than made-up detections.
  let autoError: unknown;
  try {
    await pool.loadModel({ id: 'unlabelled-auto', path: unlabelledModel, task: 'object-detection' });
    await pool.infer(image, 'unlabelled-auto', { confidence: 0.5 });
  } catch (e) {
    autoError = e;
  }
  assert.ok(autoError, 'auto layout cannot read an [N, 8, 3] head without metadata');
  assert.ok(
    ['INFERENCE_FAILED', 'MODEL_LOAD_FAILED'].includes((autoError as { code?: string }).code ?? ''),
    String(autoError),
  );
  const names = ['0', '1', '2', '3'];
  for (const id of ['unlabelled-v8', 'unlabelled-v11']) {
    const r = await detect(id, image, { confidence: 0.5 }, names);
    assert.equal(
      r.predictions.map((p) => [p.class_id, p.confidence]),
      [
        [1, Math.fround(0.8)],
        [3, Math.fround(0.7)],
      ],
      id,
    );
    assertBoxes(
      r,
      [
        [15, 15, 25, 25],
        [40, 40, 60, 60],
      ],
      0,
      id,
    );
  }
});

test('outputLayout: forcing yolov8 on a YOLOv5 head reads it transposed, as the reference does', async () => {
  const image = flat(IN, IN);
  // The head is [1, 5, 7]; read as YOLOv8 it is 7 channels (3 classes) × 5 anchors.
  const session = await ort.InferenceSession.create(v5);
  const out = (await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * IN * IN), [1, 3, IN, IN]) }))
    .output0!;
  const expected = decodeDetections(
    out.data as Float32Array,
    out.dims as number[],
    { layout: 'yolov8', confidence: 0.05 },
    imageTransform(IN, IN, IN, IN),
  );
  await session.release();
  const r = await detect('v5-as-v8', image, { confidence: 0.05 }, null);
  assert.ok(expected.length > 0);
  assert.equal(
    Array.from(r.classIds),
    expected.map((d) => d.classId),
  );
  assert.equal(
    Array.from(r.scores),
    expected.map((d) => d.score),
  );
  assertBoxes(
    r,
    expected.map((d) => d.box),
    0,
    'v5 as v8',
  );
});

test('detection_id: a fresh UUID per prediction, across requests too', async () => {
  const rs = await Promise.all([1, 2, 3].map(() => detect('disjoint', flat(IN, IN), { confidence: 0.1 })));
  const local = new Set<string>();
  for (const r of rs) for (const p of r.predictions) local.add(p.detection_id);
  assert.is(local.size, 15);
});

test('batch integrity: images of different sizes and contents in one batch get exactly their own results', async () => {
  const images = [
    scene(96, 96, 1),
    scene(150, 80, 2),
    scene(80, 150, 3),
    scene(200, 200, 4),
    scene(96, 96, 5),
    scene(33, 47, 6),
  ];
  const options: InferOptions = { confidence: 0.3, iouThreshold: 0.45 };
  const alone: DetectionResult[] = [];
  for (const image of images) alone.push(await detect('random', image, options, null));
  assert.ok(
    alone.every((r) => r.batchSize === 1),
    'run one at a time',
  );
  assert.ok(
    alone.some((r) => r.predictions.length >= 5),
    `a random model with detections (${alone.map((r) => r.predictions.length)})`,
  );

  pool._holdBatching(true);
  let together: DetectionResult[];
  try {
    // An instance thread already blocked waiting for work when the hold begins still takes the next ready
    // request (native/core/model_runner.cpp, InstanceLoop checks the hold only before it waits): let it
    // wake up (kIdleWake is 20 ms) and see the hold before anything arrives.
    await sleep(60);
    const pending = images.map((image) => pool.infer<DetectionResult>(image, 'random', options));
    await waitQueued(pool, 'random', images.length);
    pool._holdBatching(false);
    together = await Promise.all(pending);
  } finally {
    pool._holdBatching(false);
  }
  together.forEach((r, i) => {
    assertConsistent(r, null, `batched ${i}`, ids);
    assert.is(r.batchSize, images.length, 'one batch');
    assert.equal(r.image, { width: images[i]!.width, height: images[i]!.height });
    assert.equal(Array.from(r.classIds), Array.from(alone[i]!.classIds), `image ${i} classes`);
    assert.equal(Array.from(r.scores), Array.from(alone[i]!.scores), `image ${i} scores`);
    assert.equal(Array.from(r.boxes), Array.from(alone[i]!.boxes), `image ${i} boxes`);
  });
  // The images really differ: no two results alike.
  const keys = new Set(together.map((r) => Array.from(r.scores).join(',')));
  assert.is(keys.size, images.length, 'distinct results per image');
});

test('box coordinates stay finite and inside the image on a random model over many sizes', async () => {
  for (const [w, h] of [
    [96, 96],
    [97, 13],
    [13, 97],
    [640, 480],
    [1, 1],
  ] as const) {
    const r = await detect('random', scene(w, h, w + h), { confidence: 0.25 }, null);
    for (const v of r.boxes) assert.ok(Number.isFinite(v));
    close(r.image.width, w, 0, 'width');
  }
});

test.after(async () => {
  await pool.close();
});

test.run();
