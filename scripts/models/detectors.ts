// Detector and segmenter models whose outputs are constant, laid out like the real YOLO exports, so tests know the
// exact raw output and check the pool's decoding (layouts, thresholds, NMS, masks) against hand-computed results.
// Only the batch dimension follows the input.
import { type Dim, GraphBuilder, defaultNames, ultralyticsNames } from '../onnx/builder.js';

export interface DetectorCommon {
  /** Model input size [w, h]; default [640, 640]. */
  inputSize?: [number, number];
  /** Class names for the metadata; default class0, class1, … */
  names?: string[];
  /** Dim 0 fixed to 1 instead of symbolic 'batch'; default false. */
  fixedBatch?: boolean;
}

export interface Yolov8Box {
  cx: number;
  cy: number;
  w: number;
  h: number;
  /** One score per class. */
  scores: number[];
}

export interface Yolov5Box extends Yolov8Box {
  objectness: number;
}

export interface SegmentBox {
  /** One mask coefficient per prototype (nm). */
  coeffs: number[];
}

export interface SegmenterCommon extends DetectorCommon {
  classes: number;
  /** Number of mask prototypes. */
  nm: number;
  /** Prototype size [pw, ph]. */
  protoSize: [number, number];
  /** Prototypes, nm × ph × pw, row-major. */
  protos: Float32Array;
}

type ModelKind = 'v8' | 'v5';

/** A graph with input images [batch, 3, h, w], plus a helper to add a constant output that follows its batch. */
function constantGraph(name: string, common: DetectorCommon) {
  const [w, h] = common.inputSize ?? [640, 640];
  const batch: Dim = common.fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder(name);
  const images = g.input('images', [batch, 3, h, w]);
  // Expand a [1, ...] constant to [N, ...] with N read from the input's shape: unlike ReduceSum(images) × 0, this
  // never reads the pixels, so it is cheap on 640×640 inputs and a NaN pixel cannot leak into the output.
  const batchSize = g.op('Shape', [images], { start: 0, end: 1 });
  const constantOutput = (output: string, dims: number[], data: Float32Array) => {
    const shape = g.op('Concat', [batchSize, g.int64(`${output}_dims`, dims)], { axis: 0 });
    g.op('Expand', [g.float(`${output}_constant`, [1, ...dims], data), shape], {}, { output });
    g.output(output, [batch, ...dims]);
  };
  return { g, w, h, constantOutput };
}

function checkLength(what: string, values: readonly number[], expected: number) {
  if (values.length !== expected) throw new Error(`${what} has ${values.length} values, expected ${expected}`);
}

/** The per-anchor values in order: box, [objectness], class scores, [mask coefficients]. */
function anchorValues(kind: ModelKind, box: Yolov8Box & Partial<Yolov5Box> & Partial<SegmentBox>): number[] {
  const objectness = kind === 'v5' ? [box.objectness ?? 0] : [];
  return [box.cx, box.cy, box.w, box.h, ...objectness, ...box.scores, ...(box.coeffs ?? [])];
}

/** output0 [1, R, A] (v8: values along dim 1, anchors along dim 2) or [1, A, R] (v5: a row per anchor). */
function output0Data(kind: ModelKind, boxes: Yolov8Box[], width: number): { dims: number[]; data: Float32Array } {
  const rows = boxes.map((b) => anchorValues(kind, b));
  const anchors = rows.length;
  const data = new Float32Array(anchors * width);
  rows.forEach((row, a) =>
    row.forEach((v, r) => {
      data[kind === 'v8' ? r * anchors + a : a * width + r] = v;
    }),
  );
  return { dims: kind === 'v8' ? [width, anchors] : [anchors, width], data };
}

type Task = 'detect' | 'segment';

function setMetadata(g: GraphBuilder, kind: ModelKind, task: Task, names: string[], [w, h]: [number, number]) {
  g.metadata.names = ultralyticsNames(names);
  g.metadata.stride = '32';
  // YOLOv5's own exporter writes only stride and names; Ultralytics (YOLOv8 and later) adds task and imgsz.
  if (kind === 'v8') {
    g.metadata.task = task;
    g.metadata.imgsz = `[${h}, ${w}]`;
  }
}

