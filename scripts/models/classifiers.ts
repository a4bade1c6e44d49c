// Classifier models whose outputs are known in closed form (or, for randomConvClassifier, reproducible with
// onnxruntime-node), for tests and the demo. Each function returns the ONNX model's bytes.
import { GraphBuilder, attr, defaultNames, ultralyticsNames } from '../onnx/builder.js';
import { Random } from '../onnx/random.js';

export const MEAN_COLOR_NAMES = ['red', 'green', 'blue'] as const;

export interface MeanColorOptions {
  /** Input height and width; default 32. */
  size?: number;
  /** Logits = scale × per-channel mean; default 10. */
  scale?: number;
  /** Dim 0 fixed to 1 instead of symbolic 'batch'; default false. */
  fixedBatch?: boolean;
  /** Write the Ultralytics `names` metadata; default true. */
  names?: boolean;
}

/** images [batch, 3, size, size] → logits [batch, 3] = scale × per-channel spatial mean (classes red, green, blue). */
export function meanColorClassifier(opts: MeanColorOptions = {}): Uint8Array {
  const { size = 32, scale = 10, fixedBatch = false, names = true } = opts;
  const batch = fixedBatch ? 1 : 'batch';
  const g = new GraphBuilder('mean_color');
  const images = g.input('images', [batch, 3, size, size]);
  const mean = g.op('ReduceMean', [images], { axes: [2, 3], keepdims: 0 });
  g.op('Mul', [mean, g.float('scale', [], scale)], {}, { output: 'logits' });
  g.output('logits', [batch, 3]);
  // names: false stands for a model without Ultralytics metadata at all, so no task / imgsz either.
  if (names) {
    g.metadata.names = ultralyticsNames(MEAN_COLOR_NAMES);
    g.metadata.task = 'classify';
    g.metadata.imgsz = `[${size}, ${size}]`;
  }
  return g.toBytes();
}

/** Like meanColorClassifier (scale 10), but channels last: images [batch, size, size, 3] → logits [batch, 3]. */
export function meanColorClassifierNHWC(opts: { size?: number } = {}): Uint8Array {
  const { size = 32 } = opts;
  const g = new GraphBuilder('mean_color_nhwc');
  const images = g.input('images', ['batch', size, size, 3]);
  const mean = g.op('ReduceMean', [images], { axes: [1, 2], keepdims: 0 });
  g.op('Mul', [mean, g.float('scale', [], 10)], {}, { output: 'logits' });
  g.output('logits', ['batch', 3]);
  g.metadata.names = ultralyticsNames(MEAN_COLOR_NAMES);
  g.metadata.task = 'classify';
  g.metadata.imgsz = `[${size}, ${size}]`;
  return g.toBytes();
}

/** images [batch, 3, 32, 32] → probs [batch, 3] = softmax(10 × per-channel mean): outputs already are probabilities. */
export function probabilityClassifier(): Uint8Array {
  const g = new GraphBuilder('probability');
  const images = g.input('images', ['batch', 3, 32, 32]);
  const mean = g.op('ReduceMean', [images], { axes: [2, 3], keepdims: 0 });
  const logits = g.op('Mul', [mean, g.float('scale', [], 10)]);
  g.op('Softmax', [logits], { axis: 1 }, { output: 'probs' });
  g.output('probs', ['batch', 3]);
  g.metadata.names = ultralyticsNames(MEAN_COLOR_NAMES);
  g.metadata.task = 'classify';
  g.metadata.imgsz = '[32, 32]';
  return g.toBytes();
}

/** The demo palette: class name and RGB colour in [0, 1], in class order. */
export const PALETTE: ReadonlyArray<{ name: string; rgb: readonly [number, number, number] }> = [
  { name: 'red', rgb: [1, 0, 0] },
  { name: 'green', rgb: [0, 1, 0] },
  { name: 'blue', rgb: [0, 0, 1] },
  { name: 'yellow', rgb: [1, 1, 0] },
  { name: 'cyan', rgb: [0, 1, 1] },
  { name: 'magenta', rgb: [1, 0, 1] },
  { name: 'white', rgb: [1, 1, 1] },
  { name: 'black', rgb: [0, 0, 0] },
];

/** Sharpness of the palette classifier: logits = −PALETTE_K × |m − c_i|² + per-row constant. */
export const PALETTE_K = 20;

