// A plain-JS reference of the pool's classification preprocessing and activations, independent of
// OpenCV: PNG decoding by pngjs, a bilinear resize written from OpenCV's INTER_LINEAR definition
// (half-pixel centres, edge clamping, 11-bit fixed-point weights), normalisation, NCHW/NHWC layout.
import { PNG } from 'pngjs';

import type { RgbImage } from './images.ts';

export interface PreprocessOptions {
  width: number;
  height: number;
  resize?: 'stretch' | 'letterbox';
  channelOrder?: 'rgb' | 'bgr';
  mean?: number | readonly [number, number, number];
  std?: number | readonly [number, number, number];
  layout?: 'nchw' | 'nhwc';
}

export const LETTERBOX_GREY = 114;

/** PNG bytes → RGB pixels (alpha dropped, as the pool's decoder does). */
export function decodePng(bytes: Uint8Array): RgbImage {
  const png = PNG.sync.read(bytes);
  const n = png.width * png.height;
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    data[i * 3] = png.data[i * 4]!;
    data[i * 3 + 1] = png.data[i * 4 + 1]!;
    data[i * 3 + 2] = png.data[i * 4 + 2]!;
  }
  return { data, width: png.width, height: png.height };
}

const f32 = Math.fround;

/** C's lrint with the default rounding mode: nearest, ties to even (OpenCV's cvRound / saturate_cast). */
function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** One axis of INTER_LINEAR: for each destination index the two source indices and 11-bit weights. */
function axisTable(src: number, dst: number): { i0: Int32Array; i1: Int32Array; w0: Int32Array; w1: Int32Array } {
  const scale = 1 / (dst / src); // OpenCV: inv_scale = dsize/ssize, scale = 1/inv_scale (doubles)
  const i0 = new Int32Array(dst);
  const i1 = new Int32Array(dst);
  const w0 = new Int32Array(dst);
  const w1 = new Int32Array(dst);
  for (let d = 0; d < dst; d++) {
    let f = f32((d + 0.5) * scale - 0.5); // float, as OpenCV computes it
    const s = Math.floor(f);
    f = f32(f - s);
    i0[d] = Math.min(Math.max(s, 0), src - 1);
    i1[d] = Math.min(Math.max(s + 1, 0), src - 1);
    w0[d] = roundEven(f32(f32(1 - f) * 2048));
    w1[d] = roundEven(f32(f * 2048));
  }
  return { i0, i1, w0, w1 };
}

/**
 * Bilinear resize of 3-channel 8-bit pixels with OpenCV's INTER_LINEAR arithmetic (cv::resize on CV_8U):
 * source coordinate (d + 0.5)·scale − 0.5 in float, weights rounded to 11 bits (sum ≈ 2048), the horizontal
 * pass in int32 with the source column clamped at the edges (weight 2048 on it), then the vertical pass as
 * OpenCV's SIMD code does it: ((a >> 4)·b0 >> 16) + ((c >> 4)·b1 >> 16), rounded by (+2) >> 2. A scalar build of
 * OpenCV rounds as (a·b0 + c·b1 + 2^21) >> 22 instead, which can differ by one grey level; the SIMD rounding
 * matched the pool bit for bit on every shape tried (rows of 3 to 900 bytes, up- and downscales).
 * OpenCV turns an exact 2× downscale into INTER_AREA, which this does not model: it throws there.
 */
export function resizeLinear(image: RgbImage, dw: number, dh: number): RgbImage {
  const { width: sw, height: sh, data } = image;
  if (sw === dw && sh === dh) return { data: data.slice(), width: sw, height: sh };
  if (sw === 2 * dw && sh === 2 * dh) throw new Error('an exact 2x downscale is INTER_AREA in OpenCV; not modelled');
  const xs = axisTable(sw, dw);
  const ys = axisTable(sh, dh);
  const rowLen = dw * 3;
  // Horizontal pass for every source row (as int32, weight sum ~2048).
  const hrow = (sy: number): Int32Array => {
    const out = new Int32Array(rowLen);
    const base = sy * sw * 3;
    for (let dx = 0; dx < dw; dx++) {
      const a = base + xs.i0[dx]! * 3;
      const b = base + xs.i1[dx]! * 3;
      // Clamped at the edges: OpenCV uses S[sx]*2048 there.
      const edge = xs.i0[dx] === xs.i1[dx];
      for (let c = 0; c < 3; c++) {
        out[dx * 3 + c] = edge ? data[a + c]! * 2048 : data[a + c]! * xs.w0[dx]! + data[b + c]! * xs.w1[dx]!;
      }
    }
    return out;
  };
  const rows = new Map<number, Int32Array>();
  const row = (sy: number) => {
    let r = rows.get(sy);
    if (!r) rows.set(sy, (r = hrow(sy)));
    return r;
  };
  const out = new Uint8Array(dh * rowLen);
  for (let dy = 0; dy < dh; dy++) {
    const s0 = row(ys.i0[dy]!);
    const s1 = row(ys.i1[dy]!);
    const b0 = ys.w0[dy]!;
    const b1 = ys.w1[dy]!;
    for (let x = 0; x < rowLen; x++) {
      const v = (Math.floor(((s0[x]! >> 4) * b0) / 65536) + Math.floor(((s1[x]! >> 4) * b1) / 65536) + 2) >> 2;
      out[dy * rowLen + x] = Math.min(255, Math.max(0, v));
    }
  }
  return { data: out, width: dw, height: dh };
}

