// Instance segmentation through the pool with constant prototypes: a rectangle, a disc and a constant
// map, so every mask's extent and area is known in advance. Each case is checked three ways:
//  - fast mode against a bitmap computed here straight from the definition (the prototype cell under each
//    pixel centre, and the pixel centre inside the box): exact;
//  - every mode against the JS reference (test/reference/detection.ts), bitmap for bitmap: exact (these
//    prototypes never put a sampled logit within 1e-3 of 0, so float32 vs float64 sums cannot differ);
//  - accurate mode against the analytic area of the shape in original pixels, within the tolerance stated
//    at AREA_TOLERANCE.
// And the polygon (`points`) against the mask: its bounding box is the mask's extent, its vertices are
// set pixels, its shoelace area at most the pixel count (and exactly (w−1)(h−1) for a full rectangle).
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult, InferOptions, InstanceMask, ModelSpec, RawImage } from '../lib/index.ts';
import { constantYolov5Segmenter, constantYolov8Segmenter } from '../scripts/models/detectors.ts';
import { randomYolov8Segmenter } from '../scripts/models/random-yolo.ts';
import { channelsFirst, constantModel } from './reference/models.ts';
import {
  checkPolygon,
  decodeDetections,
  decodeMask,
  imageTransform,
  maskExtent,
  polygonArea,
  polygonBounds,
} from './reference/detection.ts';
import type { MaskMode, Transform } from './reference/detection.ts';
import { flat, scene } from './reference/images.ts';
import { assertConsistent, close, sleep, waitQueued } from './reference/util.ts';

const IN = 64; // input side
const P = 16; // prototype side: stride 4
const NM = 3;
const NAMES = ['rect', 'disc', 'full'];

// Prototype values at cell (j, i) (column, row), whose centre is input pixel ((j + 0.5)·4, (i + 0.5)·4).
// Rectangle: input x in [16, 40), y in [12, 32): in prototype coordinates the edges are 3.5, 9.5 and 2.5, 7.5,
// and the map is the signed distance to the nearest edge, linear across each edge (so bilinear sampling puts
// the boundary exactly on the edge, away from the corners).
const RECT = { x0: 16, x1: 40, y0: 12, y1: 32 };
const rectValue = (j: number, i: number) => Math.min(j - 3.5, 9.5 - j, i - 2.5, 7.5 - i);
// Disc: centre input (44, 44), radius 12: prototype centre (10.5, 10.5), radius 3.
const DISC = { cx: 44, cy: 44, r: 12 };
const discValue = (j: number, i: number) => 3 - Math.hypot(j - 10.5, i - 10.5);

const protos = new Float32Array(NM * P * P);
for (let i = 0; i < P; i++) {
  for (let j = 0; j < P; j++) {
    protos[i * P + j] = rectValue(j, i);
    protos[P * P + i * P + j] = discValue(j, i);
    protos[2 * P * P + i * P + j] = 1;
  }
}

interface Instance {
  name: string;
  /** Input-pixel corners. */
  box: [number, number, number, number];
  classId: number;
  score: number;
  coeffs: number[];
}

// Listed out of score order, so the pool must fetch each kept candidate's coefficients by its anchor.
const INSTANCES: Instance[] = [
  // Constant map: the mask is every pixel whose centre is in the box. Box edges between pixel centres.
  { name: 'full', box: [2.25, 44.625, 20.375, 61.75], classId: 2, score: 0.7, coeffs: [0, 0, 1] },
  // The whole rectangle, inside a larger box.
  { name: 'rect', box: [10, 6, 50, 40], classId: 0, score: 0.9, coeffs: [1, 0, 0] },
  // The rectangle's map again, but the box lies inside the rectangle: the mask is cropped to the box.
  { name: 'inner', box: [20, 16, 30, 24], classId: 0, score: 0.6, coeffs: [1, 0, 0] },
  // The disc, with a box that covers it.
  { name: 'disc', box: [28, 28, 60, 60], classId: 1, score: 0.8, coeffs: [0, 1, 0] },
  // A small box near the top-left corner: in the top bar when a 2:1 picture is letterboxed, where it
  // collapses to a zero-height box (an empty bitmap, no polygon).
  { name: 'corner', box: [2, 2, 12, 10], classId: 2, score: 0.55, coeffs: [0, 0, 1] },
];
const BY_SCORE = [...INSTANCES].sort((a, b) => b.score - a.score);

