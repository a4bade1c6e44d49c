// Random-weight models shaped exactly like Ultralytics' YOLOv8n ONNX exports (detect, segment, classify), for
// benchmarks: the same layers, channel widths, parameter count, FLOPs, graph ops, output layouts and metadata as
// `yolo export format=onnx dynamic=True`, with seeded weights instead of trained ones, so nothing is downloaded.
//
// Plain random init does not do: a deep random SiLU net amplifies differences in input statistics layer by layer
// (by P5, activations ×30 on a picture-like input and vanishing on a flat one). So every Conv gets a BatchNorm whose
// statistics come from data, folded into the conv as in a trained, fused model. A calibration graph runs once in
// onnxruntime on a small synthetic batch (picture-like images, white noise, a smooth field), normalising each conv's
// output by batch statistics (BatchNorm in training mode) and exporting them; the final graph folds them into the
// weights and biases. The same pass sets the heads: class logits are scaled and shifted so about
// `targetCandidates` anchors per image score above 0.4, boxes come out tens to a couple of hundred pixels wide, and
// mask prototypes are zero-mean so masks cover about half of their box.
//
// Generation is therefore async (a second or few per model); a detector and a segmenter with the same options
// share one calibration.
import onnxProto from 'onnx-proto';
import ort from 'onnxruntime-node';

import { GraphBuilder, defaultNames, ultralyticsNames } from '../onnx/builder.js';
import { Random } from '../onnx/random.js';

export interface Yolov8nOptions {
  /** PRNG seed for the weights; default 1. */
  seed?: number;
  /** Input height and width, a multiple of 32; default 640. */
  imgsz?: number;
  /** Number of classes; default 80 (with the COCO names). */
  classes?: number;
  /** About this many anchors per image get a best class score above 0.4 (and ~7× as many above 0.25); default 40. */
  targetCandidates?: number;
}

export interface Yolov8nClassifierOptions {
  /** PRNG seed for the weights; default 1. */
  seed?: number;
  /** Input height and width, a multiple of 32; default 224. */
  imgsz?: number;
  /** Number of classes; default 1000. */
  classes?: number;
}

export type Yolov8nTask = 'detect' | 'segment' | 'classify';

/** A generated model and what a benchmark reports about it. */
export interface Yolov8nModel {
  bytes: Uint8Array;
  task: Yolov8nTask;
  /** Weights and biases with BatchNorm folded into the convolutions, as Ultralytics counts a fused model. */
  params: number;
  /** 2 × multiply-accumulates per image, as Ultralytics counts GFLOPs. */
  gflops: number;
}

// prettier-ignore
export const COCO_NAMES: readonly string[] = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant',
  'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
  'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli',
  'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet',
  'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
  'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
];

const REG_MAX = 16;
const STRIDES = [8, 16, 32];
const MASK_PROTOS = 32;
/** Ultralytics' BatchNorm2d eps. */
const BN_EPS = 1e-3;
/** Roboflow's default confidence threshold. */
const CONF_HIGH = 0.4;
/** Ultralytics' default confidence threshold for predict. */
const CONF_LOW = 0.25;
/** Anchors above CONF_LOW per anchor above CONF_HIGH: "a few hundred" for a few tens. */
const LOW_TO_HIGH = 7;
// BatchNorm after calibration: per channel scale ~2 and shift ~1.5, so SiLU's input straddles its bend. There a
// layer maps input variance v to output variance ∝ v^0.8: differences between inputs shrink with depth instead of
// growing (they grow as v^1.1 around a zero shift), so noise, smooth gradients and photos all end up with
// activations of the same order at P3–P5, and so with comparable numbers of confident anchors.
const BN_SCALE = 2;
const BN_SHIFT = 1.5;

// Box logits per DFL bin: N(profile, BOX_LOGIT_STD²) with the profile peaking at BOX_PEAK_BIN, so a side is a couple
// of bins (× stride pixels) long: boxes (√(w·h)) of about 20–50 px at P3, 45–100 px at P4 and 90–190 px at P5.
const BOX_LOGIT_STD = 2;
const BOX_PEAK_BIN = 2;
const BOX_PROFILE_WIDTH = 1.5;
/** Mask coefficients' std; protos are BatchNorm'd with a shift that makes their SiLU output zero-mean. */
const MASK_COEFF_STD = 1;
const PROTO_SHIFT = -0.5;
/** Spread of the classifier's logits across classes and images: a clear but not certain top-1. */
const CLASSIFY_LOGIT_STD = 3.5;

interface Feature {
  name: string;
  c: number;
  h: number;
  w: number;
}

/** What a BatchNorm (or, for the heads' last convs, a chosen affine map) makes of each output channel. */
interface Affine {
  /** Per channel std after normalisation (BatchNorm's weight). */
  gamma: Float32Array;
  /** Per channel mean after normalisation (BatchNorm's bias). */
  beta: Float32Array;
}

interface ConvOptions {
  k?: number;
  s?: number;
  /** SiLU after the BatchNorm (Ultralytics' Conv); false for the heads' final plain nn.Conv2d. */
  act?: boolean;
  /** What the channels should look like; default BatchNorm parameters drawn at random. */
  affine?: Affine;
}

interface Stats {
  mean: Float32Array;
  variance: Float32Array;
}

/** Building mode: the calibration graph normalises by batch statistics and exports them; the final one folds them. */
type Mode = { kind: 'calibrate'; statsImages: number } | { kind: 'final'; stats: Map<string, Stats> };

const filled = (n: number, v: number) => new Float32Array(n).fill(v);

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/**
 * A float32 initializer from a Float32Array's bytes as they are (ONNX raw_data is little-endian, like every host
 * this runs on): GraphBuilder.float converts value by value, which is most of the build time for 3 M weights.
 */
