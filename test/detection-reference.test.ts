// The pool against an independent reference on random-weight YOLO-shaped models (outputs depend on the
// image): raw RGB images already at the model's input size, so the pool's preprocessing is only v/255
// (no resize, letterbox scale 1 and no padding); onnxruntime-node runs the model on the tensor made here in
// JS, test/reference/detection.ts decodes it, and the pool's predictions must match.
//
// Tolerances (same runtime, same tensor: the raw outputs are identical, so these are loose bounds):
//  - same count, classes and order; boxes within 1e-3 px, scores within 1e-5;
//  - masks bit for bit, except pixels whose reference logit is within 1e-4 of 0 (the pool sums the
//    prototypes in float32, the reference in float64); how many such pixels were allowed is printed.
// One more test goes through a resize (letterbox and stretch, images larger and smaller than the input)
// with the OpenCV-exact JS resize of test/helpers/reference.ts, to cover the box mapping and mask sampling
// with image-dependent outputs.
import ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult, InferOptions, ModelSpec, RawImage } from '../lib/index.ts';
import {
  randomYolov5Detector,
  randomYolov5Segmenter,
  randomYolov8Detector,
  randomYolov8Segmenter,
} from '../scripts/models/random-yolo.ts';
import { preprocess } from './helpers/reference.ts';
import { checkPolygon, components, decodeDetections, decodeMask, imageTransform } from './reference/detection.ts';
import type { DecodeOptions, Detection, Layout, MaskMode, Transform } from './reference/detection.ts';
import { scene, toTensor } from './reference/images.ts';
import { assertConsistent, close } from './reference/util.ts';

const SIZE = 96;
const CLASSES = 5;
const NM = 8;
const BOX_TOLERANCE = 1e-3;
const SCORE_TOLERANCE = 1e-5;
const LOGIT_TIE = 1e-4;

interface Kind {
  name: string;
  layout: Layout;
  segment: boolean;
  make: (o: { seed: number; inputSize: [number, number]; classes: number }) => Uint8Array;
}

const KINDS: Kind[] = [
  { name: 'v8-detect', layout: 'yolov8', segment: false, make: randomYolov8Detector },
  { name: 'v5-detect', layout: 'yolov5', segment: false, make: randomYolov5Detector },
  { name: 'v8-segment', layout: 'yolov8', segment: true, make: (o) => randomYolov8Segmenter({ ...o, nm: NM }) },
  { name: 'v5-segment', layout: 'yolov5', segment: true, make: (o) => randomYolov5Segmenter({ ...o, nm: NM }) },
];
const SEEDS = [1, 2, 3];

interface Entry {
  id: string;
  kind: Kind;
  bytes: Uint8Array;
  /** Input [w, h]. */
  size: [number, number];
  seed: number;
}
const entries: Entry[] = [];
function addEntry(kind: Kind, seed: number, size: [number, number], suffix = '') {
  const bytes = kind.make({ seed, inputSize: size, classes: CLASSES });
  entries.push({ id: `${kind.name}-${seed}${suffix}`, kind, bytes, size, seed });
}
for (const kind of KINDS) {
  for (const seed of SEEDS) addEntry(kind, seed, [SIZE, SIZE]);
}
// Non-square inputs (prototypes 32×24 and 28×20).
addEntry(KINDS[2]!, 4, [128, 96], '-wide');
addEntry(KINDS[1]!, 5, [80, 112], '-tall');
addEntry(KINDS[3]!, 6, [112, 80], '-wide');

const NAMES = Array.from({ length: CLASSES }, (_, i) => `class${i}`);
const models: ModelSpec[] = entries.map((e) => ({
  id: e.id,
  path: e.bytes,
  task: e.kind.segment ? 'instance-segmentation' : 'object-detection',
}));
for (const e of entries.filter((x) => x.kind.name === 'v8-segment' || x.kind.name === 'v8-detect')) {
  models.push({ ...models.find((m) => m.id === e.id)!, id: `${e.id}-stretch`, resize: 'stretch' });
}

// The pool first, then onnxruntime-node's sessions (see reference.test.ts).
const pool = await InferencePool.create({ maxBatchSize: 8, models });
const sessions = new Map<string, ort.InferenceSession>();
for (const e of entries) sessions.set(e.id, await ort.InferenceSession.create(e.bytes));

/** Five images at an entry's input size. */
function imagesFor(e: Entry): RawImage[] {
  return [1, 2, 3, 4, 5].map((seed) => scene(e.size[0], e.size[1], 100 + seed));
}

interface Raw {
  output0: Float32Array;
  dims0: number[];
  output1?: Float32Array;
  dims1?: number[];
}