function v8Box(inst: Instance) {
  const [x1, y1, x2, y2] = inst.box;
  const scores = [0, 0, 0];
  scores[inst.classId] = inst.score;
  return { cx: (x1 + x2) / 2, cy: (y1 + y2) / 2, w: x2 - x1, h: y2 - y1, scores, coeffs: inst.coeffs };
}

const segmenter = constantYolov8Segmenter({
  inputSize: [IN, IN],
  classes: 3,
  names: NAMES,
  nm: NM,
  protoSize: [P, P],
  protos,
  boxes: INSTANCES.map(v8Box),
});
const segmenterV5 = constantYolov5Segmenter({
  inputSize: [IN, IN],
  classes: 3,
  names: NAMES,
  nm: NM,
  protoSize: [P, P],
  protos,
  // objectness 1: the same scores as the v8 model.
  boxes: INSTANCES.map((inst) => ({ ...v8Box(inst), objectness: 1 })),
});
// The v8 head as the reference reads it: [4 + 3 + 3, 4].
const head = channelsFirst(
  INSTANCES.map((inst) => {
    const b = v8Box(inst);
    return [b.cx, b.cy, b.w, b.h, ...b.scores, ...b.coeffs];
  }),
);

const randomSegmenter = randomYolov8Segmenter({ inputSize: [96, 96], classes: 5, nm: 8, seed: 11 });

const models: ModelSpec[] = [
  { id: 'seg', path: segmenter, task: 'instance-segmentation' },
  { id: 'seg-stretch', path: segmenter, task: 'instance-segmentation', resize: 'stretch' },
  { id: 'seg-v5', path: segmenterV5, task: 'instance-segmentation' },
  { id: 'random-seg', path: randomSegmenter, task: 'instance-segmentation' },
];
const pool = await InferencePool.create({ maxBatchSize: 8, models });
const ids = new Set<string>();

interface Case {
  label: string;
  width: number;
  height: number;
  resize: 'letterbox' | 'stretch';
  /** Rectangle and disc lie wholly inside the picture (their analytic areas apply). */
  inside: boolean;
}

// Scales chosen as powers of two (and one that is not), wider and taller than the input, down and up.
const CASES: Case[] = [
  { label: 'identity 64x64', width: 64, height: 64, resize: 'letterbox', inside: true },
  {
    label: 'letterbox wider 128x96 (scale 1/2, bars of 8 top and bottom)',
    width: 128,
    height: 96,
    resize: 'letterbox',
    inside: true,
  },
  {
    label: 'letterbox taller 96x128 (scale 1/2, bars of 8 left and right)',
    width: 96,
    height: 128,
    resize: 'letterbox',
    inside: true,
  },
  {
    label: 'letterbox wider 128x64 (scale 1/2, bars of 16: shapes cut by the image)',
    width: 128,
    height: 64,
    resize: 'letterbox',
    inside: false,
  },
  { label: 'letterbox upscale 32x16 (scale 2)', width: 32, height: 16, resize: 'letterbox', inside: false },
  { label: 'stretch 128x32 (x 1/2, y 2)', width: 128, height: 32, resize: 'stretch', inside: true },
  { label: 'stretch 48x80 (x 4/3, y 4/5)', width: 48, height: 80, resize: 'stretch', inside: true },
];

const MODES: Array<{ mode: MaskMode; factor?: number }> = [
  { mode: 'fast' },
  { mode: 'accurate' },
  { mode: 'tradeoff', factor: 0 },
  { mode: 'tradeoff', factor: 1 / 3 }, // a 32-cell grid
  { mode: 'tradeoff', factor: 0.5 }, // 40 cells: some cell centres fall exactly on the rectangle's edges
  { mode: 'tradeoff', factor: 1 },
];

function modelId(c: Case) {
  return c.resize === 'stretch' ? 'seg-stretch' : 'seg';
}