function floatInit(g: GraphBuilder, name: string, dims: number[], data: Float32Array): string {
  if (!LITTLE_ENDIAN) return g.float(name, dims, data);
  const rawData = new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const { FLOAT } = onnxProto.onnx.TensorProto.DataType;
  return g.initializer(onnxProto.onnx.TensorProto.create({ name, dims, dataType: FLOAT, rawData }));
}

/** Graph building with Ultralytics' module names, parameter and MAC counts, and the calibration bookkeeping. */
class Net {
  params = 0;
  macs = 0;
  /** Calibration mode: conv name → its mean and variance outputs. */
  readonly statOutputs = new Map<string, { mean: string; variance: string }>();
  /** Intermediate values a calibration or check reads back. */
  readonly taps: Record<string, string> = {};
  private statsSlice?: string[];

  /** Every array of random values, in drawing order; the final build replays the calibration build's. */
  readonly draws: Float32Array[] = [];
  private replayed = 0;

  constructor(
    readonly g: GraphBuilder,
    private readonly rng: Random,
    private readonly mode: Mode,
    private readonly replay?: Float32Array[],
  ) {}

  normals(n: number, mean: number, std: number): Float32Array {
    const again = this.next(n);
    if (again) return again;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.normal(mean, std);
    this.draws.push(out);
    return out;
  }

  uniforms(n: number, lo: number, hi: number): Float32Array {
    const again = this.next(n);
    if (again) return again;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.uniform(lo, hi);
    this.draws.push(out);
    return out;
  }

  /** The next replayed array (a copy: folding scales weights in place), or undefined when drawing afresh. */
  private next(n: number): Float32Array | undefined {
    if (!this.replay) return undefined;
    const values = this.replay[this.replayed++];
    if (values?.length !== n) throw new Error('replayed draws do not match the graph being built');
    return values.slice();
  }

  /** BatchNorm parameters, varying a little between channels around BN_SCALE and BN_SHIFT. */
  randomAffine(c: number): Affine {
    return { gamma: this.uniforms(c, 0.75 * BN_SCALE, 1.25 * BN_SCALE), beta: this.normals(c, BN_SHIFT, 0.25) };
  }

  /**
   * Ultralytics' Conv (Conv2d, padding k/2, no bias → BatchNorm → SiLU) when act, else a head's final nn.Conv2d;
   * either way the output channels end up distributed as `affine` says on the calibration images.
   */
  conv(x: Feature, c2: number, name: string, opts: ConvOptions = {}): Feature {
    const { k = 1, s = 1, act = true } = opts;
    const fanIn = x.c * k * k;
    // He-normal; the scale hardly matters, as the normalisation undoes it, but it keeps float32 sums tame.
    const weights = this.normals(c2 * fanIn, 0, Math.sqrt(2 / fanIn));
    const affine = opts.affine ?? this.randomAffine(c2);
    const dims = [c2, x.c, k, k];
    const p = Math.floor(k / 2);
    const attrs = { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 };
    const h = Math.floor((x.h + 2 * p - k) / s) + 1;
    const w = Math.floor((x.w + 2 * p - k) / s) + 1;
    this.params += weights.length + c2;
    this.macs += c2 * fanIn * h * w;
    const node = { name: `/${name}/conv/Conv` };
    let y: string;
    if (this.mode.kind === 'calibrate') {
      const raw = this.g.op('Conv', [x.name, floatInit(this.g, `${name}.weight`, dims, weights)], attrs, node);
      y = this.batchNorm(raw, name, affine, this.mode.statsImages);
    } else {
      y = this.g.op('Conv', [x.name, ...this.folded(name, dims, weights, affine, this.mode.stats)], attrs, node);
    }
    return { name: act ? this.silu(y, name) : y, c: c2, h, w };
  }

  /**
   * Calibration: normalise each channel by the mean and variance over the first statsImages images (the rest of
   * the batch sees them as any new image does), then apply the affine map; the statistics become graph outputs.
   */
  private batchNorm(y: string, name: string, { gamma, beta }: Affine, statsImages: number): string {
    const { g } = this;
    const c = gamma.length;
    const reduce = (v: string, output: string) => g.op('ReduceMean', [v], { axes: [0, 2, 3], keepdims: 1 }, { output });
    this.statsSlice ??= [g.int64('bn.start', [0]), g.int64('bn.end', [statsImages]), g.int64('bn.axis', [0])];
    const sample = g.op('Slice', [y, ...this.statsSlice]);
    const mean = reduce(sample, `${name}.bn.mean`);
    const deviation = g.op('Sub', [sample, mean]);
    const variance = reduce(g.op('Mul', [deviation, deviation]), `${name}.bn.var`);
    g.output(mean, [1, c, 1, 1]);
    g.output(variance, [1, c, 1, 1]);
    this.statOutputs.set(name, { mean, variance });
    const std = g.op('Sqrt', [g.op('Add', [variance, g.float('bn.eps', [], BN_EPS)])]);
    const normalised = g.op('Div', [g.op('Sub', [y, mean]), std]);
    const scaled = g.op('Mul', [normalised, g.float(`${name}.bn.weight`, [1, c, 1, 1], gamma)]);
    return g.op('Add', [scaled, g.float(`${name}.bn.bias`, [1, c, 1, 1], beta)]);
  }

