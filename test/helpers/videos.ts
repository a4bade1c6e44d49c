// The test videos' ground truth (written beside each video by scripts/make-videos.ts) and how a
// detection is matched to it.
import { readFileSync } from 'node:fs';

import type { DetectionPrediction, DetectionResult } from '../../lib/index.ts';
import type { Scene, TruthObject } from '../../scripts/videos/shapes-scene.ts';

/** A video's scene and its per-frame ground truth. */
export function sceneOf(video: string): Scene & { truth: TruthObject[][] } {
  return JSON.parse(readFileSync(video.replace(/\.\w+$/, '.json'), 'utf8')) as Scene & { truth: TruthObject[][] };
}

/** The prediction matching a ground-truth object: same class, centre within 12 px. */
export function matchTruth(result: DetectionResult, t: TruthObject): DetectionPrediction | undefined {
  const x = (t.box[0] + t.box[2]) / 2;
  const y = (t.box[1] + t.box[3]) / 2;
  return result.predictions.find((p) => p.class_id === t.class_id && Math.hypot(p.x - x, p.y - y) < 12);
}
