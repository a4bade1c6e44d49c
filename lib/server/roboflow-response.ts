// A pool result → Roboflow's response body (inference/core/entities/responses/inference.py): the
// prediction fields are already Roboflow's; this picks them, adds the inference id and `time` in
// seconds, and leaves out what only the in-process API has (typed arrays, masks, stage timings).
import type { ClassificationResult, DetectionPrediction, DetectionResult, InferenceResult } from '../index.js';

/** A detection as Roboflow answers it: the pool's prediction fields (no tracker id over HTTP). */
export type RoboflowDetection = Omit<DetectionPrediction, 'tracker_id'>;

export interface RoboflowDetectionResponse {
  inference_id: string;
  /** Seconds. */
  time: number;
  image: { width: number; height: number };
  predictions: RoboflowDetection[];
  /** Base64 JPEG, when `visualize_predictions` was true. */
  visualization?: string;
}

export interface RoboflowClassificationResponse {
  inference_id: string;
  time: number;
  image: { width: number; height: number };
  predictions: { class: string; class_id: number; confidence: number }[];
  top: string;
  confidence: number;
  visualization?: string;
}

export type RoboflowResponse = RoboflowDetectionResponse | RoboflowClassificationResponse;

export interface ResponseExtras {
  inferenceId: string;
  /** Seconds; default the pool's total time for the request. */
  time?: number;
  /** Base64 JPEG. */
  visualization?: string;
}

export function toRoboflowResponse(result: InferenceResult, extras: ResponseExtras): RoboflowResponse {
  const time = extras.time ?? result.time.total / 1000;
  const image = { width: result.image.width, height: result.image.height };
  const out: RoboflowResponse =
    result.task === 'classification'
      ? classification(result, extras.inferenceId, time, image)
      : detection(result, extras.inferenceId, time, image);
  if (extras.visualization !== undefined) out.visualization = extras.visualization;
  return out;
}

function classification(
  r: ClassificationResult,
  inferenceId: string,
  time: number,
  image: { width: number; height: number },
): RoboflowClassificationResponse {
  return {
    inference_id: inferenceId,
    time,
    image,
    predictions: r.predictions.map((p) => ({ class: p.class, class_id: p.class_id, confidence: p.confidence })),
    top: r.top,
    confidence: r.confidence,
  };
}

function detection(
  r: DetectionResult,
  inferenceId: string,
  time: number,
  image: { width: number; height: number },
): RoboflowDetectionResponse {
  return {
    inference_id: inferenceId,
    time,
    image,
    predictions: r.predictions.map((p) => {
      const d: RoboflowDetection = {
        x: p.x,
        y: p.y,
        width: p.width,
        height: p.height,
        confidence: p.confidence,
        class: p.class,
        class_id: p.class_id,
        detection_id: p.detection_id,
      };
      if (p.points) d.points = p.points;
      return d;
    }),
  };
}
