// Small YOLO-shaped detectors and segmenters with seeded random weights. Unlike the constant models of
// detectors.ts their outputs depend on the image, and their heads have the real export layouts and plausible
// values, so tests can run them through the pool and through onnxruntime-node + a JS decoder and compare.
//
// The network (input [batch, 3, H, W], H and W multiples of 16):
//   stem   Conv 3→16  k3 s2 + Relu           (H/2)
//   p2     Conv 16→24 k3 s2 + Relu           (H/4)   → prototypes (segmenters): Conv 3×3 → nm maps at H/4 × W/4
//   p3     Conv 24→32 k3 s2 + Relu           (H/8)   → head at stride 8
//   p4     Conv 32→32 k3 s2 + Relu           (H/16)  → head at stride 16
// Each head is a 1×1 Conv to the raw channels of its anchors; both are flattened and concatenated (stride 8
// anchors first, row-major within a level), as Ultralytics does. The raw head and the prototypes are then
// standardised per image and channel (InstanceNormalization): the Relu features are all positive, so without it
// a channel's mean would dwarf its variation and a class would fire on every anchor or on none. The outputs
// still depend on the image (each image's own statistics, never its batch neighbours'). Decoding in the graph,
// per anchor at grid cell (gx, gy) of stride s, with t the standardised raw values:
//   cx = (gx + 2·σ(t0) − 0.5)·s,  cy likewise   (so cx, cy lie within about half a cell of the input)
//   w  = W·(0.04 + 0.42·σ(t2)),   h = H·(0.04 + 0.42·σ(t3))   (a fraction of the input)
//   class scores = σ(gain·t + bias_c), objectness (v5) = σ(gain·t + bias),  mask coefficients = t (linear).
// The class gains and biases are set so that on ordinary pictures a few tens of anchors score above 0.25 and
// a few to a few tens above 0.5 (at 96×96: 180 anchors; measured 31–108 and 4–33). Boxes near the border stick
// out of the input by up to half a cell, so clipping gets exercised.
// Every model has a symbolic batch dimension.
import { GraphBuilder, defaultNames, ultralyticsNames } from '../onnx/builder.js';
import { Random } from '../onnx/random.js';

export interface RandomYoloOptions {
  /** [w, h], multiples of 16; default [96, 96]. */
  inputSize?: [number, number];
  /** Number of classes; default 5. */
  classes?: number;
  /** PRNG seed for the weights; default 1. */
  seed?: number;
  /** Class names for the metadata; default class0, class1, … */
  names?: string[];
}

export interface RandomSegmenterOptions extends RandomYoloOptions {
  /** Number of mask prototypes; default 8. */
  nm?: number;
}

type Kind = 'v8' | 'v5';

interface Built {
  g: GraphBuilder;
  /** [batch, C, A] raw head values, before decoding. */
  raw: string;
  /** Stride-4 features (24 channels), for the prototypes. */
  p2: string;
  anchors: number;
  /** Per anchor: grid x, grid y, stride (length A each). */
  gridX: Float32Array;
  gridY: Float32Array;
  stride: Float32Array;
}

function conv(
  g: GraphBuilder,
  rng: Random,
  x: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  name: string,
  relu: boolean,
  std = Math.sqrt(2 / (cin * k * k)),
  biasStd = 0.1,
): string {
  const w = g.float(
    `${name}.weight`,
    [cout, cin, k, k],
    rng.floats(cout * cin * k * k, () => rng.normal(0, std)),
  );
  const b = g.float(
    `${name}.bias`,
    [cout],
    rng.floats(cout, () => rng.normal(0, biasStd)),
  );
  const pad = (k - 1) >> 1;
  const y = g.op(
    'Conv',
    [x, w, b],
    { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] },
    { name },
  );
  return relu ? g.op('Relu', [y]) : y;
}