async function segment(id: string, image: RawImage, options: InferOptions) {
  const r = await pool.infer<DetectionResult>(image, id, options);
  assert.is(r.task, 'instance-segmentation');
  assertConsistent(r, NAMES, id, ids);
  return r;
}

/** Fast mode straight from the definition: the sign of the prototype cell under each pixel centre. */
function fastBitmap(
  inst: Instance,
  t: Transform,
  box: number[],
): { data: Uint8Array; width: number; height: number; left: number; top: number } {
  const left = Math.floor(box[0]!);
  const top = Math.floor(box[1]!);
  const width = Math.min(Math.ceil(box[2]!), t.originalWidth) - left;
  const height = Math.min(Math.ceil(box[3]!), t.originalHeight) - top;
  const data = new Uint8Array(width * height);
  const cell = (pixel: number, scale: number, pad: number) =>
    Math.min(P - 1, Math.max(0, Math.floor((((pixel + 0.5) * scale + pad) * P) / IN)));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const cx = left + x + 0.5;
      const cy = top + y + 0.5;
      if (cx < box[0]! || cx > box[2]! || cy < box[1]! || cy > box[3]!) continue;
      const j = cell(left + x, t.scaleX, t.padX);
      const i = cell(top + y, t.scaleY, t.padY);
      const v = inst.coeffs[0]! * rectValue(j, i) + inst.coeffs[1]! * discValue(j, i) + inst.coeffs[2]!;
      data[y * width + x] = v > 0 ? 1 : 0;
    }
  }
  return { data, width, height, left, top };
}

function assertSameBitmap(
  actual: InstanceMask,
  expected: { data: Uint8Array; width: number; height: number; left: number; top: number },
  label: string,
) {
  assert.equal(
    [actual.left, actual.top, actual.width, actual.height],
    [expected.left, expected.top, expected.width, expected.height],
    `${label}: left, top, width, height`,
  );
  let differ = 0;
  let first = '';
  for (let i = 0; i < expected.data.length; i++) {
    if (actual.data[i] !== expected.data[i]) {
      if (!differ)
        first = ` (first at x ${(i % expected.width) + expected.left}, y ${Math.floor(i / expected.width) + expected.top}: ${actual.data[i]} vs ${expected.data[i]})`;
      differ++;
    }
  }
  assert.is(differ, 0, `${label}: ${differ} of ${expected.data.length} pixels differ${first}`);
}

/** Polygon vs mask: bounding box = the mask's extent, vertices on set pixels, area at most the pixel count. */
function assertPolygon(points: { x: number; y: number }[] | undefined, mask: InstanceMask, label: string) {
  assert.ok(points, `${label}: points`);
  const e = maskExtent(mask);
  if (e.area === 0) {
    assert.is(points!.length, 0, `${label}: an empty mask has no polygon`);
    return;
  }
  assert.ok(points!.length >= 1, `${label}: a polygon`);
  assert.equal(
    polygonBounds(points!),
    { minX: e.minX, maxX: e.maxX, minY: e.minY, maxY: e.maxY },
    `${label}: polygon bounds`,
  );
  for (const p of points!) {
    const x = p.x - mask.left;
    const y = p.y - mask.top;
    assert.ok(
      x >= 0 && y >= 0 && x < mask.width && y < mask.height && mask.data[y * mask.width + x] === 1,
      `${label}: vertex (${p.x}, ${p.y}) on a set pixel`,
    );
  }
  const problem = checkPolygon(points, mask);
  assert.is(problem, null, `${label}: ${problem}`);
  const area = polygonArea(points!);
  assert.ok(area <= e.area, `${label}: polygon area ${area} ≤ pixel count ${e.area}`);
  // The contour runs through the centres of the boundary pixels: it leaves out at most about half a pixel
  // along the perimeter (bounded by the extent's half perimeter + 1 for these convex shapes).
  const w = e.maxX - e.minX + 1;
  const h = e.maxY - e.minY + 1;
  assert.ok(area >= e.area - (w + h) - 1, `${label}: polygon area ${area} vs pixel count ${e.area} (extent ${w}x${h})`);
}