/**
 * The demo classifier: images [batch, 3, size, size] → logits [batch, 8] with
 * logits_i = k × (2·m·c_i − |c_i|²), m the per-channel mean and c_i the palette colours. That is −k·|m − c_i|²
 * plus k·|m|², which is the same for every class of a row, so softmax picks the nearest palette colour.
 */
export function paletteClassifier(opts: { size?: number } = {}): Uint8Array {
  const { size = 64 } = opts;
  const n = PALETTE.length;
  // Gemm: logits = m [batch, 3] × W [3, n] + b [n], with W[:, i] = 2k·c_i and b_i = −k·|c_i|².
  const weights = new Float32Array(3 * n);
  const bias = new Float32Array(n);
  PALETTE.forEach(({ rgb }, i) => {
    rgb.forEach((c, ch) => (weights[ch * n + i] = 2 * PALETTE_K * c));
    bias[i] = -PALETTE_K * rgb.reduce((acc, c) => acc + c * c, 0);
  });
  const g = new GraphBuilder('palette');
  const images = g.input('images', ['batch', 3, size, size]);
  const mean = g.op('ReduceMean', [images], { axes: [2, 3], keepdims: 0 });
  const [w, b] = [g.float('palette_weights', [3, n], weights), g.float('palette_bias', [n], bias)];
  g.op('Gemm', [mean, w, b], {}, { output: 'logits' });
  g.output('logits', ['batch', n]);
  g.metadata.names = ultralyticsNames(PALETTE.map((p) => p.name));
  g.metadata.task = 'classify';
  g.metadata.imgsz = `[${size}, ${size}]`;
  g.metadata.description = 'Palette classifier: the nearest of 8 colours to the mean colour of the image.';
  return g.toBytes();
}

export interface RandomConvOptions {
  /** Input height and width; default 48. */
  size?: number;
  /** Number of classes; default 10. */
  classes?: number;
  /** PRNG seed for the weights; default 1. */
  seed?: number;
}

/**
 * images [batch, 3, size, size] → Conv 3→8 k3 s2 p1 → Relu → Conv 8→16 k3 s2 p1 → Relu → GlobalAveragePool →
 * Flatten → Gemm → logits [batch, classes], with seeded random weights. Its outputs depend on every pixel, so
 * tests compare the pool against onnxruntime-node on the same tensor.
 */
export function randomConvClassifier(opts: RandomConvOptions = {}): Uint8Array {
  const { size = 48, classes = 10, seed = 1 } = opts;
  const rng = new Random(seed);
  const g = new GraphBuilder('random_conv');
  const images = g.input('images', ['batch', 3, size, size]);
  const conv = (x: string, cin: number, cout: number, name: string) => {
    // He-style init keeps activations O(1) through the Relus; small biases so some units switch off.
    const std = Math.sqrt(2 / (cin * 9));
    const weights = rng.floats(cout * cin * 9, () => rng.normal(0, std));
    const bias = rng.floats(cout, () => rng.uniform(-0.1, 0.1));
    const w = g.float(`${name}.weight`, [cout, cin, 3, 3], weights);
    const b = g.float(`${name}.bias`, [cout], bias);
    const y = g.op('Conv', [x, w, b], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, { name });
    return g.op('Relu', [y]);
  };
  const x1 = conv(images, 3, 8, 'conv1');
  const x2 = conv(x1, 8, 16, 'conv2');
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', [x2])], { axis: 1 });
  // Pooled features are around 0.3–1; this std makes logits differ by a few units between classes and images.
  const fcWeights = rng.floats(classes * 16, () => rng.normal(0, 1.5));
  const fcBias = rng.floats(classes, () => rng.uniform(-0.5, 0.5));
  const fcW = g.float('fc.weight', [classes, 16], fcWeights);
  const fcB = g.float('fc.bias', [classes], fcBias);
  g.op('Gemm', [pooled, fcW, fcB], { transB: 1, alpha: attr.float(1), beta: attr.float(1) }, { output: 'logits' });
  g.output('logits', ['batch', classes]);
  g.metadata.names = ultralyticsNames(defaultNames(classes));
  g.metadata.task = 'classify';
  g.metadata.imgsz = `[${size}, ${size}]`;
  return g.toBytes();
}