/** The backbone and the two raw heads (channels each), concatenated to [batch, channels, A]. */
function backbone(name: string, w: number, h: number, channels: number, rng: Random): Built {
  if (w % 16 !== 0 || h % 16 !== 0) throw new Error(`input size ${w}×${h}: both must be multiples of 16`);
  const g = new GraphBuilder(name);
  const images = g.input('images', ['batch', 3, h, w]);
  const stem = conv(g, rng, images, 3, 16, 3, 2, 'stem', true);
  const p2 = conv(g, rng, stem, 16, 24, 3, 2, 'p2', true);
  const p3 = conv(g, rng, p2, 24, 32, 3, 2, 'p3', true);
  const p4 = conv(g, rng, p3, 32, 32, 3, 2, 'p4', true);
  const levels: Array<{ x: string; s: number }> = [
    { x: p3, s: 8 },
    { x: p4, s: 16 },
  ];
  const flat: string[] = [];
  const gx: number[] = [];
  const gy: number[] = [];
  const st: number[] = [];
  for (const [i, { x, s }] of levels.entries()) {
    // Head weights with unit-ish output spread: the features are O(1) after the Relus.
    const head = conv(g, rng, x, 32, channels, 1, 1, `head${i}`, false, 0.45, 0.2);
    flat.push(g.op('Reshape', [head, g.int64(`head${i}_shape`, [0, channels, -1])]));
    for (let y = 0; y < h / s; y++) {
      for (let xx = 0; xx < w / s; xx++) {
        gx.push(xx);
        gy.push(y);
        st.push(s);
      }
    }
  }
  // Standardise each channel over the image's anchors (InstanceNormalization): the Relu features are all
  // positive, so without it a channel's mean dwarfs its variation and a class would fire everywhere or nowhere.
  const raw = standardise(g, g.op('Concat', flat, { axis: 2 }), channels, 'head_norm');
  return {
    g,
    raw,
    p2,
    anchors: gx.length,
    gridX: Float32Array.from(gx),
    gridY: Float32Array.from(gy),
    stride: Float32Array.from(st),
  };
}

/** InstanceNormalization with unit scale and zero bias: per image and channel, zero mean and unit variance. */
function standardise(g: GraphBuilder, x: string, channels: number, name: string): string {
  return g.op(
    'InstanceNormalization',
    [x, g.float(`${name}.scale`, [channels], 1), g.float(`${name}.bias`, [channels], 0)],
    {},
    { name },
  );
}

/** Rows [start, end) of a [batch, C, A] tensor. */
function rows(g: GraphBuilder, x: string, start: number, end: number): string {
  return g.op('Slice', [x, g.int64('starts', [start]), g.int64('ends', [end]), g.int64('axes', [1])]);
}

/**
 * Decodes the raw head into [batch, 4 (+1) + nc (+ nm), A]: boxes, [objectness], class scores, [coefficients].
 * Gains and biases are drawn per class so that classes differ in how often they fire.
 */
function decodeHead(b: Built, rng: Random, kind: Kind, w: number, h: number, nc: number, nm: number): string {
  const { g, raw, anchors: A } = b;
  const grid = new Float32Array(2 * A);
  grid.set(b.gridX, 0);
  grid.set(b.gridY, A);
  const stride = new Float32Array(2 * A);
  stride.set(b.stride, 0);
  stride.set(b.stride, A);
  // xy = (grid + 2σ − 0.5)·stride
  const sxy = g.op('Sigmoid', [rows(g, raw, 0, 2)]);
  const xy = g.op('Mul', [
    g.op('Add', [
      g.op('Mul', [sxy, g.float('two', [], 2)]),
      g.float(
        'grid_minus_half',
        [1, 2, A],
        grid.map((v) => v - 0.5),
      ),
    ]),
    g.float('anchor_stride', [1, 2, A], stride),
  ]);
  // wh = size·(0.04 + 0.42σ)
  const swh = g.op('Sigmoid', [rows(g, raw, 2, 4)]);
  const wh = g.op('Mul', [
    g.op('Add', [g.op('Mul', [swh, g.float('wh_gain', [], 0.42)]), g.float('wh_min', [], 0.04)]),
    g.float('input_size', [1, 2, 1], [w, h]),
  ]);
  const parts = [xy, wh];
  let next = 4;
  const scoreRows = kind === 'v5' ? 1 + nc : nc;
  const gains = new Float32Array(scoreRows);
  const biases = new Float32Array(scoreRows);
  for (let c = 0; c < scoreRows; c++) {
    if (kind === 'v5' && c === 0) {
      // objectness: most anchors moderately likely, so objectness × class spreads around the thresholds
      gains[c] = 1.5;
      biases[c] = 0.2;
    } else {
      gains[c] = rng.uniform(1.2, 1.6);
      biases[c] = kind === 'v5' ? rng.uniform(-2.2, -1.2) : rng.uniform(-3.6, -2.6);
    }
  }
  const logits = g.op('Add', [
    g.op('Mul', [rows(g, raw, next, next + scoreRows), g.float('score_gain', [1, scoreRows, 1], gains)]),
    g.float('score_bias', [1, scoreRows, 1], biases),
  ]);
  parts.push(g.op('Sigmoid', [logits]));
  next += scoreRows;
  if (nm > 0) parts.push(rows(g, raw, next, next + nm));
  return g.op('Concat', parts, { axis: 1 });
}