// Accurate mode, shapes wholly inside the picture: the analytic areas in original pixels.
//  - rectangle: 24 × 20 input px less its four corners, which bilinear sampling of min(edge distances) rounds
//    off: the region wx·wy < 1/2 of the corner's cell quarter, 16·(ln2/2 − 1/4) = 1.545 input px² each;
//  - disc: π·12² input px².
// Divided by scaleX·scaleY. Tolerance: the digitisation error, bounded by half the shape's perimeter in
// original pixels (measured: at most 23% of that bound here; printed after the run).
const RECT_AREA = (RECT.x1 - RECT.x0) * (RECT.y1 - RECT.y0) - 4 * 16 * (Math.LN2 / 2 - 0.25);
const DISC_AREA = Math.PI * DISC.r * DISC.r;

function areaTolerance(name: string, t: Transform): number {
  const perimeter =
    name === 'rect'
      ? 2 * ((RECT.x1 - RECT.x0) / t.scaleX + (RECT.y1 - RECT.y0) / t.scaleY)
      : 2 * Math.PI * Math.sqrt(((DISC.r / t.scaleX) ** 2 + (DISC.r / t.scaleY) ** 2) / 2);
  return perimeter / 2;
}

let worstAreaRatio = 0;

for (const c of CASES) {
  test(`masks under ${c.label}: every mode vs the reference, fast vs the definition, accurate vs the analytic area, polygons`, async () => {
    const t = imageTransform(c.width, c.height, IN, IN, c.resize);
    const image = flat(c.width, c.height);
    const expected = decodeDetections(
      head.data,
      [1, ...head.dims],
      { layout: 'yolov8', numMasks: NM, confidence: 0.5 },
      t,
    );
    assert.equal(
      expected.map((d) => d.classId),
      BY_SCORE.map((i) => i.classId),
    );
    for (const { mode, factor } of MODES) {
      const label = `${c.label}, ${mode}${factor === undefined ? '' : ` ${factor}`}`;
      const r = await segment(modelId(c), image, {
        confidence: 0.5,
        maskDecodeMode: mode,
        tradeoffFactor: factor,
        returnMasks: true,
      });
      assert.ok(r.masks, `${label}: masks`);
      assert.is(r.masks!.length, BY_SCORE.length, `${label}: one mask per prediction`);
      assert.equal(
        Array.from(r.classIds),
        expected.map((d) => d.classId),
        `${label}: classes`,
      );
      assert.equal(
        Array.from(r.boxes),
        expected.flatMap((d) => d.box),
        `${label}: boxes`,
      );
      BY_SCORE.forEach((inst, k) => {
        const what = `${label}, ${inst.name}`;
        const mask = r.masks![k]!;
        const box = expected[k]!.box;
        // The bitmap covers [floor(x1), ceil(x2)) × [floor(y1), ceil(y2)) of the clipped box.
        assert.equal(
          [mask.left, mask.top, mask.left + mask.width, mask.top + mask.height],
          [Math.floor(box[0]), Math.floor(box[1]), Math.ceil(box[2]), Math.ceil(box[3])],
          `${what}: bitmap region`,
        );
        assert.is(mask.data.length, mask.width * mask.height);
        const ref = decodeMask(protos, [NM, P, P], expected[k]!.coeffs, box, t, mode, factor ?? 0);
        assertSameBitmap(mask, ref, `${what} vs reference`);
        // No sampled logit sits near 0, so float32 rounding cannot flip a pixel: the comparison is exact. The
        // exception is a logit of exactly 0 (the 40-cell grid puts cell centres on the rectangle's edges): the
        // values there are dyadic, computed exactly either way, and 0 is outside (the rule is logit > 0).
        for (const v of ref.logits) {
          if (!Number.isNaN(v)) assert.ok(v === 0 || Math.abs(v) > 1e-3, `${what}: logit ${v} near 0`);
        }
        if (mode === 'fast' || (mode === 'tradeoff' && factor === 0)) {
          assertSameBitmap(mask, fastBitmap(inst, t, box), `${what} vs the fast definition`);
        }
        if (mode === 'accurate' && c.inside && (inst.name === 'rect' || inst.name === 'disc')) {
          const analytic = (inst.name === 'rect' ? RECT_AREA : DISC_AREA) / (t.scaleX * t.scaleY);
          const area = maskExtent(mask).area;
          const tolerance = areaTolerance(inst.name, t);
          close(area, analytic, tolerance, `${what}: area vs analytic`);
          worstAreaRatio = Math.max(worstAreaRatio, Math.abs(area - analytic) / tolerance);
        }
        assertPolygon(r.predictions[k]!.points, mask, what);
      });
    }
  });
}

