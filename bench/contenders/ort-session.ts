// onnxruntime-node sessions as a careful developer configures them: every core for intra-op work,
// full graph optimisation.
import { availableParallelism } from 'node:os';

import ort from 'onnxruntime-node';

export function createSession(path: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path, {
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

/** The model's input [N, 3, H, W] size as [W, H]. */
export function inputSize(session: ort.InferenceSession): [number, number] {
  const meta = session.inputMetadata[0] as { shape?: (number | string)[] } | undefined;
  const shape = meta?.shape ?? [];
  const h = Number(shape[2]);
  const w = Number(shape[3]);
  if (!(w > 0 && h > 0)) throw new Error('the model input needs a fixed [N, 3, H, W] size');
  return [w, h];
}

export { ort };
