import { InferencePoolError, toPoolError } from './errors.js';
import { loadBinding } from './native.js';
import type { NativeDrawing } from './native.js';
import type { ImageInput, InferenceResult } from './types.js';

export interface DrawingOptions {
  /** Draw class labels (and a classifier's title; tracker ids when present). Default true. */
  labels?: boolean;
  /** Box and polygon line width in pixels, 1–100. Default: from the image's size. */
  strokeWidth?: number;
}

export interface AnnotateOptions extends DrawingOptions {
  /** Default 'png'. */
  format?: 'png' | 'jpeg';
  /** JPEG quality, 1–100. Default 90. */
  quality?: number;
}

/** What to draw for a result, as the native drawing code takes it (shared by annotate and the video writer). */
export function drawingFor(result: InferenceResult, options: DrawingOptions = {}): NativeDrawing {
  const labels = options.labels ?? true;
  const { strokeWidth } = options;
  if (strokeWidth !== undefined && !(Number.isInteger(strokeWidth) && strokeWidth >= 1 && strokeWidth <= 100)) {
    throw new InferencePoolError('INVALID_ARGUMENT', 'strokeWidth must be an integer from 1 to 100');
  }
  const drawing: NativeDrawing = { instances: [], strokeWidth };
  if (result.task === 'classification') {
    if (labels) drawing.title = `${result.top} ${(result.confidence * 100).toFixed(1)}%`;
    return drawing;
  }
  result.predictions.forEach((p, i) => {
    const b = result.boxes;
    const track = p.tracker_id !== undefined ? `#${p.tracker_id} ` : '';
    const instance: NativeDrawing['instances'][number] = {
      box: [b[4 * i]!, b[4 * i + 1]!, b[4 * i + 2]!, b[4 * i + 3]!],
      classId: p.class_id,
      label: labels ? `${track}${p.class} ${p.confidence.toFixed(2)}` : '',
    };
    if (p.points) instance.polygon = Int32Array.from(p.points.flatMap((q) => [q.x, q.y]));
    const mask = result.masks?.[i];
    if (mask) instance.mask = mask;
    drawing.instances.push(instance);
  });
  return drawing;
}

/**
 * Draws a result onto the image it came from (boxes, labels, mask overlays and polygons; a
 * classifier's top class as a title) and returns the encoded PNG or JPEG bytes. Runs off the JS thread.
 */
export async function annotate(
  image: ImageInput,
  result: InferenceResult,
  options: AnnotateOptions = {},
): Promise<Buffer> {
  const drawing = drawingFor(result, options);
  try {
    return await loadBinding().annotate(image, drawing, {
      format: options.format ?? 'png',
      quality: options.quality ?? 90,
    });
  } catch (error) {
    throw toPoolError(error, 'INVALID_IMAGE');
  }
}
