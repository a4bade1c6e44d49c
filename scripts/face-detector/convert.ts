// Converts face-api's Tiny Face Detector (MIT, https://github.com/vladmandic/face-api; TF.js weights shipped in the npm
// package @vladmandic/face-api) into an ONNX object detector this pool serves with outputLayout 'yolov5'.
//
// The network is face-api's TinyYolov2Base.runMobilenet with the TinyFaceDetector config (src/tinyYolov2/,
// src/tinyFaceDetector/), rebuilt op for op in NCHW:
//   conv0        3×3 Conv, 'valid' (no padding), + bias, LeakyRelu(0.1)            3 → 16
//   MaxPool 2×2 stride 2 ('same': padded at the end only when the size is odd)
//   conv1..conv5 depthwise 3×3 Conv (group = C, pads 1, no bias) → pointwise 1×1 Conv + bias → LeakyRelu(0.1)
//                16 → 32 → 64 → 128 → 256 → 512, each but the last followed by MaxPool 2×2 stride 2,
//                conv5 by MaxPool 2×2 stride 1 ('same': one row/column of padding at the end)
//   (conv6, conv7: further separable blocks, used when the weights have them; the face detector has none)
//   conv8        1×1 Conv + bias                                                    512 → 5 anchors × 5
// face-api's leaky(x) = relu(x - 0.1x) + 0.1x is LeakyRelu(alpha 0.1). Its input normalisation,
// (rgb255 - MEAN_RGB) / 255, becomes x - MEAN_RGB / 255 for the pool's x = rgb / 255; since conv0 has no padding that
// constant shift is folded exactly into conv0's bias (b' = b - Σ W · mean / 255), so the graph starts at conv0.
//
// The box decoding of TinyYolov2Base.extractBoxes is in the graph too. For each cell (row, col) of the S/32 × S/32
// grid and anchor a (channels a·5 … a·5+4 = tx, ty, tw, th, to):
//   cx = (col + σ(tx)) · 32, cy = (row + σ(ty)) · 32, w = e^tw · anchorW[a] · 32, h = e^th · anchorH[a] · 32
//   (input pixels), objectness = σ(to), class score 1 (one class: face-api takes no softmax then).
// Output `output0` [batch, (S/32)² · 5, 6], rows in face-api's order (row, col, anchor): YOLOv5's layout.
//
// Run: npx tsx scripts/face-detector/convert.ts → models/generated/face-detector.onnx
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraphBuilder, attr, ultralyticsNames } from '../onnx/builder.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FACE_API_DIR = join(root, 'node_modules', '@vladmandic', 'face-api');
export const FACE_DETECTOR_PATH = join(root, 'models', 'generated', 'face-detector.onnx');

/** Model input size; face-api's default. Any multiple of 32 works. */
export const INPUT_SIZE = 416;

// From face-api's src/tinyFaceDetector/const.ts (anchors in grid cells: width, height).
export const BOX_ANCHORS: ReadonlyArray<readonly [number, number]> = [
  [1.603231, 2.094468],
  [6.041143, 7.080126],
  [2.882459, 3.518061],
  [4.266906, 5.178857],
  [9.041765, 10.66308],
];
export const MEAN_RGB: readonly [number, number, number] = [117.001, 114.697, 97.404];
const LEAKY_ALPHA = 0.10000000149011612; // the float32 scalar face-api's leaky() multiplies by
const STRIDE = 32;
const BOX_SIZE = 5; // tx, ty, tw, th, objectness: no class scores for a single class

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface WeightGroup {
  paths: string[];
  weights: WeightEntry[];
}