  /** Final: W' = W·γ/σ, b' = β − μ·γ/σ per output channel (as fuse_conv_and_bn); returns [W', b'] names. */
  private folded(name: string, dims: number[], weights: Float32Array, affine: Affine, stats: Map<string, Stats>) {
    const st = stats.get(name);
    if (!st) throw new Error(`no calibration statistics for ${name}`);
    const c2 = affine.gamma.length;
    const perChannel = weights.length / c2;
    const bias = new Float32Array(c2);
    for (let o = 0; o < c2; o++) {
      const scale = affine.gamma[o]! / Math.sqrt(st.variance[o]! + BN_EPS);
      for (let i = o * perChannel; i < (o + 1) * perChannel; i++) weights[i] = weights[i]! * scale;
      bias[o] = affine.beta[o]! - st.mean[o]! * scale;
    }
    return [floatInit(this.g, `${name}.weight`, dims, weights), this.g.float(`${name}.bias`, [c2], bias)];
  }

  /** torch exports SiLU as x · sigmoid(x) (no Silu op in the ONNX opsets it targets). */
  silu(x: string, name: string): string {
    const sig = this.g.op('Sigmoid', [x], {}, { name: `/${name}/act/Sigmoid` });
    return this.g.op('Mul', [x, sig], {}, { name: `/${name}/act/Mul` });
  }

  split(x: Feature, sizes: number[], name: string): Feature[] {
    const split = this.g.int64(`${name}.split`, sizes);
    const outs = this.g.node('Split', [x.name, split], { axis: 1 }, { outputs: sizes.length, name: `/${name}/Split` });
    return outs.map((out, i) => ({ ...x, name: out, c: sizes[i]! }));
  }

  concat(xs: Feature[], name: string): Feature {
    const y = this.g.op(
      'Concat',
      xs.map((x) => x.name),
      { axis: 1 },
      { name: `/${name}/Concat` },
    );
    return { ...xs[0]!, name: y, c: xs.reduce((sum, x) => sum + x.c, 0) };
  }

  add(a: Feature, b: Feature, name: string): Feature {
    return { ...a, name: this.g.op('Add', [a.name, b.name], {}, { name: `/${name}/Add` }) };
  }

  /** nn.Upsample(scale_factor=2, mode='nearest'), as torch exports it. */
  upsample(x: Feature, name: string): Feature {
    const scales = this.g.float(`${name}.scales`, [4], [1, 1, 2, 2]);
    const attrs = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
    const y = this.g.op('Resize', [x.name, '', scales], attrs, { name: `/${name}/Resize` });
    return { name: y, c: x.c, h: x.h * 2, w: x.w * 2 };
  }

  maxPool(x: Feature, k: number, name: string): Feature {
    const p = Math.floor(k / 2);
    const attrs = { kernel_shape: [k, k], strides: [1, 1], pads: [p, p, p, p], ceil_mode: 0, dilations: [1, 1] };
    return { ...x, name: this.g.op('MaxPool', [x.name], attrs, { name: `/${name}/MaxPool` }) };
  }

  /** Bottleneck(c, c, shortcut, k=(3, 3), e=1.0), as inside C2f. */
  bottleneck(x: Feature, shortcut: boolean, name: string): Feature {
    const y = this.conv(this.conv(x, x.c, `${name}.cv1`, { k: 3 }), x.c, `${name}.cv2`, { k: 3 });
    return shortcut ? this.add(x, y, name) : y;
  }

  /** C2f(c1, c2, n, shortcut, e=0.5): cv1's output split in two, n bottlenecks chained on the second half, cv2. */
  c2f(x: Feature, c2: number, n: number, shortcut: boolean, name: string): Feature {
    const c = c2 / 2;
    const parts = this.split(this.conv(x, 2 * c, `${name}.cv1`), [c, c], name);
    for (let i = 0; i < n; i++) parts.push(this.bottleneck(parts[parts.length - 1]!, shortcut, `${name}.m.${i}`));
    return this.conv(this.concat(parts, name), c2, `${name}.cv2`);
  }

  /** SPPF(c1, c2, k): cv1 to c1/2 channels, three chained max pools, the four concatenated, cv2. */
  sppf(x: Feature, c2: number, k: number, name: string): Feature {
    const parts = [this.conv(x, x.c / 2, `${name}.cv1`)];
    for (let i = 0; i < 3; i++) parts.push(this.maxPool(parts[i]!, k, `${name}.m`));
    return this.conv(this.concat(parts, name), c2, `${name}.cv2`);
  }

  /** Conv3 → Conv3 → Conv2d 1×1: one of the heads' per-level branches. */
  branch(x: Feature, c: number, cOut: number, name: string, last: Affine): Feature {
    const y = this.conv(this.conv(x, c, `${name}.0`, { k: 3 }), c, `${name}.1`, { k: 3 });
    return this.conv(y, cOut, `${name}.2`, { act: false, affine: last });
  }

  /** [N, C, H, W] → [N, C, H·W]. */
  flatten(x: Feature, name: string): string {
    const shape = this.g.int64(`${name}.shape`, [0, x.c, -1]);
    return this.g.op('Reshape', [x.name, shape], {}, { name: `/${name}/Reshape` });
  }

  tap(label: string, x: Feature): Feature {
    this.taps[label] = x.name;
    return x;
  }
}

/** Layers 0–8; returns the outputs of layers 4 (stride 8), 6 (stride 16) and 8 (stride 32). */
function backbone(net: Net, images: Feature): Feature[] {
  const x1 = net.conv(net.conv(images, 16, 'model.0', { k: 3, s: 2 }), 32, 'model.1', { k: 3, s: 2 });
  const x2 = net.tap('model.2', net.c2f(x1, 32, 1, true, 'model.2'));
  const x4 = net.tap('model.4', net.c2f(net.conv(x2, 64, 'model.3', { k: 3, s: 2 }), 64, 2, true, 'model.4'));
  const x6 = net.tap('model.6', net.c2f(net.conv(x4, 128, 'model.5', { k: 3, s: 2 }), 128, 2, true, 'model.6'));
  const x8 = net.tap('model.8', net.c2f(net.conv(x6, 256, 'model.7', { k: 3, s: 2 }), 256, 1, true, 'model.8'));
  return [x4, x6, x8];
}