function detector(kind: ModelKind, opts: DetectorCommon & { classes: number; boxes: Yolov8Box[] }): Uint8Array {
  opts.boxes.forEach((b, i) => checkLength(`box ${i} scores`, b.scores, opts.classes));
  const { g, w, h, constantOutput } = constantGraph(`constant_yolo${kind}_detect`, opts);
  const width = (kind === 'v8' ? 4 : 5) + opts.classes;
  const { dims, data } = output0Data(kind, opts.boxes, width);
  constantOutput('output0', dims, data);
  setMetadata(g, kind, 'detect', opts.names ?? defaultNames(opts.classes), [w, h]);
  return g.toBytes();
}

/** output0 [batch, 4 + nc, A]: rows 0..3 = cx, cy, w, h (input pixels), rows 4.. = class scores, anchors = boxes. */
export function constantYolov8Detector(opts: DetectorCommon & { classes: number; boxes: Yolov8Box[] }): Uint8Array {
  return detector('v8', opts);
}

/** output0 [batch, A, 5 + nc]: per anchor cx, cy, w, h, objectness, class scores. */
export function constantYolov5Detector(opts: DetectorCommon & { classes: number; boxes: Yolov5Box[] }): Uint8Array {
  return detector('v5', opts);
}

/** output0 [batch, K, 6]: rows [x1, y1, x2, y2, score, classId] as given (NMS already done in the model). */
export function constantEndToEndDetector(
  opts: DetectorCommon & { rows: Array<[number, number, number, number, number, number]>; classes?: number },
): Uint8Array {
  const { g, w, h, constantOutput } = constantGraph('constant_end2end_detect', opts);
  constantOutput('output0', [opts.rows.length, 6], Float32Array.from(opts.rows.flat()));
  const classes = opts.classes ?? opts.names?.length ?? Math.max(0, ...opts.rows.map((r) => r[5] + 1));
  g.metadata.names = ultralyticsNames(opts.names ?? defaultNames(classes));
  g.metadata.stride = '32';
  g.metadata.task = 'detect';
  g.metadata.imgsz = `[${h}, ${w}]`;
  g.metadata.end2end = 'True';
  return g.toBytes();
}

function segmenter(kind: ModelKind, opts: SegmenterCommon & { boxes: Array<Yolov8Box & SegmentBox> }): Uint8Array {
  const { classes, nm, protos } = opts;
  const [pw, ph] = opts.protoSize;
  opts.boxes.forEach((b, i) => {
    checkLength(`box ${i} scores`, b.scores, classes);
    checkLength(`box ${i} coeffs`, b.coeffs, nm);
  });
  if (protos.length !== nm * ph * pw) throw new Error(`protos has ${protos.length} values, expected ${nm}×${ph}×${pw}`);
  const { g, w, h, constantOutput } = constantGraph(`constant_yolo${kind}_segment`, opts);
  const width = (kind === 'v8' ? 4 : 5) + classes + nm;
  const { dims, data } = output0Data(kind, opts.boxes, width);
  constantOutput('output0', dims, data);
  constantOutput('output1', [nm, ph, pw], protos);
  setMetadata(g, kind, 'segment', opts.names ?? defaultNames(classes), [w, h]);
  return g.toBytes();
}

/** output0 [batch, 4 + nc + nm, A] (box, class scores, mask coefficients) and output1 protos [batch, nm, ph, pw]. */
export function constantYolov8Segmenter(opts: SegmenterCommon & { boxes: Array<Yolov8Box & SegmentBox> }): Uint8Array {
  return segmenter('v8', opts);
}

/** output0 [batch, A, 5 + nc + nm] (box, objectness, class scores, mask coefficients) and output1 protos. */
export function constantYolov5Segmenter(opts: SegmenterCommon & { boxes: Array<Yolov5Box & SegmentBox> }): Uint8Array {
  return segmenter('v5', opts);
}