/** A weight from the TF.js model, dequantised to float32, with TF's shape (HWIO for convolutions). */
export interface Weight {
  shape: number[];
  data: Float32Array;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decodes one weight as TF.js' io.decodeWeights does (float32; uint8/uint16 affine or float16 quantisation). */
function decodeWeight(entry: WeightEntry, bytes: Uint8Array, offset: number): { data: Float32Array; size: number } {
  if (entry.dtype !== 'float32') throw new Error(`weight ${entry.name}: unsupported dtype ${entry.dtype}`);
  const count = entry.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  const data = new Float32Array(count);
  const q = entry.quantization;
  if (q === undefined) {
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    return { data, size: count * 4 };
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = halfToFloat(view.getUint16(i * 2, true));
    return { data, size: count * 2 };
  }
  if ((q.dtype === 'uint8' || q.dtype === 'uint16') && q.scale !== undefined && q.min !== undefined) {
    const wide = q.dtype === 'uint16';
    for (let i = 0; i < count; i++) data[i] = (wide ? view.getUint16(i * 2, true) : view.getUint8(i)) * q.scale + q.min;
    return { data, size: count * (wide ? 2 : 1) };
  }
  throw new Error(`weight ${entry.name}: unsupported quantization ${JSON.stringify(q)}`);
}

/** Reads a TF.js weights manifest and its shards into name → weight. */
export function readTfjsWeights(modelDir: string, manifestFile: string): Map<string, Weight> {
  const groups = JSON.parse(readFileSync(join(modelDir, manifestFile), 'utf8')) as WeightGroup[];
  const weights = new Map<string, Weight>();
  for (const group of groups) {
    const shards = group.paths.map((p) => readFileSync(join(modelDir, p)));
    const bytes = new Uint8Array(Buffer.concat(shards));
    let offset = 0;
    for (const entry of group.weights) {
      const { data, size } = decodeWeight(entry, bytes, offset);
      offset += size;
      if (offset > bytes.length) throw new Error(`weights file too short for ${entry.name}`);
      weights.set(entry.name, { shape: entry.shape, data });
    }
  }
  return weights;
}

/** TF's conv filter [kh, kw, in, out] (HWIO) as ONNX's [out, in, kh, kw] (OIHW). */
function hwioToOihw({ shape, data }: Weight): { dims: number[]; data: Float32Array } {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = data[((y * kw + x) * ci + i) * co + o]!;
  return { dims: [co, ci, kh, kw], data: out };
}

/** TF's depthwise filter [kh, kw, C, 1] as ONNX's grouped-conv weight [C, 1, kh, kw]. */
function depthwiseToOnnx({ shape, data }: Weight): { dims: number[]; data: Float32Array } {
  const [kh, kw, c, m] = shape as [number, number, number, number];
  if (m !== 1) throw new Error(`depthwise channel multiplier ${m} is not supported`);
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++) for (let i = 0; i < c; i++) out[(i * kh + y) * kw + x] = data[(y * kw + x) * c + i]!;
  return { dims: [c, 1, kh, kw], data: out };
}

export interface ConvertOptions {
  /** Folder holding tiny_face_detector_model-weights_manifest.json and its .bin; default face-api's model/. */
  modelDir?: string;
  /** Square input size, a multiple of 32; default 416. */
  inputSize?: number;
}