/** A plain float bilinear resize (half-pixel centres, clamped edges, rounded): the textbook definition. */
export function resizeBilinearFloat(image: RgbImage, dw: number, dh: number): RgbImage {
  const { width: sw, height: sh, data } = image;
  const out = new Uint8Array(dw * dh * 3);
  for (let dy = 0; dy < dh; dy++) {
    const fy = Math.max(0, (dy + 0.5) * (sh / dh) - 0.5);
    const y0 = Math.min(Math.floor(fy), sh - 1);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - Math.floor(fy);
    for (let dx = 0; dx < dw; dx++) {
      const fx = Math.max(0, (dx + 0.5) * (sw / dw) - 0.5);
      const x0 = Math.min(Math.floor(fx), sw - 1);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - Math.floor(fx);
      for (let c = 0; c < 3; c++) {
        const p = (y: number, x: number) => data[(y * sw + x) * 3 + c]!;
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        out[(dy * dw + dx) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return { data: out, width: dw, height: dh };
}

function triple(v: number | readonly [number, number, number] | undefined, fallback: number): [number, number, number] {
  if (v === undefined) return [fallback, fallback, fallback];
  if (typeof v === 'number') return [v, v, v];
  return [v[0], v[1], v[2]];
}

export interface Placement {
  width: number;
  height: number;
  left: number;
  top: number;
}

/** Where the resized picture goes in the input: all of it (stretch) or centred at the kept aspect (letterbox). */
export function placement(sw: number, sh: number, o: PreprocessOptions): Placement {
  if ((o.resize ?? 'stretch') === 'stretch') return { width: o.width, height: o.height, left: 0, top: 0 };
  const r = Math.min(o.width / sw, o.height / sh);
  const width = Math.min(o.width, Math.max(1, Math.round(sw * r)));
  const height = Math.min(o.height, Math.max(1, Math.round(sh * r)));
  return { width, height, left: Math.floor((o.width - width) / 2), top: Math.floor((o.height - height) / 2) };
}

/**
 * The input tensor of one image (without the batch dimension): resize, place, then per channel
 * (v/255 − mean[c]) / std[c] in float64 rounded once to float32, channels in the model's order.
 */
export function preprocess(
  image: RgbImage,
  o: PreprocessOptions,
  resize: (image: RgbImage, w: number, h: number) => RgbImage = resizeLinear,
): Float32Array {
  const mean = triple(o.mean, 0);
  const std = triple(o.std, 1);
  const bgr = o.channelOrder === 'bgr';
  const nhwc = o.layout === 'nhwc';
  const p = placement(image.width, image.height, o);
  const canvas = new Uint8Array(o.width * o.height * 3).fill(LETTERBOX_GREY);
  const resized = p.width === image.width && p.height === image.height ? image : resize(image, p.width, p.height);
  for (let y = 0; y < p.height; y++) {
    canvas.set(resized.data.subarray(y * p.width * 3, (y + 1) * p.width * 3), ((y + p.top) * o.width + p.left) * 3);
  }
  const plane = o.width * o.height;
  const out = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      const v = canvas[i * 3 + (bgr ? 2 - c : c)]!;
      const value = (v / 255 - mean[c]!) / std[c]!;
      out[nhwc ? i * 3 + c : c * plane + i] = value;
    }
  }
  return out;
}

/** Several images' tensors, one after the other: a batch. */
export function batchOf(tensors: Float32Array[]): Float32Array {
  const out = new Float32Array(tensors.reduce((n, t) => n + t.length, 0));
  let at = 0;
  for (const t of tensors) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}

export function softmax(values: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(values));
  const exps = Float64Array.from(values, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function sigmoid(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values, (v) => 1 / (1 + Math.exp(-v)));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Indices of `values` sorted by value, best first (ties: lower index first). */
export function ranking(values: ArrayLike<number>): number[] {
  return Array.from(values, (_, i) => i).sort((a, b) => values[b]! - values[a]! || a - b);
}