/** onnxruntime-node on a batch of float tensors. */
async function runOrt(id: string, tensors: Float32Array[]): Promise<Raw> {
  const [w, h] = entries.find((e) => e.id === id)!.size;
  const batch = new Float32Array(tensors.length * 3 * w * h);
  tensors.forEach((t, i) => batch.set(t, i * t.length));
  const out = await sessions.get(id)!.run({ images: new ort.Tensor('float32', batch, [tensors.length, 3, h, w]) });
  const raw: Raw = { output0: out.output0!.data as Float32Array, dims0: out.output0!.dims as number[] };
  if (out.output1) {
    raw.output1 = out.output1.data as Float32Array;
    raw.dims1 = out.output1.dims as number[];
  }
  return raw;
}

function decodeOptions(kind: Kind, o: InferOptions, batchIndex: number): DecodeOptions {
  return {
    layout: kind.layout,
    confidence: o.confidence,
    iouThreshold: o.iouThreshold,
    classAgnosticNms: o.classAgnosticNms,
    maxDetections: o.maxDetections,
    maxCandidates: o.maxCandidates,
    classFilter: o.classFilter?.map((c) => (typeof c === 'number' ? c : NAMES.indexOf(c))),
    numMasks: kind.segment ? NM : 0,
    batchIndex,
  };
}

const stats = {
  polygons: 0,
  multiComponent: 0,
  requests: 0,
  predictions: 0,
  masks: 0,
  maskPixels: 0,
  tiePixels: 0,
  maxBoxDiff: 0,
  maxScoreDiff: 0,
};

/** The pool's result against the reference decode of onnxruntime-node's output for the same image. */
function compare(
  r: DetectionResult,
  raw: Raw,
  batchIndex: number,
  entry: Entry,
  o: InferOptions,
  t: Transform,
  label: string,
): Detection[] {
  const expected = decodeDetections(raw.output0, raw.dims0, decodeOptions(entry.kind, o, batchIndex), t);
  assertConsistent(r, NAMES, label);
  stats.requests++;
  stats.predictions += expected.length;
  assert.is(r.predictions.length, expected.length, `${label}: prediction count`);
  assert.equal(
    Array.from(r.classIds),
    expected.map((d) => d.classId),
    `${label}: classes in order`,
  );
  expected.forEach((d, i) => {
    const s = Math.abs(r.scores[i]! - d.score);
    stats.maxScoreDiff = Math.max(stats.maxScoreDiff, s);
    close(r.scores[i]!, d.score, SCORE_TOLERANCE, `${label}: score ${i}`);
    for (let k = 0; k < 4; k++) {
      stats.maxBoxDiff = Math.max(stats.maxBoxDiff, Math.abs(r.boxes[4 * i + k]! - d.box[k]!));
      close(r.boxes[4 * i + k]!, d.box[k]!, BOX_TOLERANCE, `${label}: box ${i}[${k}]`);
    }
  });
  if (entry.kind.segment && o.returnMasks) {
    assert.ok(r.masks, `${label}: masks`);
    assert.is(r.masks!.length, expected.length);
    const mode = (o.maskDecodeMode ?? 'accurate') as MaskMode;
    expected.forEach((d, i) => {
      // The pool's own (float32) box decides the crop, as it does in the pool.
      const box = Array.from(r.boxes.subarray(4 * i, 4 * i + 4)) as [number, number, number, number];
      const ref = decodeMask(raw.output1!, raw.dims1!, d.coeffs, box, t, mode, o.tradeoffFactor ?? 0, batchIndex);
      const m = r.masks![i]!;
      assert.equal(
        [m.left, m.top, m.width, m.height],
        [ref.left, ref.top, ref.width, ref.height],
        `${label}: mask ${i} region`,
      );
      stats.masks++;
      stats.maskPixels += ref.data.length;
      for (let p = 0; p < ref.data.length; p++) {
        if (m.data[p] === ref.data[p]) continue;
        const logit = ref.logits[p]!;
        assert.ok(
          Math.abs(logit) < LOGIT_TIE,
          `${label}: mask ${i} pixel (${(p % m.width) + m.left}, ${Math.floor(p / m.width) + m.top}) is ${m.data[p]}, reference ${ref.data[p]} (logit ${logit})`,
        );
        stats.tiePixels++;
      }
      const problem = checkPolygon(r.predictions[i]!.points, m);
      assert.is(problem, null, `${label}: polygon ${i}: ${problem}`);
      if (new Set(m.data).size > 1) stats.polygons++;
      if (components(m).extents.length > 1) stats.multiComponent++;
    });
  }
  if (entry.kind.segment)
    assert.ok(
      r.predictions.every((p) => Array.isArray(p.points)),
      `${label}: points on every prediction`,
    );
  return expected;
}