/** Builds the ONNX face detector from face-api's weights; returns the model bytes. */
export function convertFaceDetector(options: ConvertOptions = {}): Uint8Array {
  const modelDir = options.modelDir ?? join(FACE_API_DIR, 'model');
  const size = options.inputSize ?? INPUT_SIZE;
  if (size <= 0 || size % STRIDE !== 0) throw new Error(`inputSize must be a multiple of ${STRIDE}, got ${size}`);
  const weights = readTfjsWeights(modelDir, 'tiny_face_detector_model-weights_manifest.json');
  const weight = (name: string): Weight => {
    const w = weights.get(name);
    if (w === undefined) throw new Error(`face-api weights have no ${name}`);
    return w;
  };

  const g = new GraphBuilder('tiny_face_detector');
  let x = g.input('images', ['batch', 3, size, size]);
  let side = size; // current feature map height = width

  // conv0: 3×3 'valid' conv with the mean subtraction folded into its bias.
  const w0 = hwioToOihw(weight('conv0/filters'));
  const b0 = Float32Array.from(weight('conv0/bias').data);
  const [co0, ci0, kh0, kw0] = w0.dims as [number, number, number, number];
  if (ci0 !== 3) throw new Error(`conv0 expects ${ci0} input channels, not RGB`);
  for (let o = 0; o < co0; o++) {
    let shift = 0;
    for (let i = 0; i < ci0; i++)
      for (let k = 0; k < kh0 * kw0; k++) shift += w0.data[(o * ci0 + i) * kh0 * kw0 + k]! * (MEAN_RGB[i]! / 255);
    b0[o] = b0[o]! - shift;
  }
  x = g.op('Conv', [x, g.float('conv0.weight', w0.dims, w0.data), g.float('conv0.bias', [co0], b0)], {
    kernel_shape: [kh0, kw0],
  });
  x = g.op('LeakyRelu', [x], { alpha: attr.float(LEAKY_ALPHA) });
  side = side - kh0 + 1;

  // TF's 2×2 max pool with 'same' padding: output ceil(side / stride), any padding at the bottom/right only.
  const maxPool = (input: string, stride: number): string => {
    const out = Math.ceil(side / stride);
    const pad = Math.max((out - 1) * stride + 2 - side, 0);
    const begin = Math.floor(pad / 2);
    side = out;
    return g.op('MaxPool', [input], {
      kernel_shape: [2, 2],
      strides: [stride, stride],
      pads: [begin, begin, pad - begin, pad - begin],
    });
  };

  const separable = (input: string, name: string): string => {
    const dw = depthwiseToOnnx(weight(`${name}/depthwise_filter`));
    const pw = hwioToOihw(weight(`${name}/pointwise_filter`));
    const channels = dw.dims[0]!;
    let out = g.op('Conv', [input, g.float(`${name}.depthwise.weight`, dw.dims, dw.data)], {
      group: channels,
      kernel_shape: [3, 3],
      pads: [1, 1, 1, 1],
    });
    const bias = g.float(`${name}.pointwise.bias`, [pw.dims[0]!], weight(`${name}/bias`).data);
    out = g.op('Conv', [out, g.float(`${name}.pointwise.weight`, pw.dims, pw.data), bias], { kernel_shape: [1, 1] });
    return g.op('LeakyRelu', [out], { alpha: attr.float(LEAKY_ALPHA) });
  };

  x = maxPool(x, 2);
  for (const name of ['conv1', 'conv2', 'conv3', 'conv4']) x = maxPool(separable(x, name), 2);
  x = maxPool(separable(x, 'conv5'), 1);
  for (const name of ['conv6', 'conv7']) if (weights.has(`${name}/depthwise_filter`)) x = separable(x, name);

  const w8 = hwioToOihw(weight('conv8/filters'));
  const anchors = BOX_ANCHORS.length;
  if (w8.dims[0] !== anchors * BOX_SIZE) throw new Error(`conv8 has ${w8.dims[0]} channels, expected 5 × 5`);
  x = g.op(
    'Conv',
    [x, g.float('conv8.weight', w8.dims, w8.data), g.float('conv8.bias', [w8.dims[0]], weight('conv8/bias').data)],
    {
      kernel_shape: [1, 1],
    },
  );

  // Decoding. [N, anchors·5, cells, cells] → [N, anchors, 5, cells²] → [N, cells², anchors, 5] → [N, rows, 5].
  const cells = size / STRIDE;
  if (side !== cells) throw new Error(`internal: feature map ${side}×${side}, expected ${cells}×${cells}`);
  const rows = cells * cells * anchors;
  x = g.op('Reshape', [x, g.int64('head_shape', [0, anchors, BOX_SIZE, cells * cells])]);
  x = g.op('Transpose', [x], { perm: [0, 3, 1, 2] });
  x = g.op('Reshape', [x, g.int64('rows_shape', [0, rows, BOX_SIZE])]);

  const grid = new Float32Array(rows * 2); // (col, row) · stride per output row
  const anchorPx = new Float32Array(rows * 2); // anchor (w, h) · stride per output row
  for (let r = 0; r < cells; r++)
    for (let c = 0; c < cells; c++)
      for (let a = 0; a < anchors; a++) {
        const i = (r * cells + c) * anchors + a;
        grid[i * 2] = c * STRIDE;
        grid[i * 2 + 1] = r * STRIDE;
        anchorPx[i * 2] = BOX_ANCHORS[a]![0] * STRIDE;
        anchorPx[i * 2 + 1] = BOX_ANCHORS[a]![1] * STRIDE;
      }
  const slice = (from: number, to: number): string =>
    g.op('Slice', [x, g.int64('starts', [from]), g.int64('ends', [to]), g.int64('axes', [2])]);
  let xy = g.op('Mul', [g.op('Sigmoid', [slice(0, 2)]), g.float('stride', [], STRIDE)]);
  xy = g.op('Add', [xy, g.float('grid', [1, rows, 2], grid)]);
  const wh = g.op('Mul', [g.op('Exp', [slice(2, 4)]), g.float('anchors', [1, rows, 2], anchorPx)]);
  const objectness = g.op('Sigmoid', [slice(4, 5)]);
  const classScore = g.op('Expand', [g.float('one', [1, 1, 1], 1), g.op('Shape', [objectness])]);
  g.op('Concat', [xy, wh, objectness, classScore], { axis: 2 }, { output: 'output0' });
  g.output('output0', ['batch', rows, 6]);

  const faceApiVersion = (JSON.parse(readFileSync(join(FACE_API_DIR, 'package.json'), 'utf8')) as { version: string })
    .version;
  const description =
    `Tiny Face Detector from face-api ${faceApiVersion} (https://github.com/vladmandic/face-api, MIT license, ` +
    `Copyright (c) Vladimir Mandic; a fork of face-api.js by Vincent Mühler), converted from its TF.js weights to ` +
    `ONNX by inference-pool's ` +
    `scripts/face-detector/convert.ts: same network, box decoding in the graph, YOLOv5 output layout ` +
    `[batch, ${rows}, 6] (cx, cy, w, h in input pixels, objectness, face score); input RGB in [0, 1].`;
  g.docString = description;
  g.metadata.description = description;
  g.metadata.author = 'Vladimir Mandic (face-api), Vincent Mühler (face-api.js); ONNX conversion: inference-pool';
  g.metadata.license = 'MIT';
  g.metadata.version = faceApiVersion;
  g.metadata.task = 'detect';
  g.metadata.stride = String(STRIDE);
  g.metadata.imgsz = `[${size}, ${size}]`;
  g.metadata.names = ultralyticsNames(['face']);
  return g.toBytes();
}

function main(): void {
  const started = performance.now();
  const bytes = convertFaceDetector();
  mkdirSync(dirname(FACE_DETECTOR_PATH), { recursive: true });
  writeFileSync(FACE_DETECTOR_PATH, bytes);
  const ms = (performance.now() - started).toFixed(0);
  console.log(`wrote ${relative(process.cwd(), FACE_DETECTOR_PATH)} (${bytes.length} bytes, ${ms} ms)`);
}

// Run only as a script, so others may import convertFaceDetector() without writing files.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