/** Layers 9–21: SPPF and the PAN neck; returns the three Detect inputs P3, P4, P5. */
function neck(net: Net, [x4, x6, x8]: Feature[]): Feature[] {
  const x9 = net.tap('model.9', net.sppf(x8!, 256, 5, 'model.9'));
  const x12 = net.c2f(net.concat([net.upsample(x9, 'model.10'), x6!], 'model.11'), 128, 1, false, 'model.12');
  const p3 = net.c2f(net.concat([net.upsample(x12, 'model.13'), x4!], 'model.14'), 64, 1, false, 'model.15');
  const x16 = net.conv(p3, 64, 'model.16', { k: 3, s: 2 });
  const p4 = net.c2f(net.concat([x16, x12], 'model.17'), 128, 1, false, 'model.18');
  const x19 = net.conv(p4, 128, 'model.19', { k: 3, s: 2 });
  const p5 = net.c2f(net.concat([x19, x9], 'model.20'), 256, 1, false, 'model.21');
  return [net.tap('P3', p3), net.tap('P4', p4), net.tap('P5', p5)];
}

/** Per bin of each side: logits peaking at BOX_PEAK_BIN, so expected side lengths are a couple of strides. */
function boxAffine(): Affine {
  const beta = new Float32Array(4 * REG_MAX);
  for (let i = 0; i < beta.length; i++) beta[i] = -(((i % REG_MAX) - BOX_PEAK_BIN) ** 2) / (2 * BOX_PROFILE_WIDTH ** 2);
  return { gamma: filled(4 * REG_MAX, BOX_LOGIT_STD), beta };
}

/** Anchor points (grid cell centres, in grid units) [1, 2, A] and their strides [1, A], level by level, row-major. */
function anchorTensors(net: Net, feats: Feature[]) {
  const count = feats.reduce((sum, f) => sum + f.h * f.w, 0);
  const points = new Float32Array(2 * count);
  const strides = new Float32Array(count);
  let a = 0;
  feats.forEach((f, level) => {
    for (let y = 0; y < f.h; y++) {
      for (let x = 0; x < f.w; x++, a++) {
        points[a] = x + 0.5;
        points[count + a] = y + 0.5;
        strides[a] = STRIDES[level]!;
      }
    }
  });
  const anchors = net.g.float('/model.22/anchors', [1, 2, count], points);
  return { anchors, strides: net.g.float('/model.22/strides', [1, count], strides), count };
}

/** DFL: [N, 64, A] → per side, the softmax-expected bin over 16 bins (a fixed 1×1 conv with arange weights). */
function dfl(net: Net, box: string, count: number): string {
  const { g } = net;
  const shape = g.int64('/model.22/dfl/shape', [0, 4, REG_MAX, count]);
  const bins = g.op('Reshape', [box, shape], {}, { name: '/model.22/dfl/Reshape' });
  const t = g.op('Transpose', [bins], { perm: [0, 2, 1, 3] }, { name: '/model.22/dfl/Transpose' });
  const soft = g.op('Softmax', [t], { axis: 1 }, { name: '/model.22/dfl/Softmax' });
  const arange = g.float(
    'model.22.dfl.conv.weight',
    [1, REG_MAX, 1, 1],
    Float32Array.from({ length: REG_MAX }, (_, i) => i),
  );
  net.params += REG_MAX;
  net.macs += REG_MAX * 4 * count;
  const expected = g.op('Conv', [soft, arange], { kernel_shape: [1, 1] }, { name: '/model.22/dfl/conv/Conv' });
  const outShape = g.int64('/model.22/dfl/out_shape', [0, 4, count]);
  return g.op('Reshape', [expected, outShape], {}, { name: '/model.22/dfl/Reshape_1' });
}

/** dist2bbox(xywh=True) × strides: distances from the anchor to the sides → cx, cy, w, h in input pixels. */
function dist2bbox(net: Net, dist: string, anchors: string, strides: string): string {
  const { g } = net;
  const axis = g.int64('/model.22/axis1', [1]);
  const side = (from: number) =>
    g.op('Slice', [dist, g.int64('/model.22/start', [from]), g.int64('/model.22/end', [from + 2]), axis]);
  const x1y1 = g.op('Sub', [anchors, side(0)]);
  const x2y2 = g.op('Add', [anchors, side(2)]);
  const centre = g.op('Div', [g.op('Add', [x1y1, x2y2]), g.float('/model.22/two', [], 2)]);
  const wh = g.op('Sub', [x2y2, x1y1]);
  return g.op('Mul', [g.op('Concat', [centre, wh], { axis: 1 }), strides]);
}

interface DetectClasses {
  count: number;
  /** Class logits = scale × (per-class normalised logit) + shift; the calibration graph uses 1 and 0. */
  scale: number;
  shift: number;
}

/**
 * Detect (reg_max 16) as exported: per level cat(box branch, class branch) → [N, 64 + nc, A] over all levels →
 * DFL and dist2bbox for the boxes, sigmoid for the classes → [N, 4 + nc, A].
 */
