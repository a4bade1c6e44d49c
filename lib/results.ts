// Builds the public, Roboflow-shaped results from what the native layer returns.
import { randomUUID } from 'node:crypto';

import type { NativeResult } from './native.js';
import type {
  ClassificationResult,
  DetectionPrediction,
  DetectionResult,
  InferenceResult,
  ModelInfo,
  Point,
} from './types.js';

function className(model: ModelInfo, id: number): string {
  return model.classNames[id] ?? String(id);
}

function classificationResult(model: ModelInfo, r: NativeResult): ClassificationResult {
  const top = r.top ?? [];
  let best = top[0];
  if (best === undefined) {
    best = 0;
    for (let i = 1; i < r.scores.length; i++) if (r.scores[i]! > r.scores[best]!) best = i;
  }
  return {
    task: 'classification',
    image: { width: r.width, height: r.height },
    predictions: top.map((id) => ({ class: className(model, id), class_id: id, confidence: r.scores[id]! })),
    top: className(model, best),
    confidence: r.scores[best] ?? 0,
    scores: r.scores,
    time: r.time,
    batchSize: r.batchSize,
  };
}

function polygonPoints(flat: Int32Array): Point[] {
  const points: Point[] = new Array(flat.length >> 1);
  for (let i = 0; i < points.length; i++) points[i] = { x: flat[2 * i]!, y: flat[2 * i + 1]! };
  return points;
}

function detectionResult(model: ModelInfo, r: NativeResult): DetectionResult {
  const boxes = r.boxes!;
  const classIds = r.classIds!;
  const predictions: DetectionPrediction[] = new Array(r.scores.length);
  for (let i = 0; i < predictions.length; i++) {
    const x1 = boxes[4 * i]!;
    const y1 = boxes[4 * i + 1]!;
    const x2 = boxes[4 * i + 2]!;
    const y2 = boxes[4 * i + 3]!;
    const id = classIds[i]!;
    const p: DetectionPrediction = {
      x: (x1 + x2) / 2,
      y: (y1 + y2) / 2,
      width: x2 - x1,
      height: y2 - y1,
      confidence: r.scores[i]!,
      class: className(model, id),
      class_id: id,
      detection_id: randomUUID(),
    };
    if (r.polygons) p.points = polygonPoints(r.polygons[i]!);
    predictions[i] = p;
  }
  const result: DetectionResult = {
    task: model.task === 'instance-segmentation' ? 'instance-segmentation' : 'object-detection',
    image: { width: r.width, height: r.height },
    predictions,
    boxes,
    scores: r.scores,
    classIds,
    time: r.time,
    batchSize: r.batchSize,
  };
  if (r.masks) result.masks = r.masks;
  return result;
}

export function buildResult(model: ModelInfo, r: NativeResult): InferenceResult {
  return model.task === 'classification' ? classificationResult(model, r) : detectionResult(model, r);
}
