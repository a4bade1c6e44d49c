// The trained shapes detector and segmenter (models/trained/, made by tools/train-shapes/) through the
// whole pool on the fixed synthetic evaluation set: mAP50 against the ground truth, masks against the
// ground-truth masks, and predictions against the model's own outputs run by onnxruntime-node.
import { readFileSync } from 'node:fs';

import ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { DetectionResult } from '../lib/index.ts';
import { decodePng, preprocess } from './helpers/reference.ts';
import { decodeDetections, imageTransform } from './reference/detection.ts';
import { boxIoU, meanAveragePrecision } from './reference/map.ts';
import type { GroundTruth, Prediction } from './reference/map.ts';

const FIXTURES = new URL('./fixtures/shapes/', import.meta.url).pathname;
const TRAINED = new URL('../models/trained/', import.meta.url).pathname;

interface Label {
  file: string;
  width: number;
  height: number;
  objects: { class_id: number; class: string; box: [number, number, number, number]; mask: string }[];
}
const labels = JSON.parse(readFileSync(`${FIXTURES}labels.json`, 'utf8')) as Label[];
const images = labels.map((l) => readFileSync(FIXTURES + l.file));

// The usual evaluation settings: a low threshold so the whole precision/recall curve counts.
const EVAL = { confidence: 0.05, iouThreshold: 0.5, maxDetections: 100 };

const pool = await InferencePool.create({
  models: [
    { id: 'det', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
    { id: 'seg', path: `${TRAINED}shapes-seg.onnx`, task: 'instance-segmentation', resize: 'stretch' },
  ],
});

function truthOf(label: Label): GroundTruth[] {
  return label.objects.map((o) => ({ classId: o.class_id, box: o.box }));
}

function predictionsOf(r: DetectionResult): Prediction[] {
  return r.predictions.map((p, i) => ({
    classId: p.class_id,
    score: p.confidence,
    box: [r.boxes[4 * i]!, r.boxes[4 * i + 1]!, r.boxes[4 * i + 2]!, r.boxes[4 * i + 3]!],
  }));
}

const results: Record<string, DetectionResult[]> = {};
for (const id of ['det', 'seg']) {
  // All at once: the pool batches them, as a server would.
  results[id] = await Promise.all(
    images.map((bytes) => pool.infer<DetectionResult>(bytes, id, { ...EVAL, returnMasks: true })),
  );
}

for (const [id, bound] of [
  ['det', 0.9],
  ['seg', 0.85],
] as const) {
  test(`${id}: box mAP50 on the evaluation set through the pool is at least ${bound}`, () => {
    const { map, perClass } = meanAveragePrecision(
      labels.map((l, i) => ({ truth: truthOf(l), predictions: predictionsOf(results[id]![i]!) })),
    );
    console.log(
      `    ${id}: mAP50 ${map.toFixed(3)} (per class ${[...perClass.values()].map((v) => v.toFixed(3)).join(', ')})`,
    );
    assert.ok(map >= bound, `mAP50 ${map}`);
  });
}

test('det: class names come from the model metadata', () => {
  const names = new Set(results.det!.flatMap((r) => r.predictions.map((p) => p.class)));
  for (const name of names) assert.ok(['circle', 'square', 'triangle'].includes(name), name);
});

test('seg: instance masks match the ground-truth masks (mean IoU of matched instances)', () => {
  const ious: number[] = [];
  labels.forEach((label, i) => {
    const r = results.seg![i]!;
    for (const object of label.objects) {
      // The best-scoring prediction of the right class over the object's box.
      const j = r.predictions.findIndex(
        (p, k) =>
          p.class_id === object.class_id &&
          p.confidence >= 0.25 &&
          boxIoU([r.boxes[4 * k]!, r.boxes[4 * k + 1]!, r.boxes[4 * k + 2]!, r.boxes[4 * k + 3]!], object.box) >= 0.5,
      );
      if (j < 0) continue;
      const mask = r.masks![j]!;
      const truth = PNG.sync.read(readFileSync(FIXTURES + object.mask));
      let inter = 0;
      let union = 0;
      for (let y = 0; y < label.height; y++) {
        for (let x = 0; x < label.width; x++) {
          const t = truth.data[(y * truth.width + x) * 4]! > 127;
          const mx = x - mask.left;
          const my = y - mask.top;
          const m = mx >= 0 && my >= 0 && mx < mask.width && my < mask.height && mask.data[my * mask.width + mx] === 1;
          if (t && m) inter++;
          if (t || m) union++;
        }
      }
      ious.push(union ? inter / union : 0);
    }
  });
  const mean = ious.reduce((a, b) => a + b, 0) / ious.length;
  console.log(`    seg: mean mask IoU ${mean.toFixed(3)} over ${ious.length} matched instances`);
  assert.ok(ious.length >= labels.reduce((n, l) => n + l.objects.length, 0) * 0.85, 'most objects are found');
  assert.ok(mean >= 0.75, `mean mask IoU ${mean}`);
});

test("det: predictions equal the model's own outputs (onnxruntime-node on a JS-made tensor, JS decode)", async () => {
  const session = await ort.InferenceSession.create(`${TRAINED}shapes-det.onnx`);
  const [w, h] = [320, 320];
  for (let i = 0; i < 12; i++) {
    const picture = decodePng(images[i]!);
    const tensor = preprocess(picture, { width: w, height: h, resize: 'stretch' });
    const out = (await session.run({ images: new ort.Tensor('float32', tensor, [1, 3, h, w]) })).output0!;
    const expected = decodeDetections(
      out.data as Float32Array,
      out.dims,
      { layout: 'yolov8', confidence: 0.25, iouThreshold: 0.45 },
      imageTransform(picture.width, picture.height, w, h, 'stretch'),
    );
    const got = await pool.infer<DetectionResult>(images[i]!, 'det', { confidence: 0.25, iouThreshold: 0.45 });
    assert.is(got.predictions.length, expected.length, `image ${i}: count`);
    expected.forEach((e, k) => {
      assert.is(got.classIds[k], e.classId, `image ${i}, prediction ${k}: class`);
      assert.ok(Math.abs(got.scores[k]! - e.score) < 1e-4, `image ${i}, prediction ${k}: score`);
      for (let c = 0; c < 4; c++) assert.ok(Math.abs(got.boxes[4 * k + c]! - e.box[c]!) < 1e-2, `image ${i}: box`);
    });
  }
  await session.release();
});

test.after(async () => {
  await pool.close();
});

test.run();