function detectHead(net: Net, feats: Feature[], classes: DetectClasses, output: string) {
  const { g } = net;
  const nc = classes.count;
  const ch0 = feats[0]!.c;
  const c2 = Math.max(16, ch0 / 4, REG_MAX * 4);
  const c3 = Math.max(ch0, Math.min(nc, 100));
  const classAffine = () => ({ gamma: filled(nc, classes.scale), beta: filled(nc, classes.shift) });
  const levels = feats.map((f, i) => {
    const box = net.branch(f, c2, 4 * REG_MAX, `model.22.cv2.${i}`, boxAffine());
    const cls = net.tap(`cls${i}`, net.branch(f, c3, nc, `model.22.cv3.${i}`, classAffine()));
    return net.flatten(net.concat([box, cls], `model.22.${i}`), `model.22.${i}`);
  });
  const all = g.op('Concat', levels, { axis: 2 }, { name: '/model.22/Concat_3' });
  const split = g.int64('/model.22/split', [4 * REG_MAX, nc]);
  const [box, cls] = g.node('Split', [all, split], { axis: 1 }, { outputs: 2, name: '/model.22/Split' });
  const { anchors, strides, count } = anchorTensors(net, feats);
  const xywh = dist2bbox(net, dfl(net, box!, count), anchors, strides);
  const y = g.op('Concat', [xywh, g.op('Sigmoid', [cls!])], { axis: 1 }, { name: '/model.22/Concat_5', output });
  return { y, count };
}

/** Proto(c1, 64, 32): Conv3 → ConvTranspose 2× up → Conv3 → Conv1 to the 32 prototypes at stride 4. */
function proto(net: Net, p3: Feature): Feature {
  const c = 64;
  const x = net.conv(p3, c, 'model.22.proto.cv1', { k: 3 });
  // nn.ConvTranspose2d(c, c, 2, 2, 0, bias=True), no BatchNorm; the next conv's normalisation absorbs its scale.
  const weights = net.normals(c * c * 4, 0, Math.sqrt(1 / (c * 4)));
  const w = floatInit(net.g, 'model.22.proto.upsample.weight', [c, c, 2, 2], weights);
  const b = net.g.float('model.22.proto.upsample.bias', [c], net.normals(c, 0, 0.1));
  const attrs = { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };
  const up = net.g.op('ConvTranspose', [x.name, w, b], attrs, { name: '/model.22/proto/upsample/ConvTranspose' });
  net.params += weights.length + c;
  net.macs += c * c * 4 * x.h * x.w;
  const y = net.conv({ name: up, c, h: x.h * 2, w: x.w * 2 }, c, 'model.22.proto.cv2', { k: 3 });
  // SiLU(N(-0.5, 1)) has mean ≈ 0, so a mask logit Σ coeff·proto changes sign inside a box instead of being
  // dominated by the prototypes' mean: masks cover part of their box rather than none or all of it.
  const affine = { gamma: filled(MASK_PROTOS, 1), beta: filled(MASK_PROTOS, PROTO_SHIFT) };
  return net.conv(y, MASK_PROTOS, 'model.22.proto.cv3', { affine });
}

/** Per level Conv3 → Conv3 → Conv1 to 32 mask coefficients, flattened and concatenated: [N, 32, A]. */
function maskCoefficients(net: Net, feats: Feature[]): string {
  const c4 = Math.max(feats[0]!.c / 4, MASK_PROTOS);
  const affine = () => ({ gamma: filled(MASK_PROTOS, MASK_COEFF_STD), beta: filled(MASK_PROTOS, 0) });
  const levels = feats.map((f, i) => {
    const mc = net.branch(f, c4, MASK_PROTOS, `model.22.cv4.${i}`, affine());
    return net.flatten(mc, `model.22.cv4.${i}`);
  });
  return net.g.op('Concat', levels, { axis: 2 }, { name: '/model.22/Concat_mc' });
}

function setMetadata(g: GraphBuilder, task: Yolov8nTask, imgsz: number, names: readonly string[]): void {
  const generator = 'scripts/models/yolov8n.ts';
  g.metadata.description = `Random-weight YOLOv8n-shaped ${task} model for benchmarks, generated by ${generator}`;
  g.metadata.author = 'inference-pool';
  g.metadata.license = 'MIT';
  g.metadata.stride = '32';
  g.metadata.task = task;
  g.metadata.batch = '1';
  g.metadata.imgsz = `[${imgsz}, ${imgsz}]`;
  g.metadata.names = ultralyticsNames(names);
}

/**
 * Picture-like calibration inputs [count, 3, size, size] in [0, 1]: a gradient background with a few dozen
 * shaded, striped rectangles and ellipses of random sizes and colours, and a little pixel noise, so the
 * normalisation statistics are those of edges, flat regions and texture, as in photos.
 */
export function syntheticPictures(count: number, size: number, seed = 1): Float32Array {
  const rng = new Random(seed ^ 0x5eed);
  const plane = size * size;
  const out = new Float32Array(count * 3 * plane);
  for (let n = 0; n < count; n++) {
    const image = out.subarray(n * 3 * plane, (n + 1) * 3 * plane);
    background(image, size, rng);
    const shapes = 10 + Math.floor(rng.uniform(0, 25));
    for (let s = 0; s < shapes; s++) drawShape(image, size, rng);
    for (let i = 0; i < image.length; i++) image[i] = Math.min(1, Math.max(0, image[i]! + rng.normal(0, 0.02)));
  }
  return out;
}

function background(image: Float32Array, size: number, rng: Random): void {
  const plane = size * size;
  for (let c = 0; c < 3; c++) {
    const [from, to] = [rng.next(), rng.next()];
    const angle = rng.uniform(0, 2 * Math.PI);
    const [dx, dy] = [Math.cos(angle) / size, Math.sin(angle) / size];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const t = Math.min(1, Math.max(0, 0.5 + (x - size / 2) * dx + (y - size / 2) * dy));
        image[c * plane + y * size + x] = from + (to - from) * t;
      }
    }
  }
}