const DETECT_OPTIONS: InferOptions[] = [
  {},
  { confidence: 0.25, iouThreshold: 0.45 },
  { confidence: 0.25, iouThreshold: 0.5, classAgnosticNms: true },
  { confidence: 0.2, iouThreshold: 0.3, maxCandidates: 12, maxDetections: 6 },
  { confidence: 0.3, iouThreshold: 0.6, classFilter: [1, 'class3'] },
  { confidence: 0.45, iouThreshold: 0.2, maxDetections: 3 },
];

const SEGMENT_OPTIONS: InferOptions[] = [
  { confidence: 0.25, iouThreshold: 0.45, returnMasks: true },
  { confidence: 0.3, iouThreshold: 0.5, returnMasks: true, maskDecodeMode: 'fast' },
  { confidence: 0.3, iouThreshold: 0.5, returnMasks: true, maskDecodeMode: 'tradeoff', tradeoffFactor: 0.4 },
  { confidence: 0.2, iouThreshold: 0.4, classAgnosticNms: true, returnMasks: true, maskDecodeMode: 'accurate' },
  {
    confidence: 0.25,
    maxCandidates: 15,
    maxDetections: 8,
    classFilter: [0, 2, 4],
    returnMasks: true,
    maskDecodeMode: 'fast',
  },
];

for (const kind of KINDS) {
  const mine = entries.filter((x) => x.kind === kind);
  const seeds = mine.map((e) => `${e.seed} (${e.size.join('x')})`).join(', ');
  test(`${kind.name}: raw images at the input size match onnxruntime-node + the JS decoder (seeds ${seeds})`, async () => {
    let total = 0;
    for (const e of mine) {
      const IMAGES = imagesFor(e);
      const t = imageTransform(e.size[0], e.size[1], e.size[0], e.size[1]);
      const raw = await runOrt(e.id, IMAGES.map(toTensor));
      const optionsList = kind.segment ? SEGMENT_OPTIONS : DETECT_OPTIONS;
      for (const [oi, o] of optionsList.entries()) {
        // All images at once, so the pool batches them while the reference decodes each on its own.
        const results = await Promise.all(IMAGES.map((image) => pool.infer<DetectionResult>(image, e.id, o)));
        results.forEach((r, i) => {
          total += compare(r, raw, i, e, o, t, `${e.id} image ${i} options ${oi} ${JSON.stringify(o)}`).length;
        });
      }
    }
    // The models are meant to give a realistic number of detections, not none.
    assert.ok(total > 50, `${kind.name}: only ${total} predictions over every image, seed and option set`);
  });
}

test('the random models give tens of candidates above 0.25 and fewer above 0.5, varying with the image', async () => {
  for (const e of entries) {
    const IMAGES = imagesFor(e);
    const raw = await runOrt(e.id, IMAGES.map(toTensor));
    const counts: Array<[number, number]> = [];
    for (let i = 0; i < IMAGES.length; i++) {
      const at = (c: number) =>
        decodeDetections(
          raw.output0,
          raw.dims0,
          decodeOptions(e.kind, { confidence: c, maxCandidates: 1e6, iouThreshold: 1, maxDetections: 1e6 }, i),
          imageTransform(e.size[0], e.size[1], e.size[0], e.size[1]),
        ).length;
      counts.push([at(0.25), at(0.5)]);
    }
    for (const [low, high] of counts) {
      assert.ok(low >= 10 && low <= 150, `${e.id}: ${low} candidates ≥ 0.25 (${JSON.stringify(counts)})`);
      assert.ok(high >= 1 && high < low, `${e.id}: ${high} candidates ≥ 0.5 (${JSON.stringify(counts)})`);
    }
    assert.ok(new Set(counts.map((c) => c.join())).size > 1, `${e.id}: the counts depend on the image`);
  }
});

test('through a resize: letterbox and stretch, larger and smaller originals, boxes and masks match the reference', async () => {
  const shapes: Array<[number, number]> = [
    [160, 120],
    [120, 200],
    [64, 40],
    [50, 90],
  ];
  for (const id of ['v8-detect-1', 'v8-detect-2', 'v8-segment-1', 'v8-segment-3']) {
    const entry = entries.find((e) => e.id === id)!;
    for (const resize of ['letterbox', 'stretch'] as const) {
      const poolId = resize === 'letterbox' ? id : `${id}-stretch`;
      for (const [w, h] of shapes) {
        const image = scene(w, h, w * 7 + h);
        const tensor = preprocess(image, { width: SIZE, height: SIZE, resize });
        const raw = await runOrt(id, [tensor]);
        const t = imageTransform(w, h, SIZE, SIZE, resize);
        for (const o of [
          { confidence: 0.25, iouThreshold: 0.45, returnMasks: true },
          { confidence: 0.3, returnMasks: true, maskDecodeMode: 'fast' as const },
        ]) {
          const r = await pool.infer<DetectionResult>(image, poolId, o);
          assert.equal(r.image, { width: w, height: h });
          compare(r, raw, 0, entry, o, t, `${poolId} ${w}x${h} ${JSON.stringify(o)}`);
        }
      }
    }
  }
});

