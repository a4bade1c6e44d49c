// Random-weight models shaped exactly like Ultralytics' YOLOv8n ONNX exports (detect, segment, classify), for
// benchmarks: the same layers, channel widths, FLOPs, graph ops and output layouts as `yolo export format=onnx
// dynamic=True`, with seeded weights instead of trained ones, so nothing has to be downloaded.
import { GraphBuilder, attr, defaultNames, ultralyticsNames } from '../onnx/builder.js';
import { Random } from '../onnx/random.js';

export interface Yolov8nOptions {
  /** PRNG seed for the weights; default 1. */
  seed?: number;
  /** Input height and width (a multiple of 32); default 640. */
  imgsz?: number;
  /** Number of classes; default 80 (COCO names when 80). */
  classes?: number;
  /** About this many anchors per image get a best class score above 0.4; default 40. */
  targetCandidates?: number;
}

export interface Yolov8nClassifierOptions {
  seed?: number;
  /** Input height and width (a multiple of 32); default 224. */
  imgsz?: number;
  /** Number of classes; default 1000. */
  classes?: number;
}

export type Yolov8nTask = 'detect' | 'segment' | 'classify';

/** A built graph plus what a benchmark reports about it. */
export interface Yolov8nGraph {
  graph: GraphBuilder;
  /** Weights and biases, BatchNorm folded into the convolutions (as `yolo export` fuses them). */
  params: number;
  /** 2 × multiply-accumulates per image, as Ultralytics counts GFLOPs. */
  gflops: number;
  /** Named intermediate feature maps, so a calibration or test script can add them as outputs. */
  taps: Record<string, string>;
}

export const COCO_NAMES = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant',
  'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee', 'skis', 'snowboard',
  'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange', 'broccoli',
  'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed', 'dining table', 'toilet',
  'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven', 'toaster', 'sink',
  'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

const REG_MAX = 16;
const STRIDES = [8, 16, 32] as const;
const MASK_PROTOS = 32;

// Hidden conv weights: N(0, (GAIN / sqrt(fan_in))²), folded BN bias N(ACT_BIAS, BIAS_STD²).
const GAIN = 1.68;
const ACT_BIAS = 0;
const BIAS_STD = 0.1;

interface Feature {
  name: string;
  c: number;
  h: number;
  w: number;
}

interface ConvOptions {
  k?: number;
  s?: number;
  /** SiLU after the conv (Ultralytics' Conv); false for the heads' final nn.Conv2d. */
  act?: boolean;
  /** Weight std; default GAIN / sqrt(fan_in). */
  std?: number;
  /** Bias values (length c2); default N(ACT_BIAS, BIAS_STD²). */
  bias?: Float32Array;
}

/** Graph building with the parameter and MAC counts kept alongside, and Ultralytics' module names on the nodes. */
class Net {
  params = 0;
  macs = 0;
  readonly taps: Record<string, string> = {};

  constructor(
    readonly g: GraphBuilder,
    readonly rng: Random,
  ) {}

  normals(n: number, mean: number, std: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.rng.normal(mean, std);
    return out;
  }

  /** Conv2d (padding k/2) with a bias standing for the folded BatchNorm, then SiLU unless act is false. */
  conv(x: Feature, c2: number, name: string, opts: ConvOptions = {}): Feature {
    const { k = 1, s = 1, act = true } = opts;
    const fanIn = x.c * k * k;
    const weights = this.normals(c2 * fanIn, 0, opts.std ?? GAIN / Math.sqrt(fanIn));
    const bias = opts.bias ?? this.normals(c2, ACT_BIAS, BIAS_STD);
    const w = this.g.float(`${name}.weight`, [c2, x.c, k, k], weights);
    const b = this.g.float(`${name}.bias`, [c2], bias);
    const p = Math.floor(k / 2);
    const attrs = { kernel_shape: [k, k], strides: [s, s], pads: [p, p, p, p], dilations: [1, 1], group: 1 };
    const y = this.g.op('Conv', [x.name, w, b], attrs, { name: `/${name}/conv/Conv` });
    const h = Math.floor((x.h + 2 * p - k) / s) + 1;
    const wd = Math.floor((x.w + 2 * p - k) / s) + 1;
    this.params += weights.length + bias.length;
    this.macs += c2 * fanIn * h * wd;
    return { name: act ? this.silu(y, name) : y, c: c2, h, w: wd };
  }