function drawShape(image: Float32Array, size: number, rng: Random): void {
  const plane = size * size;
  // Log-uniform sizes, 2–40% of the image, as objects in photos.
  const [rx, ry] = [0, 0].map(() => (size / 2) * Math.exp(rng.uniform(Math.log(0.02), Math.log(0.4))));
  const [cx, cy] = [rng.uniform(0, size), rng.uniform(0, size)];
  const colour = [rng.next(), rng.next(), rng.next()];
  const ellipse = rng.next() < 0.5;
  const stripes = { amp: rng.uniform(0, 0.2), freq: rng.uniform(0.05, 0.6), angle: rng.uniform(0, Math.PI) };
  const [sx, sy] = [Math.cos(stripes.angle) * stripes.freq, Math.sin(stripes.angle) * stripes.freq];
  for (let y = Math.max(0, Math.ceil(cy - ry!)); y < Math.min(size, cy + ry!); y++) {
    for (let x = Math.max(0, Math.ceil(cx - rx!)); x < Math.min(size, cx + rx!); x++) {
      const [u, v] = [(x - cx) / rx!, (y - cy) / ry!];
      if (ellipse && u * u + v * v > 1) continue;
      const shade = 0.85 + 0.15 * v + stripes.amp * Math.sin(x * sx + y * sy);
      for (let c = 0; c < 3; c++) image[c * plane + y * size + x] = colour[c]! * shade;
    }
  }
}

type CalibrationKind = 'picture' | 'noise' | 'smooth';

function calibrationBatch(kinds: CalibrationKind[], size: number, seed: number): Float32Array {
  const plane = 3 * size * size;
  const out = new Float32Array(kinds.length * plane);
  const rng = new Random(seed ^ 0xca1);
  kinds.forEach((kind, i) => {
    const image = out.subarray(i * plane, (i + 1) * plane);
    if (kind === 'picture') image.set(syntheticPictures(1, size, seed + i));
    else if (kind === 'noise') for (let j = 0; j < plane; j++) image[j] = rng.next();
    else smoothField(image, size, rng);
  });
  return out;
}

/** A smooth random colour field: a few low-frequency plane waves per channel around mid grey. */
function smoothField(image: Float32Array, size: number, rng: Random): void {
  const plane = size * size;
  for (let c = 0; c < 3; c++) {
    const out = image.subarray(c * plane, (c + 1) * plane).fill(0.5);
    for (let k = 0; k < 4; k++) {
      const [fx, fy] = [rng.uniform(-3, 3), rng.uniform(-3, 3)].map((f) => (f * 2 * Math.PI) / size);
      const [phase, amp] = [rng.uniform(0, 2 * Math.PI), rng.uniform(0.05, 0.15)];
      // sin(a + b) = sin a cos b + cos a sin b: a table per axis instead of a sine per pixel.
      const sinX = Float32Array.from({ length: size }, (_, x) => amp * Math.sin(fx! * x + phase));
      const cosX = Float32Array.from({ length: size }, (_, x) => amp * Math.cos(fx! * x + phase));
      for (let y = 0; y < size; y++) {
        const [cy, sy] = [Math.cos(fy! * y), Math.sin(fy! * y)];
        for (let x = 0; x < size; x++) out[y * size + x] = out[y * size + x]! + sinX[x]! * cy + cosX[x]! * sy;
      }
    }
    for (let i = 0; i < plane; i++) out[i] = Math.min(1, Math.max(0, out[i]!));
  }
}

interface Calibration {
  stats: Map<string, Stats>;
  /** The calibration build's random values, for the final build to reuse rather than draw again. */
  draws: Float32Array[];
  /** Detect, segment: class logit = scale × normalised logit + shift. */
  classes?: { scale: number; shift: number };
  /** Classify: the Linear layer's weight scale and bias. */
  linear?: { scale: number; bias: Float32Array };
}

interface BuildOptions {
  task: Yolov8nTask;
  seed: number;
  imgsz: number;
  classes: number;
  /** Add the taps (intermediate feature maps) as graph outputs. */
  taps: boolean;
}

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/** Builds the graph; `calibration` undefined gives the calibration graph. Returns the net and linear's weights. */
function build(
  opts: BuildOptions,
  calibration?: Calibration,
  statsImages = 1,
): { net: Net; linearWeights?: Float32Array } {
  if (opts.imgsz % 32 !== 0) throw new Error(`imgsz ${opts.imgsz} is not a multiple of 32`);
  const short = { detect: 'det', segment: 'seg', classify: 'cls' }[opts.task];
  const g = new GraphBuilder(`yolov8n-${short}`);
  const mode: Mode = calibration ? { kind: 'final', stats: calibration.stats } : { kind: 'calibrate', statsImages };
  const net = new Net(g, new Random(opts.seed), mode, calibration?.draws);
  const { imgsz, classes } = opts;
  const images = { name: g.input('images', ['batch', 3, imgsz, imgsz]), c: 3, h: imgsz, w: imgsz };
  const result: { net: Net; linearWeights?: Float32Array } = { net };
  if (opts.task === 'classify')
    result.linearWeights = classifyHead(net, backbone(net, images)[2]!, classes, calibration);
  else detectOrSegment(net, images, opts, calibration);
  if (opts.taps) for (const [label, name] of Object.entries(net.taps)) g.output(`tap.${label}`, null, 'float32', name);
  setMetadata(g, opts.task, imgsz, opts.task === 'classify' || classes !== 80 ? defaultNames(classes) : COCO_NAMES);
  return result;
}