test('fast mode, identity: the rectangle is exactly cells 4..9 × 3..7 (input [16, 40) × [12, 32)), crops and box rule', async () => {
  const r = await segment('seg', flat(IN, IN), { confidence: 0.5, maskDecodeMode: 'fast', returnMasks: true });
  const [rect, disc, full, inner] = r.masks!;
  // The rectangle: 24 × 20 pixels at (16, 12), and its polygon the four corners' pixel centres.
  assert.equal(maskExtent(rect!), { area: 480, minX: 16, maxX: 39, minY: 12, maxY: 31 });
  assert.is(polygonArea(r.predictions[0]!.points!), 23 * 19, 'a full w×h rectangle encloses (w−1)(h−1)');
  // The disc: cells within 3 of (10.5, 10.5), each 4 × 4 pixels.
  let cells = 0;
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) if (discValue(j, i) > 0) cells++;
  assert.equal(maskExtent(disc!).area, cells * 16);
  // The constant map: box [2.25, 20.375] × [44.625, 61.75]: bitmap [2, 21) × [44, 62), but column 20
  // (centre 20.5 > 20.375) and row 44 (centre 44.5 < 44.625) lie outside the box.
  assert.equal([full!.left, full!.top, full!.width, full!.height], [2, 44, 19, 18]);
  assert.equal(maskExtent(full!), { area: 18 * 17, minX: 2, maxX: 19, minY: 45, maxY: 61 });
  for (let y = 0; y < full!.height; y++) assert.is(full!.data[y * full!.width + 18], 0, 'column 20 clear');
  for (let x = 0; x < full!.width; x++) assert.is(full!.data[x], 0, 'row 44 clear');
  // Inside the rectangle the box [20, 30] × [16, 24] is the whole mask: centres 20.5 … 29.5, 16.5 … 23.5.
  assert.equal([inner!.left, inner!.top, inner!.width, inner!.height], [20, 16, 10, 8]);
  assert.equal(maskExtent(inner!), { area: 80, minX: 20, maxX: 29, minY: 16, maxY: 23 });
  assert.is(polygonArea(r.predictions[3]!.points!), 9 * 7);
});

test('a box that falls wholly in a letterbox bar: zero-height box, empty bitmap, no polygon', async () => {
  // 128x64: scale 1/2, bars of 16 top and bottom; the corner box's y range [2, 10] maps to [-28, -12].
  const r = await segment('seg', flat(128, 64), { confidence: 0.5, returnMasks: true });
  const k = r.predictions.length - 1;
  assert.is(r.scores[k], Math.fround(0.55));
  assert.equal(Array.from(r.boxes.subarray(4 * k, 4 * k + 4)), [4, 0, 24, 0]);
  const m = r.masks![k]!;
  assert.equal([m.left, m.top, m.width, m.height, m.data.length], [4, 0, 20, 0, 0]);
  assert.equal(r.predictions[k]!.points, []);
});