// The reference on its own, against values worked out by hand (the same cases detection.test.ts puts to
// the pool), so a benchmark reusing decodeDetections can trust it without the pool.
test('the reference itself reproduces hand-computed decodes', () => {
  const f = Math.fround;
  const identity = imageTransform(100, 100, 100, 100);
  const v8Head = (rows: number[][]) => {
    const a = rows.length;
    const c = rows[0]!.length;
    const data = new Float32Array(a * c);
    rows.forEach((row, i) => row.forEach((v, k) => (data[k * a + i] = v)));
    return { data, dims: [1, c, a] };
  };
  // A, B (IoU 0.5 with A, same class), C (B's box, class 1), D apart.
  const nms = v8Head([
    [15, 10, 30, 20, 0.9, 0],
    [25, 10, 30, 20, 0.8, 0],
    [25, 10, 30, 20, 0, 0.7],
    [70, 70, 20, 20, 0.6, 0],
  ]);
  const run = (h: { data: Float32Array; dims: number[] }, o: Partial<DecodeOptions>, t = identity) =>
    decodeDetections(h.data, h.dims, { layout: 'yolov8', ...o }, t);
  assert.equal(
    run(nms, { confidence: 0.5, iouThreshold: 0.3 }).map((d) => d.score),
    [0.9, 0.7, 0.6].map(f),
  );
  assert.equal(
    run(nms, { confidence: 0.5, iouThreshold: 0.3, classAgnosticNms: true }).map((d) => d.score),
    [0.9, 0.6].map(f),
  );
  assert.is(run(nms, { confidence: 0.5, iouThreshold: 0.5 }).length, 4, 'IoU equal to the threshold stays');
  assert.equal(
    run(nms, { confidence: 0.5, maxCandidates: 2, iouThreshold: 0.3 }).map((d) => d.score),
    [0.9].map(f),
  );
  // Letterbox 200x100 into 100x100: x / 0.5, (y − 25) / 0.5, clipped (A lies in the top bar: y collapses to 0).
  assert.equal(run(nms, { confidence: 0.85 }, imageTransform(200, 100, 100, 100))[0]!.box, [0, 0, 60, 0]);
  // YOLOv5: objectness × best allowed class.
  const v5 = new Float32Array([10, 10, 10, 10, 0.75, 0.5, 0.25, 30, 10, 10, 10, 0.5, 0.25, 0.875]);
  const v5run = (o: Partial<DecodeOptions>) =>
    decodeDetections(v5, [1, 2, 7], { layout: 'yolov5', ...o }, identity).map((d) => [d.classId, d.score]);
  assert.equal(v5run({ confidence: 0.25 }), [
    [1, 0.4375],
    [0, 0.375],
  ]);
  assert.equal(v5run({ confidence: 0.1, classFilter: [0] }), [
    [0, 0.375],
    [0, 0.125],
  ]);
  // End-to-end: sorted, no NMS, maxCandidates does not apply.
  const e2e = new Float32Array([10, 10, 30, 30, 0.625, 1, 12, 12, 32, 32, 0.875, 1, 0, 0, 5, 5, 0.25, 2]);
  assert.equal(
    decodeDetections(e2e, [1, 3, 6], { layout: 'end-to-end', confidence: 0.5, maxCandidates: 1 }, identity).map(
      (d) => d.score,
    ),
    [0.875, 0.625],
  );
  // A mask from one prototype that is +1 on its left half: fast mode at the input size is the left half.
  const protos = new Float32Array(16).map((_, i) => (i % 4 < 2 ? 1 : -1));
  const m = decodeMask(protos, [1, 1, 4, 4], [1], [0, 0, 16, 16], imageTransform(16, 16, 16, 16), 'fast');
  assert.equal([m.left, m.top, m.width, m.height], [0, 0, 16, 16]);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) assert.is(m.data[y * 16 + x], x < 8 ? 1 : 0);
  // Accurate: the boundary between cell centres 1 and 2 (prototype x 1.5 = input x 8) is the same here.
  const a = decodeMask(protos, [1, 1, 4, 4], [1], [0, 0, 16, 16], imageTransform(16, 16, 16, 16), 'accurate');
  assert.equal(a.data, m.data);
});

test.after(async () => {
  await pool.close();
  for (const s of sessions.values()) await s.release();
  console.log(
    `compared ${stats.requests} results, ${stats.predictions} predictions, ${stats.masks} masks (${stats.maskPixels} pixels), ${stats.polygons} polygons (${stats.multiComponent} masks of several components); ` +
      `max box diff ${stats.maxBoxDiff}, max score diff ${stats.maxScoreDiff}; mask pixels allowed as logit ties: ${stats.tiePixels}`,
  );
});

test.run();
