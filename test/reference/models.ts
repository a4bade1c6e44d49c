// A constant-output model with any outputs and metadata (or none), for the layout tests that the
// Ultralytics-shaped builders of scripts/models/detectors.ts cannot express (e.g. a head without `names`).
import { GraphBuilder } from '../../scripts/onnx/builder.ts';

export interface ConstantOutput {
  name: string;
  /** Dims after the batch dimension. */
  dims: number[];
  data: Float32Array;
}

/** images [batch, 3, h, w] → each output [batch, ...dims], the same constant for every image. */
export function constantModel(
  inputSize: [number, number],
  outputs: ConstantOutput[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const [w, h] = inputSize;
  const g = new GraphBuilder('constant_head');
  const images = g.input('images', ['batch', 3, h, w]);
  const batch = g.op('Shape', [images], { start: 0, end: 1 });
  for (const o of outputs) {
    const shape = g.op('Concat', [batch, g.int64(`${o.name}_dims`, o.dims)], { axis: 0 });
    g.op('Expand', [g.float(`${o.name}_value`, [1, ...o.dims], o.data), shape], {}, { output: o.name });
    g.output(o.name, ['batch', ...o.dims]);
  }
  Object.assign(g.metadata, metadata);
  return g.toBytes();
}

/** YOLOv8 layout data [4 + nc (+ nm), A] from per-anchor rows [cx, cy, w, h, scores..., coeffs...]. */
export function channelsFirst(rows: number[][]): { dims: number[]; data: Float32Array } {
  const anchors = rows.length;
  const channels = rows[0]!.length;
  const data = new Float32Array(anchors * channels);
  rows.forEach((row, a) => {
    if (row.length !== channels) throw new Error(`row ${a} has ${row.length} values, expected ${channels}`);
    row.forEach((v, c) => (data[c * anchors + a] = v));
  });
  return { dims: [channels, anchors], data };
}