// An end-to-end segmentation head [b, K, 6 + nm] (metadata end2end=True): rows x1, y1, x2, y2, score, class,
// then the coefficients; no NMS. Its masks are those of the YOLOv8 model with the same boxes.
test('end-to-end segmenter: coefficients after the 6 box values, the same masks as the YOLOv8 head', async () => {
  const rows = INSTANCES.map((inst) => [...inst.box, inst.score, inst.classId, ...inst.coeffs]);
  const bytes = constantModel(
    [IN, IN],
    [
      { name: 'output0', dims: [rows.length, 6 + NM], data: Float32Array.from(rows.flat()) },
      { name: 'output1', dims: [NM, P, P], data: protos },
    ],
    { names: `{0: 'rect', 1: 'disc', 2: 'full'}`, task: 'segment', end2end: 'True', imgsz: `[${IN}, ${IN}]` },
  );
  await pool.loadModel({ id: 'seg-e2e', path: bytes, task: 'instance-segmentation' });
  for (const [w, h] of [
    [128, 96],
    [48, 80],
  ]) {
    for (const mode of ['fast', 'accurate'] as const) {
      const o: InferOptions = { confidence: 0.5, returnMasks: true, maskDecodeMode: mode };
      const [a, b] = await Promise.all([segment('seg', flat(w!, h!), o), segment('seg-e2e', flat(w!, h!), o)]);
      // The v8 decode rounds the corners through cx ± w/2; these corners are exact either way.
      assert.equal(Array.from(b.boxes), Array.from(a.boxes), `${w}x${h} ${mode} boxes`);
      assert.equal(Array.from(b.classIds), Array.from(a.classIds));
      b.masks!.forEach((m, i) => assertSameBitmap(m, a.masks![i]!, `${w}x${h} ${mode} e2e mask ${i}`));
    }
  }
  await pool.unloadModel('seg-e2e');
});

test('a box edge exactly on a pixel centre includes that pixel (the box is inclusive)', async () => {
  // Identity: the rect instance's box [10, 6, 50, 40] has no centre on an edge; the full instance's x1 = 2.25 …
  // Use stretch 128x128 (scale 1/2): the full box maps to [4.5, 40.75] × [89.25, 123.5]: x1 = 4.5 is pixel 4's
  // centre, y2 = 123.5 is pixel 123's centre; both are in.
  const r = await segment('seg-stretch', flat(128, 128), {
    confidence: 0.5,
    maskDecodeMode: 'fast',
    returnMasks: true,
  });
  const full = r.masks![2]!;
  assert.equal(Array.from(r.boxes.subarray(8, 12)), [4.5, 89.25, 40.75, 123.5]);
  const e = maskExtent(full);
  // Columns 4 (centre 4.5 = x1) … 40; rows 89 (centre 89.5 ≥ 89.25) … 123 (centre 123.5 = y2).
  assert.equal([e.minX, e.maxX, e.minY, e.maxY], [4, 40, 89, 123]);
  assert.is(e.area, 37 * 35);
});

test('tradeoff: factor 0 is fast, factor 1 is accurate, and 0.5 works on a 40-cell grid', async () => {
  const image = flat(128, 96);
  const run = (o: InferOptions) => segment('seg', image, { confidence: 0.5, returnMasks: true, ...o });
  const [fast, accurate, t0, t1, half] = await Promise.all([
    run({ maskDecodeMode: 'fast' }),
    run({ maskDecodeMode: 'accurate' }),
    run({ maskDecodeMode: 'tradeoff', tradeoffFactor: 0 }),
    run({ maskDecodeMode: 'tradeoff', tradeoffFactor: 1 }),
    run({ maskDecodeMode: 'tradeoff', tradeoffFactor: 0.5 }),
  ]);
  fast.masks!.forEach((m, i) => assert.equal(m.data, t0.masks![i]!.data, `mask ${i}: tradeoff 0 = fast`));
  accurate.masks!.forEach((m, i) => assert.equal(m.data, t1.masks![i]!.data, `mask ${i}: tradeoff 1 = accurate`));
  // The disc differs between the modes (its boundary is not on the prototype grid).
  assert.not.equal(fast.masks![1]!.data, accurate.masks![1]!.data, 'fast and accurate discs differ');
  assert.not.equal(half.masks![1]!.data, accurate.masks![1]!.data, 'the 40-cell disc is neither');
  assert.not.equal(half.masks![1]!.data, fast.masks![1]!.data, 'the 40-cell disc is neither');
  assert.ok(maskExtent(half.masks![0]!).area > 0);
});

