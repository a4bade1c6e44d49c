// A detection result through a stream's ByteTrack tracker: each prediction a track holds gets its
// `tracker_id`; those no track holds yet are left out (as supervision's update_with_detections does),
// with their boxes, scores, class ids and masks.
import type { NativeTracker } from '../native.js';
import type { DetectionResult } from '../types.js';

export function applyTracks(result: DetectionResult, tracker: NativeTracker): DetectionResult {
  const ids = tracker.update(result.boxes, result.scores, result.classIds);
  const keep: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i]! > 0) keep.push(i);
  const boxes = new Float32Array(keep.length * 4);
  const scores = new Float32Array(keep.length);
  const classIds = new Int32Array(keep.length);
  keep.forEach((from, to) => {
    boxes.set(result.boxes.subarray(from * 4, from * 4 + 4), to * 4);
    scores[to] = result.scores[from]!;
    classIds[to] = result.classIds[from]!;
  });
  const tracked: DetectionResult = {
    ...result,
    predictions: keep.map((i) => ({ ...result.predictions[i]!, tracker_id: ids[i]! })),
    boxes,
    scores,
    classIds,
  };
  if (result.masks) tracked.masks = keep.map((i) => result.masks![i]!);
  return tracked;
}