function detectOrSegment(net: Net, images: Feature, opts: BuildOptions, calibration?: Calibration): void {
  const { g } = net;
  const feats = neck(net, backbone(net, images));
  const classes = { count: opts.classes, ...(calibration?.classes ?? { scale: 1, shift: 0 }) };
  if (opts.task === 'detect') {
    const { count } = detectHead(net, feats, classes, 'output0');
    g.output('output0', ['batch', 4 + opts.classes, count]);
    return;
  }
  const { y, count } = detectHead(net, feats, classes, 'detections');
  // Drawn after Detect's weights, so a detector and a segmenter with one seed share backbone, neck and Detect.
  const mc = maskCoefficients(net, feats);
  g.op('Concat', [y, mc], { axis: 1 }, { name: '/model.22/Concat_6', output: 'output0' });
  const protos = proto(net, feats[0]!);
  // Declared in Ultralytics' order: output0 (boxes, scores, coefficients), then output1 (prototypes).
  g.output('output0', ['batch', 4 + opts.classes + MASK_PROTOS, count]);
  g.output('output1', ['batch', MASK_PROTOS, protos.h, protos.w], 'float32', protos.name);
}

/** Classify(256, nc): Conv1 to 1280 → global average pool → Linear → Softmax (the export-time head). */
function classifyHead(net: Net, x: Feature, classes: number, calibration?: Calibration): Float32Array {
  const { g } = net;
  const c = 1280;
  const pooled = g.op(
    'GlobalAveragePool',
    [net.conv(x, c, 'model.9.conv').name],
    {},
    { name: '/model.9/pool/GlobalAveragePool' },
  );
  const flat = g.op('Flatten', [pooled], { axis: 1 }, { name: '/model.9/Flatten' });
  net.taps.pooled = flat;
  const weights = net.normals(classes * c, 0, Math.sqrt(1 / c));
  const linear = calibration?.linear ?? { scale: 1, bias: new Float32Array(classes) };
  const scaled = new Float32Array(weights.length);
  for (let i = 0; i < weights.length; i++) scaled[i] = weights[i]! * linear.scale;
  const w = floatInit(g, 'model.9.linear.weight', [classes, c], scaled);
  const b = g.float('model.9.linear.bias', [classes], linear.bias);
  const attrs = { transB: 1 };
  const logits = g.op('Gemm', [flat, w, b], attrs, { name: '/model.9/linear/Gemm' });
  g.op('Softmax', [logits], { axis: 1 }, { name: '/model.9/Softmax', output: 'output0' });
  g.output('output0', ['batch', classes]);
  net.params += weights.length + classes;
  net.macs += c * classes;
  return weights;
}

/**
 * Calibration batches: picture-like images, white noise and a smooth field, so that BatchNorm statistics and class
 * thresholds suit the inputs benchmarks feed (photos, noise, gradients), not one kind only. The statistics come
 * from `stats`; the class thresholds from `heldOut`, as images outside the statistics get more extreme logits
 * (about twice the confident anchors) and every image a model serves is such an image.
 */
const CALIBRATION: Record<'detect' | 'classify', { stats: CalibrationKind[]; heldOut: CalibrationKind[] }> = {
  detect: { stats: ['picture', 'noise', 'smooth'], heldOut: ['picture', 'noise', 'smooth'] },
  classify: {
    stats: ['picture', 'picture', 'picture', 'picture', 'picture', 'picture', 'noise', 'smooth'],
    heldOut: [],
  },
};

// Detector and segmenter with the same options share their calibration: the segment graph holds every conv of the
// detect graph, with the same weights (they are drawn first), so one calibration pass serves both.
const calibrations = new Map<string, Promise<Calibration>>();

function sharedCalibration(opts: BuildOptions, targetCandidates: number): Promise<Calibration> {
  const task = opts.task === 'classify' ? 'classify' : 'segment';
  const key = JSON.stringify([task, opts.seed, opts.imgsz, opts.classes, targetCandidates]);
  let found = calibrations.get(key);
  if (!found) {
    found = calibrate({ ...opts, task, taps: true }, targetCandidates);
    calibrations.set(key, found);
    found.catch(() => calibrations.delete(key));
  }
  return found;
}

/** Runs the calibration graph on a calibration batch; returns what the final graph needs to fold in. */
async function calibrate(opts: BuildOptions, targetCandidates: number): Promise<Calibration> {
  const { stats: statsKinds, heldOut } = CALIBRATION[opts.task === 'classify' ? 'classify' : 'detect'];
  const kinds = [...statsKinds, ...heldOut];
  const { net, linearWeights } = build(opts, undefined, statsKinds.length);
  const batch = calibrationBatch(kinds, opts.imgsz, opts.seed);
  const session = await ort.InferenceSession.create(net.g.toBytes());
  try {
    const feeds = { images: new ort.Tensor('float32', batch, [kinds.length, 3, opts.imgsz, opts.imgsz]) };
    const out = await session.run(feeds);
    const read = (name: string) => out[name]!.data as Float32Array;
    const stats = new Map<string, Stats>();
    for (const [conv, names] of net.statOutputs)
      stats.set(conv, { mean: read(names.mean), variance: read(names.variance) });
    if (opts.task === 'classify') {
      const linear = linearCalibration(read('tap.pooled'), kinds.length, linearWeights!, opts.classes);
      return { stats, draws: net.draws, linear };
    }
    const levels = [0, 1, 2].map((i) => out[`tap.cls${i}`]!);
    const images = Array.from(heldOut, (_, i) => statsKinds.length + i);
    return { stats, draws: net.draws, classes: classCalibration(levels, images, targetCandidates) };
  } finally {
    await session.release();
  }
}