  /** SiLU as torch exports it before opset 14 has no Silu op: x · sigmoid(x). */
  silu(x: string, name: string): string {
    const sig = this.g.op('Sigmoid', [x], {}, { name: `/${name}/act/Sigmoid` });
    return this.g.op('Mul', [x, sig], {}, { name: `/${name}/act/Mul` });
  }

  split(x: Feature, sizes: number[], name: string): Feature[] {
    const outs = this.g.node('Split', [x.name, this.g.int64(`${name}.split`, sizes)], { axis: 1 }, {
      outputs: sizes.length,
      name: `/${name}/Split`,
    });
    return outs.map((out, i) => ({ ...x, name: out, c: sizes[i]! }));
  }

  concat(xs: Feature[], name: string): Feature {
    const y = this.g.op('Concat', xs.map((x) => x.name), { axis: 1 }, { name: `/${name}/Concat` });
    return { ...xs[0]!, name: y, c: xs.reduce((sum, x) => sum + x.c, 0) };
  }

  add(a: Feature, b: Feature, name: string): Feature {
    return { ...a, name: this.g.op('Add', [a.name, b.name], {}, { name: `/${name}/Add` }) };
  }

  upsample(x: Feature, name: string): Feature {
    const scales = this.g.float(`${name}.scales`, [4], [1, 1, 2, 2]);
    // nn.Upsample(scale_factor=2, mode='nearest') exports as this Resize.
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

  /** C2f(c1, c2, n, shortcut, e=0.5): split cv1's output in two, chain n bottlenecks on the second half, concat all. */
  c2f(x: Feature, c2: number, n: number, shortcut: boolean, name: string): Feature {
    const c = c2 / 2;
    const parts = this.split(this.conv(x, 2 * c, `${name}.cv1`), [c, c], name);
    for (let i = 0; i < n; i++) parts.push(this.bottleneck(parts[parts.length - 1]!, shortcut, `${name}.m.${i}`));
    return this.conv(this.concat(parts, name), c2, `${name}.cv2`);
  }

  /** SPPF(c1, c2, k): cv1 to c1/2 channels, three chained max pools, concat the four, cv2. */
  sppf(x: Feature, c2: number, k: number, name: string): Feature {
    const parts = [this.conv(x, x.c / 2, `${name}.cv1`)];
    for (let i = 0; i < 3; i++) parts.push(this.maxPool(parts[i]!, k, `${name}.m.${i}`));
    return this.conv(this.concat(parts, name), c2, `${name}.cv2`);
  }

  /** Conv3 → Conv3 → Conv2d 1×1 (no activation): one of Detect's per-level branches. */
  branch(x: Feature, c: number, cOut: number, name: string, last: ConvOptions): Feature {
    const y = this.conv(this.conv(x, c, `${name}.0`, { k: 3 }), c, `${name}.1`, { k: 3 });
    return this.conv(y, cOut, `${name}.2`, { ...last, act: false });
  }

  /** [N, C, H, W] → [N, C, H·W]. */
  flatten(x: Feature, name: string): string {
    return this.g.op('Reshape', [x.name, this.g.int64(`${name}.shape`, [0, x.c, -1])], {}, { name: `/${name}/Reshape` });
  }

  tap(label: string, x: Feature): Feature {
    this.taps[label] = x.name;
    return x;
  }
}

/** Backbone up to C2f(256) (layers 0–8); returns P3, P4 and the last C2f's output. */
function backbone(net: Net, images: Feature): Feature[] {
  const x0 = net.conv(images, 16, 'model.0', { k: 3, s: 2 });
  const x1 = net.conv(x0, 32, 'model.1', { k: 3, s: 2 });
  const x2 = net.tap('c2f_2', net.c2f(x1, 32, 1, true, 'model.2'));
  const x3 = net.conv(x2, 64, 'model.3', { k: 3, s: 2 });
  const p3 = net.tap('c2f_4', net.c2f(x3, 64, 2, true, 'model.4'));
  const x5 = net.conv(p3, 128, 'model.5', { k: 3, s: 2 });
  const p4 = net.tap('c2f_6', net.c2f(x5, 128, 2, true, 'model.6'));
  const x7 = net.conv(p4, 256, 'model.7', { k: 3, s: 2 });
  const x8 = net.tap('c2f_8', net.c2f(x7, 256, 1, true, 'model.8'));
  return [p3, p4, x8];
}

/** Layers 9–21: SPPF and the PAN neck; returns the three Detect inputs (strides 8, 16, 32). */
function neck(net: Net, [b4, b6, b8]: Feature[]): Feature[] {
  const x9 = net.tap('sppf_9', net.sppf(b8!, 256, 5, 'model.9'));
  const x12 = net.c2f(net.concat([net.upsample(x9, 'model.10'), b6!], 'model.11'), 128, 1, false, 'model.12');
  const p3 = net.c2f(net.concat([net.upsample(x12, 'model.13'), b4!], 'model.14'), 64, 1, false, 'model.15');
  const x16 = net.conv(p3, 64, 'model.16', { k: 3, s: 2 });
  const p4 = net.c2f(net.concat([x16, x12], 'model.17'), 128, 1, false, 'model.18');
  const x19 = net.conv(p4, 128, 'model.19', { k: 3, s: 2 });
  const p5 = net.c2f(net.concat([x19, x9], 'model.20'), 256, 1, false, 'model.21');
  return [net.tap('p3', p3), net.tap('p4', p4), net.tap('p5', p5)];
}

interface HeadOptions {
  classes: number;
  /** Class logit bias, the same for every class. */
  classBias: number;
}

// Final box conv: each side's 16 DFL bins get logits N(profile, BOX_LOGIT_STD²) where the profile peaks at
// BOX_PEAK_BIN, so sides come out a couple of bins (× stride pixels) long with some spread between anchors.
const BOX_LOGIT_STD = 1;
const BOX_PEAK_BIN = 2;
const BOX_PROFILE_WIDTH = 1.5;
const CLS_LOGIT_STD = 1.3;

function boxBias(): Float32Array {
  const bias = new Float32Array(4 * REG_MAX);
  for (let i = 0; i < bias.length; i++) {
    const bin = i % REG_MAX;
    bias[i] = -((bin - BOX_PEAK_BIN) ** 2) / (2 * BOX_PROFILE_WIDTH ** 2);
  }
  return bias;
}

/** Anchor centres (grid cell centres, in grid units) [1, 2, A] and strides [1, A], level by level, row-major. */
function anchorTensors(net: Net, feats: Feature[]): { anchors: string; strides: string; count: number } {
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
  return {
    anchors: net.g.float('anchors', [1, 2, count], points),
    strides: net.g.float('strides', [1, count], strides),
    count,
  };
}

/** DFL: [N, 64, A] → per side, softmax over the 16 bins and their expected bin index: [N, 4, A]. */
function dfl(net: Net, box: string, count: number): string {
  const { g } = net;
  const bins = g.op('Reshape', [box, g.int64('dfl.shape', [0, 4, REG_MAX, count])], {}, { name: '/dfl/Reshape' });
  const t = g.op('Transpose', [bins], { perm: [0, 2, 1, 3] }, { name: '/dfl/Transpose' });
  const soft = g.op('Softmax', [t], { axis: 1 }, { name: '/dfl/Softmax' });
  const arange = g.float('dfl.conv.weight', [1, REG_MAX, 1, 1], Float32Array.from({ length: REG_MAX }, (_, i) => i));
  net.params += REG_MAX;
  net.macs += REG_MAX * 4 * count;
  const expected = g.op('Conv', [soft, arange], { kernel_shape: [1, 1] }, { name: '/dfl/conv/Conv' });
  return g.op('Reshape', [expected, g.int64('dfl.out_shape', [0, 4, count])], {}, { name: '/dfl/Reshape_1' });
}

/** dist2bbox(xywh=True) × strides: distances to the box sides from the anchor → cx, cy, w, h in input pixels. */
function dist2bbox(net: Net, dist: string, anchors: string, strides: string): string {
  const { g } = net;
  const slice = (from: number, to: number) =>
    g.op('Slice', [dist, g.int64('slice.starts', [from]), g.int64('slice.ends', [to]), g.int64('slice.axes', [1])]);
  const x1y1 = g.op('Sub', [anchors, slice(0, 2)]);
  const x2y2 = g.op('Add', [anchors, slice(2, 4)]);
  const centre = g.op('Div', [g.op('Add', [x1y1, x2y2]), g.float('two', [], 2)]);
  const wh = g.op('Sub', [x2y2, x1y1]);
  return g.op('Mul', [g.op('Concat', [centre, wh], { axis: 1 }), strides]);
}

/**
 * Detect (reg_max 16) as exported: per level cat(box branch, class branch) → [N, 64 + nc, A] over all levels →
 * DFL and dist2bbox for the boxes, sigmoid for the classes → [N, 4 + nc, A].
 */
function detectHead(net: Net, feats: Feature[], opts: HeadOptions): { y: string; count: number } {
  const { g } = net;
  const nc = opts.classes;
  const ch0 = feats[0]!.c;
  const c2 = Math.max(16, ch0 / 4, REG_MAX * 4);
  const c3 = Math.max(ch0, Math.min(nc, 100));
  const levels = feats.map((f, i) => {
    const box = net.branch(f, c2, 4 * REG_MAX, `model.22.cv2.${i}`, {
      std: (BOX_LOGIT_STD * GAIN) / Math.sqrt(c2),
      bias: boxBias(),
    });
    const cls = net.branch(f, c3, nc, `model.22.cv3.${i}`, {
      std: (CLS_LOGIT_STD * GAIN) / Math.sqrt(c3),
      bias: new Float32Array(nc).fill(opts.classBias),
    });
    net.tap(`cls_${i}`, cls);
    return net.flatten(net.concat([box, cls], `model.22.${i}`), `model.22.${i}`);
  });
  const all = g.op('Concat', levels, { axis: 2 }, { name: '/model.22/Concat_3' });
  const [box, cls] = g.node('Split', [all, g.int64('model.22.split', [4 * REG_MAX, nc])], { axis: 1 }, { outputs: 2 });
  const { anchors, strides, count } = anchorTensors(net, feats);
  const xywh = dist2bbox(net, dfl(net, box!, count), anchors, strides);
  const y = g.op('Concat', [xywh, g.op('Sigmoid', [cls!])], { axis: 1 }, { name: '/model.22/Concat_5' });
  return { y, count };
}

function setMetadata(g: GraphBuilder, task: Yolov8nTask, imgsz: number, names: readonly string[]): void {
  g.metadata.description = `Random-weight YOLOv8n-shaped ${task} model for benchmarks, generated by scripts/models/yolov8n.ts`;
  g.metadata.author = 'inference-pool';
  g.metadata.license = 'MIT';
  g.metadata.stride = '32';
  g.metadata.task = task;
  g.metadata.batch = '1';
  g.metadata.imgsz = `[${imgsz}, ${imgsz}]`;
  g.metadata.names = ultralyticsNames(names);
}

function classNames(classes: number): readonly string[] {
  return classes === COCO_NAMES.length ? COCO_NAMES : defaultNames(classes);
}

function start(name: string, seed: number, imgsz: number): { net: Net; images: Feature } {
  if (imgsz % 32 !== 0) throw new Error(`imgsz ${imgsz} is not a multiple of 32`);
  const g = new GraphBuilder(name);
  const net = new Net(g, new Random(seed));
  const images = { name: g.input('images', ['batch', 3, imgsz, imgsz]), c: 3, h: imgsz, w: imgsz };
  return { net, images };
}

function finish(net: Net): Yolov8nGraph {
  return { graph: net.g, params: net.params, gflops: (2 * net.macs) / 1e9, taps: net.taps };
}

/** The detect or segment graph, with counts and taps; yolov8nDetector / yolov8nSegmenter return its bytes. */
export function yolov8nGraph(task: 'detect' | 'segment', opts: Yolov8nOptions & { classBias?: number } = {}): Yolov8nGraph {
  const { seed = 1, imgsz = 640, classes = 80 } = opts;
  const { net, images } = start(`yolov8n-${task === 'detect' ? 'det' : 'seg'}`, seed, imgsz);
  const feats = neck(net, backbone(net, images));
  const { y, count } = detectHead(net, feats, { classes, classBias: opts.classBias ?? 0 });
  net.g.op('Identity', [y], {}, { output: 'output0' });
  net.g.output('output0', ['batch', 4 + classes, count]);
  setMetadata(net.g, task, imgsz, classNames(classes));
  return finish(net);
}

export function yolov8nDetector(opts: Yolov8nOptions = {}): Uint8Array {
  return yolov8nGraph('detect', opts).graph.toBytes();
}