test('default mask mode is accurate; returnMasks false gives no masks but the same polygons', async () => {
  const image = flat(128, 96);
  const [withMasks, defaults, accurate] = await Promise.all([
    segment('seg', image, { confidence: 0.5, returnMasks: true, maskDecodeMode: 'accurate' }),
    segment('seg', image, { confidence: 0.5 }),
    segment('seg', image, { confidence: 0.5, returnMasks: false, maskDecodeMode: 'accurate' }),
  ]);
  assert.is(defaults.masks, undefined, 'returnMasks defaults to false');
  assert.is(accurate.masks, undefined, 'returnMasks false');
  for (const r of [defaults, accurate]) {
    assert.is(r.predictions.length, INSTANCES.length);
    r.predictions.forEach((p, i) => assert.equal(p.points, withMasks.predictions[i]!.points, `polygon ${i}`));
  }
});

test('YOLOv5 segmenter (objectness 1): the same detections, masks and polygons as the YOLOv8 one', async () => {
  for (const c of [CASES[1]!, CASES[4]!]) {
    const image = flat(c.width, c.height);
    for (const mode of ['fast', 'accurate'] as const) {
      const o: InferOptions = { confidence: 0.5, returnMasks: true, maskDecodeMode: mode };
      const [a, b] = await Promise.all([segment('seg', image, o), segment('seg-v5', image, o)]);
      assert.equal(Array.from(b.boxes), Array.from(a.boxes));
      assert.equal(Array.from(b.scores), Array.from(a.scores));
      b.masks!.forEach((m, i) => assertSameBitmap(m, a.masks![i]!, `${c.label} ${mode} v5 mask ${i}`));
      b.predictions.forEach((p, i) => assert.equal(p.points, a.predictions[i]!.points));
    }
  }
});

test('YOLOv5 segmenter: objectness scales the score and the coefficients still follow the anchor', async () => {
  // classFilter 'disc' keeps the disc instance only (other anchors score 0 for it).
  const r = await segment('seg-v5', flat(IN, IN), {
    confidence: 0.5,
    classFilter: ['disc'],
    returnMasks: true,
    maskDecodeMode: 'fast',
  });
  assert.is(r.predictions.length, 1);
  assert.is(r.predictions[0]!.class, 'disc');
  let cells = 0;
  for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) if (discValue(j, i) > 0) cells++;
  assert.is(maskExtent(r.masks![0]!).area, cells * 16);
});

test('segmentation batch: held and released as one batch, each image gets its own masks (random model)', async () => {
  const images = [scene(96, 96, 21), scene(160, 90, 22), scene(70, 120, 23), scene(96, 96, 24)];
  const options: InferOptions = { confidence: 0.35, iouThreshold: 0.5, returnMasks: true, maskDecodeMode: 'accurate' };
  const alone: DetectionResult[] = [];
  for (const image of images) alone.push(await pool.infer<DetectionResult>(image, 'random-seg', options));
  assert.ok(
    alone.every((r) => r.predictions.length > 0),
    `detections on every image (${alone.map((r) => r.predictions.length)})`,
  );
  pool._holdBatching(true);
  let together: DetectionResult[];
  try {
    await sleep(60); // let a waiting instance thread see the hold (see detection.test.ts)
    const pending = images.map((image) => pool.infer<DetectionResult>(image, 'random-seg', options));
    await waitQueued(pool, 'random-seg', images.length);
    pool._holdBatching(false);
    together = await Promise.all(pending);
  } finally {
    pool._holdBatching(false);
  }
  together.forEach((r, i) => {
    assert.is(r.batchSize, images.length);
    assert.equal(Array.from(r.boxes), Array.from(alone[i]!.boxes), `image ${i} boxes`);
    assert.equal(Array.from(r.scores), Array.from(alone[i]!.scores), `image ${i} scores`);
    r.masks!.forEach((m, k) => assertSameBitmap(m, alone[i]!.masks![k]!, `image ${i} mask ${k}`));
    r.predictions.forEach((p, k) =>
      assert.equal(p.points, alone[i]!.predictions[k]!.points, `image ${i} polygon ${k}`),
    );
  });
});

test.after(async () => {
  await pool.close();
  console.log(
    `accurate-mode area error: at most ${(worstAreaRatio * 100).toFixed(0)}% of the tolerance (half the perimeter)`,
  );
});

test.run();