/**
 * Class logits come out of calibration normalised per class (zero mean, unit variance), so no class dominates and
 * different classes win at different anchors. Picks the scale and shift that put the best class of about `target`
 * anchors per calibration image above CONF_HIGH and LOW_TO_HIGH × as many above CONF_LOW, "about" being the
 * geometric mean over the images, so that no one kind of picture sets the thresholds for all.
 */
function classCalibration(levels: ort.Tensor[], images: number[], target: number) {
  const maxima = images.map((i) => bestClassLogits(levels, i).sort().reverse());
  const high = thresholdFor(maxima, target);
  const low = thresholdFor(maxima, target * LOW_TO_HIGH);
  const scale = (logit(CONF_HIGH) - logit(CONF_LOW)) / Math.max(high - low, 1e-3);
  return { scale, shift: logit(CONF_HIGH) - scale * high };
}

/** Image i's best (normalised) class logit at every anchor, all levels. */
function bestClassLogits(levels: ort.Tensor[], i: number): Float32Array {
  const parts = levels.map((t) => {
    const [, c, h, w] = t.dims as number[];
    const data = t.data as Float32Array;
    const plane = h! * w!;
    const best = data.slice(i * c! * plane, i * c! * plane + plane);
    for (let k = 1; k < c!; k++) {
      const offset = (i * c! + k) * plane;
      for (let a = 0; a < plane; a++) best[a] = Math.max(best[a]!, data[offset + a]!);
    }
    return best;
  });
  const out = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The threshold that the geometric mean over images of (1 + anchors above it) puts at 1 + count (bisection). */
function thresholdFor(descending: Float32Array[], count: number): number {
  const above = (values: Float32Array, t: number) => {
    let lo = 0;
    let hi = values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (values[mid]! > t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const meanLog = (t: number) => descending.reduce((sum, v) => sum + Math.log1p(above(v, t)), 0) / descending.length;
  let lo = Math.min(...descending.map((v) => v[v.length - 1]!));
  let hi = Math.max(...descending.map((v) => v[0]!));
  for (let i = 0; i < 50; i++) {
    const mid = (lo + hi) / 2;
    if (meanLog(mid) > Math.log1p(count)) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function dot(a: Float32Array, b: Float32Array, bOffset: number): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[bOffset + j]!;
  return sum;
}

/**
 * The classifier's logits: centred on the calibration images' mean pooled features (so no class wins everywhere)
 * and scaled so they spread CLASSIFY_LOGIT_STD across classes and images.
 */
function linearCalibration(pooled: Float32Array, images: number, weights: Float32Array, classes: number) {
  const c = pooled.length / images;
  const mean = new Float32Array(c);
  for (let i = 0; i < images; i++) {
    for (let j = 0; j < c; j++) mean[j] = mean[j]! + pooled[i * c + j]! / images;
  }
  const bias = new Float32Array(classes);
  let sumSquares = 0;
  for (let k = 0; k < classes; k++) {
    const row = weights.subarray(k * c, (k + 1) * c);
    const offset = -dot(row, mean, 0);
    bias[k] = offset;
    for (let i = 0; i < images; i++) sumSquares += (offset + dot(row, pooled, i * c)) ** 2;
  }
  const scale = CLASSIFY_LOGIT_STD / Math.sqrt(sumSquares / (classes * images));
  for (let k = 0; k < classes; k++) bias[k] = bias[k]! * scale;
  return { scale, bias };
}

/**
 * A YOLOv8n-shaped model of the given task with its counts. Defaults: seed 1; detect / segment imgsz 640, 80 COCO
 * classes, 40 target candidates; classify imgsz 224, 1000 classes. `taps` adds intermediate feature maps as extra
 * outputs named tap.<layer> (for checking activation statistics).
 */
export async function yolov8nModel(
  task: Yolov8nTask,
  opts: Yolov8nOptions & { taps?: boolean } = {},
): Promise<Yolov8nModel> {
  const classify = task === 'classify';
  const buildOpts: BuildOptions = {
    task,
    seed: opts.seed ?? 1,
    imgsz: opts.imgsz ?? (classify ? 224 : 640),
    classes: opts.classes ?? (classify ? 1000 : 80),
    taps: opts.taps ?? false,
  };
  const { net } = build(buildOpts, await sharedCalibration(buildOpts, opts.targetCandidates ?? 40));
  return { bytes: net.g.toBytes(), task, params: net.params, gflops: (2 * net.macs) / 1e9 };
}

/** YOLOv8n detect: images [batch, 3, imgsz, imgsz] → output0 [batch, 4 + classes, anchors] (cx, cy, w, h, scores). */
export async function yolov8nDetector(opts: Yolov8nOptions = {}): Promise<Uint8Array> {
  return (await yolov8nModel('detect', opts)).bytes;
}

/**
 * YOLOv8n-seg: output0 [batch, 4 + classes + 32, anchors] (box, scores, mask coefficients) and output1
 * [batch, 32, imgsz / 4, imgsz / 4] (mask prototypes).
 */
export async function yolov8nSegmenter(opts: Yolov8nOptions = {}): Promise<Uint8Array> {
  return (await yolov8nModel('segment', opts)).bytes;
}

/** YOLOv8n-cls: images [batch, 3, imgsz, imgsz] → output0 [batch, classes] (softmax probabilities). */
export async function yolov8nClassifier(opts: Yolov8nClassifierOptions = {}): Promise<Uint8Array> {
  return (await yolov8nModel('classify', opts)).bytes;
}