function setMetadata(g: GraphBuilder, kind: Kind, task: 'detect' | 'segment', names: string[], w: number, h: number) {
  g.metadata.names = ultralyticsNames(names);
  g.metadata.stride = '16';
  if (kind === 'v8') {
    g.metadata.task = task;
    g.metadata.imgsz = `[${h}, ${w}]`;
  }
}

function build(kind: Kind, task: 'detect' | 'segment', opts: RandomSegmenterOptions): Uint8Array {
  const [w, h] = opts.inputSize ?? [96, 96];
  const nc = opts.classes ?? 5;
  const nm = task === 'segment' ? (opts.nm ?? 8) : 0;
  const rng = new Random(opts.seed ?? 1);
  const channels = 4 + (kind === 'v5' ? 1 : 0) + nc + nm;
  const b = backbone(`random_yolo${kind}_${task}`, w, h, channels, rng);
  const decoded = decodeHead(b, rng, kind, w, h, nc, nm);
  const { g } = b;
  if (kind === 'v8') {
    g.op('Identity', [decoded], {}, { output: 'output0' });
    g.output('output0', ['batch', channels, b.anchors]);
  } else {
    g.op('Transpose', [decoded], { perm: [0, 2, 1] }, { output: 'output0' });
    g.output('output0', ['batch', b.anchors, channels]);
  }
  if (nm > 0) {
    // Prototypes at stride 4: a 3×3 conv on the stride-4 features, linear, roughly zero-mean so masks have edges.
    const protos = standardise(g, conv(g, rng, b.p2, 24, nm, 3, 1, 'proto', false, 0.25, 0.3), nm, 'proto_norm');
    g.op('Identity', [protos], {}, { output: 'output1' });
    g.output('output1', ['batch', nm, h / 4, w / 4]);
  }
  setMetadata(g, kind, task, opts.names ?? defaultNames(nc), w, h);
  return g.toBytes();
}

/** output0 [batch, 4 + nc, A] (A = (W/8)(H/8) + (W/16)(H/16)): cx, cy, w, h, class scores. */
export function randomYolov8Detector(opts: RandomYoloOptions = {}): Uint8Array {
  return build('v8', 'detect', opts);
}

/** output0 [batch, A, 5 + nc]: cx, cy, w, h, objectness, class scores per anchor. */
export function randomYolov5Detector(opts: RandomYoloOptions = {}): Uint8Array {
  return build('v5', 'detect', opts);
}

/** output0 [batch, 4 + nc + nm, A] and output1 prototypes [batch, nm, H/4, W/4]. */
export function randomYolov8Segmenter(opts: RandomSegmenterOptions = {}): Uint8Array {
  return build('v8', 'segment', opts);
}

/** output0 [batch, A, 5 + nc + nm] and output1 prototypes [batch, nm, H/4, W/4]. */
export function randomYolov5Segmenter(opts: RandomSegmenterOptions = {}): Uint8Array {
  return build('v5', 'segment', opts);
}
