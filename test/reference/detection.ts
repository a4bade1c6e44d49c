// A plain-JS reference of detection and instance-segmentation postprocessing, written from the pool's
// contract (not from native/core/): head decoding (YOLOv8/v11, YOLOv5, end-to-end), the best
// `maxCandidates`, greedy NMS, mapping boxes back through the resize, and mask sampling.
//
// Numeric conventions, chosen to match what the contract produces in float32:
//  - the head values are float32; a box is formed in float32 (x1 = f32(cx − w/2)), a YOLOv5 score is
//    f32(objectness × class score);
//  - `confidence` and `iouThreshold` are taken as float32 (the pool's options are float32);
//  - boxes map back in float64 from the float32 input-pixel box and are rounded to float32, then clipped;
//  - mask logits are computed in float64 (the pool sums in float32; a pixel can differ only where the
//    logit is within rounding of 0, which `decodeMask` reports through `logits`).
//
// `decodeDetections` is the entry point a benchmark can reuse: raw output tensor in, detections out.

const f32 = Math.fround;

export type Layout = 'yolov8' | 'yolov5' | 'end-to-end';

/** How the original image was placed into the model input: input = original × scale + pad, per axis. */
export interface Transform {
  scaleX: number;
  scaleY: number;
  padX: number;
  padY: number;
  originalWidth: number;
  originalHeight: number;
  inputWidth: number;
  inputHeight: number;
}

/**
 * Letterbox: r = min(W/w, H/h), the picture is round(w·r) × round(h·r) placed at
 * (floor((W − nw)/2), floor((H − nh)/2)), and the scales are nw/w and nh/h. Stretch: plain resize.
 */
export function imageTransform(
  originalWidth: number,
  originalHeight: number,
  inputWidth: number,
  inputHeight: number,
  resize: 'letterbox' | 'stretch' = 'letterbox',
): Transform {
  let nw = inputWidth;
  let nh = inputHeight;
  let padX = 0;
  let padY = 0;
  if (resize === 'letterbox') {
    const r = Math.min(inputWidth / originalWidth, inputHeight / originalHeight);
    nw = Math.min(inputWidth, Math.max(1, Math.round(originalWidth * r)));
    nh = Math.min(inputHeight, Math.max(1, Math.round(originalHeight * r)));
    padX = Math.floor((inputWidth - nw) / 2);
    padY = Math.floor((inputHeight - nh) / 2);
  }
  return {
    scaleX: nw / originalWidth,
    scaleY: nh / originalHeight,
    padX,
    padY,
    originalWidth,
    originalHeight,
    inputWidth,
    inputHeight,
  };
}

export interface DecodeOptions {
  layout: Layout;
  /** Default 0.4. */
  confidence?: number;
  /** Default 0.3. */
  iouThreshold?: number;
  classAgnosticNms?: boolean;
  /** Default 300. */
  maxDetections?: number;
  /** Default 3000. */
  maxCandidates?: number;
  /** Class ids to keep; undefined or empty keeps every class. */
  classFilter?: number[];
  /** Mask coefficients per candidate (segmenters); default 0. */
  numMasks?: number;
  /** Which image of the batch (dim 0); default 0. */
  batchIndex?: number;
}

/** A candidate in model-input pixels. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
  /** Row of the head output (anchor for v8/v5, row for end-to-end). */
  anchor: number;
}

export interface Detection extends Candidate {
  /** x1, y1, x2, y2 in original pixels, float32, clipped to the image. */
  box: [number, number, number, number];
  /** The candidate's mask coefficients (numMasks values). */
  coeffs: Float64Array;
}

/** One image's head: value(anchor, channel) over [anchors, channels] whatever the memory layout. */
interface Head {
  anchors: number;
  channels: number;
  at(anchor: number, channel: number): number;
}

function headView(output: Float32Array, dims: readonly number[], layout: Layout, batchIndex: number): Head {
  const d = dims.length === 3 ? dims : dims.length === 2 ? [1, ...dims] : null;
  if (!d) throw new Error(`a head output has rank 2 or 3, got [${dims.join(', ')}]`);
  const [, d1, d2] = d as [number, number, number];
  const base = batchIndex * d1 * d2;
  if (layout === 'yolov8') {
    // [channels, anchors]
    return { anchors: d2, channels: d1, at: (a, c) => output[base + c * d2 + a]! };
  }
  // [anchors, channels]
  return { anchors: d1, channels: d2, at: (a, c) => output[base + a * d2 + c]! };
}

function allowedSet(filter: number[] | undefined): ((c: number) => boolean) | null {
  if (!filter || filter.length === 0) return null;
  const set = new Set(filter);
  return (c) => set.has(c);
}

/** Every candidate scoring at least `confidence` (float32) in an allowed class, in anchor order. */
export function decodeCandidates(output: Float32Array, dims: readonly number[], options: DecodeOptions): Candidate[] {
  const { layout, numMasks = 0, batchIndex = 0 } = options;
  const confidence = f32(options.confidence ?? 0.4);
  const allowed = allowedSet(options.classFilter);
  const head = headView(output, dims, layout, batchIndex);
  const out: Candidate[] = [];
  const boxFromCentre = (a: number) => {
    const cx = head.at(a, 0);
    const cy = head.at(a, 1);
    const hw = head.at(a, 2) / 2;
    const hh = head.at(a, 3) / 2;
    return { x1: f32(cx - hw), y1: f32(cy - hh), x2: f32(cx + hw), y2: f32(cy + hh) };
  };
  if (layout === 'end-to-end') {
    for (let a = 0; a < head.anchors; a++) {
      const score = head.at(a, 4);
      const classId = Math.round(head.at(a, 5));
      if (!(score >= confidence)) continue;
      if (allowed && !allowed(classId)) continue;
      out.push({
        x1: head.at(a, 0),
        y1: head.at(a, 1),
        x2: head.at(a, 2),
        y2: head.at(a, 3),
        score,
        classId,
        anchor: a,
      });
    }
    return out;
  }
  const first = layout === 'yolov8' ? 4 : 5; // first class score channel
  const numClasses = head.channels - first - numMasks;
  if (numClasses < 1) throw new Error(`${head.channels} channels leave no class scores`);
  for (let a = 0; a < head.anchors; a++) {
    let best = -Infinity;
    let bestClass = -1;
    for (let c = 0; c < numClasses; c++) {
      if (allowed && !allowed(c)) continue;
      const s = head.at(a, first + c);
      if (s > best) {
        best = s;
        bestClass = c;
      }
    }
    if (bestClass < 0) continue;
    const score = layout === 'yolov5' ? f32(head.at(a, 4) * best) : best;
    if (!(score >= confidence)) continue;
    out.push({ ...boxFromCentre(a), score, classId: bestClass, anchor: a });
  }
  return out;
}

/** Best first; equal scores: lower anchor first. */
export function byScore(a: Candidate, b: Candidate): number {
  return b.score - a.score || a.anchor - b.anchor;
}

/** The best `max` candidates, best first. */
export function topCandidates<T extends Candidate>(candidates: readonly T[], max: number): T[] {
  return [...candidates].sort(byScore).slice(0, Math.max(0, max));
}

export function iou(a: Candidate, b: Candidate): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy NMS, best first: drop a candidate overlapping a kept one (same class unless agnostic) by IoU > threshold. */
export function nms<T extends Candidate>(
  candidates: readonly T[],
  iouThreshold: number,
  classAgnostic: boolean,
  maxDetections: number,
): T[] {
  const threshold = f32(iouThreshold);
  const kept: T[] = [];
  for (const c of [...candidates].sort(byScore)) {
    if (kept.length >= maxDetections) break;
    if (kept.some((k) => (classAgnostic || k.classId === c.classId) && iou(k, c) > threshold)) continue;
    kept.push(c);
  }
  return kept;
}

/** An input-pixel box in original pixels: (v − pad) / scale, float32, clipped to the image. */
export function mapBox(c: Candidate, t: Transform): [number, number, number, number] {
  const clip = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  return [
    clip(f32((c.x1 - t.padX) / t.scaleX), t.originalWidth),
    clip(f32((c.y1 - t.padY) / t.scaleY), t.originalHeight),
    clip(f32((c.x2 - t.padX) / t.scaleX), t.originalWidth),
    clip(f32((c.y2 - t.padY) / t.scaleY), t.originalHeight),
  ];
}

function coefficients(output: Float32Array, dims: readonly number[], o: DecodeOptions, anchor: number): Float64Array {
  const nm = o.numMasks ?? 0;
  const head = headView(output, dims, o.layout, o.batchIndex ?? 0);
  const start = head.channels - nm; // the coefficients are the last nm channels in every layout
  const out = new Float64Array(nm);
  for (let k = 0; k < nm; k++) out[k] = head.at(anchor, start + k);
  return out;
}

/**
 * The whole decode of one image: candidates, the best `maxCandidates`, NMS (none for end-to-end),
 * `maxDetections`, boxes in original pixels. Best first.
 */
export function decodeDetections(
  output: Float32Array,
  dims: readonly number[],
  options: DecodeOptions,
  transform: Transform,
): Detection[] {
  const candidates = decodeCandidates(output, dims, options);
  const maxDetections = Math.max(0, options.maxDetections ?? 300);
  const kept =
    options.layout === 'end-to-end'
      ? topCandidates(candidates, maxDetections)
      : nms(
          topCandidates(candidates, options.maxCandidates ?? 3000),
          options.iouThreshold ?? 0.3,
          options.classAgnosticNms ?? false,
          maxDetections,
        );
  return kept.map((c) => ({ ...c, box: mapBox(c, transform), coeffs: coefficients(output, dims, options, c.anchor) }));
}

export type MaskMode = 'accurate' | 'fast' | 'tradeoff';

export interface Mask {
  /** 1 inside the instance, 0 outside, row-major width × height. */
  data: Uint8Array;
  width: number;
  height: number;
  left: number;
  top: number;
  /** The logit (Σ coeff·proto, bilinear) at each pixel whose centre is in the box; NaN elsewhere. */
  logits: Float64Array;
}

/** Side of the working grid: the prototypes' (fast), the input's (accurate), or round(p + (W − p)·f). */
export function workingGrid(mode: MaskMode, factor: number, protoSize: number, inputSize: number): number {
  if (mode === 'fast') return protoSize;
  if (mode === 'accurate') return inputSize;
  const f = Math.min(Math.max(f32(factor), 0), 1);
  return Math.max(1, Math.round(protoSize + (inputSize - protoSize) * f));
}

/**
 * For an original pixel index along one axis: the prototype coordinate sampled. The pixel centre goes to
 * input coordinates, snaps to the centre of the working-grid cell it falls in, and that centre is expressed
 * in prototype coordinates with half-pixel centres, clamped to the prototype grid.
 */
export function protoCoordinate(
  pixel: number,
  scale: number,
  pad: number,
  inputSize: number,
  grid: number,
  protoSize: number,
): number {
  const input = (pixel + 0.5) * scale + pad;
  const cellSize = inputSize / grid;
  const cell = Math.min(Math.max(Math.floor((input * grid) / inputSize), 0), grid - 1);
  const centre = (cell + 0.5) * cellSize;
  return Math.min(Math.max((centre / inputSize) * protoSize - 0.5, 0), protoSize - 1);
}

/**
 * One instance's mask: the bitmap over [floor(x1), ceil(x2)) × [floor(y1), ceil(y2)) of the (clipped)
 * original-pixel box, a pixel set when its centre lies in the box and the bilinearly sampled logit > 0.
 */
export function decodeMask(
  protos: Float32Array,
  protoDims: readonly number[],
  coeffs: ArrayLike<number>,
  box: readonly [number, number, number, number],
  t: Transform,
  mode: MaskMode = 'accurate',
  tradeoffFactor = 0,
  batchIndex = 0,
): Mask {
  const [nm, ph, pw] = protoDims.slice(-3) as [number, number, number];
  const plane = ph * pw;
  const base = batchIndex * nm * plane;
  const [x1, y1, x2, y2] = box;
  const clampTo = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const left = clampTo(Math.floor(x1), t.originalWidth);
  const top = clampTo(Math.floor(y1), t.originalHeight);
  const width = Math.max(0, clampTo(Math.ceil(x2), t.originalWidth) - left);
  const height = Math.max(0, clampTo(Math.ceil(y2), t.originalHeight) - top);
  const data = new Uint8Array(width * height);
  const logits = new Float64Array(width * height).fill(NaN);
  const gx = workingGrid(mode, tradeoffFactor, pw, t.inputWidth);
  const gy = workingGrid(mode, tradeoffFactor, ph, t.inputHeight);
  // The combined prototype, Σ_k coeff_k · proto_k, over the whole grid (float64).
  const combined = new Float64Array(plane);
  for (let k = 0; k < nm; k++) {
    const c = coeffs[k]!;
    if (c === 0) continue;
    for (let i = 0; i < plane; i++) combined[i]! += c * protos[base + k * plane + i]!;
  }
  const sample = (px: number, py: number) => {
    const x0 = Math.floor(px);
    const y0 = Math.floor(py);
    const xa = Math.min(x0 + 1, pw - 1);
    const ya = Math.min(y0 + 1, ph - 1);
    const fx = px - x0;
    const fy = py - y0;
    return (
      (1 - fx) * (1 - fy) * combined[y0 * pw + x0]! +
      fx * (1 - fy) * combined[y0 * pw + xa]! +
      (1 - fx) * fy * combined[ya * pw + x0]! +
      fx * fy * combined[ya * pw + xa]!
    );
  };
  for (let y = 0; y < height; y++) {
    const cy = top + y + 0.5;
    if (cy < y1 || cy > y2) continue;
    const py = protoCoordinate(top + y, t.scaleY, t.padY, t.inputHeight, gy, ph);
    for (let x = 0; x < width; x++) {
      const cx = left + x + 0.5;
      if (cx < x1 || cx > x2) continue;
      const px = protoCoordinate(left + x, t.scaleX, t.padX, t.inputWidth, gx, pw);
      const v = sample(px, py);
      logits[y * width + x] = v;
      data[y * width + x] = v > 0 ? 1 : 0;
    }
  }
  return { data, width, height, left, top, logits };
}

// ---------------------------------------------------------------------------------------------------
// Mask and polygon measurements for the tests.

export interface Extent {
  /** Set pixels. */
  area: number;
  /** Inclusive pixel bounds in original-image pixels (NaN when empty). */
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export function maskExtent(m: { data: Uint8Array; width: number; height: number; left: number; top: number }): Extent {
  let area = 0;
  let minX = Infinity;
  let maxX = -Infinity;
  let minY = Infinity;
  let maxY = -Infinity;
  for (let y = 0; y < m.height; y++) {
    for (let x = 0; x < m.width; x++) {
      if (!m.data[y * m.width + x]) continue;
      area++;
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
    }
  }
  if (area === 0) return { area, minX: NaN, maxX: NaN, minY: NaN, maxY: NaN };
  return { area, minX: minX + m.left, maxX: maxX + m.left, minY: minY + m.top, maxY: maxY + m.top };
}

export interface Point {
  x: number;
  y: number;
}

/** Shoelace area (absolute) of a closed polygon. */
export function polygonArea(points: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i]!;
    const b = points[(i + 1) % points.length]!;
    s += a.x * b.y - b.x * a.y;
  }
  return Math.abs(s) / 2;
}

export function polygonBounds(points: readonly Point[]): { minX: number; maxX: number; minY: number; maxY: number } {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  return { minX: Math.min(...xs), maxX: Math.max(...xs), minY: Math.min(...ys), maxY: Math.max(...ys) };
}

/**
 * 8-connected components of a mask's set pixels (the connectivity of OpenCV's contour following for the
 * foreground). Returns a label per pixel (0 = background, 1.. = component) and each component's extent.
 */
export function components(m: { data: Uint8Array; width: number; height: number; left: number; top: number }): {
  labels: Int32Array;
  extents: Extent[];
} {
  const { width, height, data } = m;
  const labels = new Int32Array(width * height);
  const extents: Extent[] = [];
  const stack: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || labels[start]) continue;
    const label = extents.length + 1;
    const e: Extent = { area: 0, minX: Infinity, maxX: -Infinity, minY: Infinity, maxY: -Infinity };
    labels[start] = label;
    stack.push(start);
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width;
      const y = (i - x) / width;
      e.area++;
      e.minX = Math.min(e.minX, x + m.left);
      e.maxX = Math.max(e.maxX, x + m.left);
      e.minY = Math.min(e.minY, y + m.top);
      e.maxY = Math.max(e.maxY, y + m.top);
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          const ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const j = ny * width + nx;
          if (data[j] && !labels[j]) {
            labels[j] = label;
            stack.push(j);
          }
        }
      }
    }
    extents.push(e);
  }
  return { labels, extents };
}

/**
 * The polygon's contract against its mask, without tracing contours: the vertices are set pixels of one
 * 8-connected component X, the polygon's bounding box is X's extent, its shoelace area lies between
 * filled(X) − boundary(X) and filled(X) (filled: X with its holes; boundary: X's pixels with a 4-neighbour
 * outside X), and X is the largest by contour area, which with those bounds means
 * filled(X) ≥ filled(Y) − boundary(Y) for every other component Y. Returns a description of the first
 * violation, or null.
 */
export function checkPolygon(
  points: readonly Point[] | undefined,
  m: { data: Uint8Array; width: number; height: number; left: number; top: number },
): string | null {
  const { labels, extents } = components(m);
  if (!points || points.length === 0) return extents.length === 0 ? null : 'no polygon for a non-empty mask';
  if (extents.length === 0) return 'a polygon for an empty mask';
  let label = 0;
  for (const p of points) {
    const x = p.x - m.left;
    const y = p.y - m.top;
    if (x < 0 || y < 0 || x >= m.width || y >= m.height) return `vertex (${p.x}, ${p.y}) outside the bitmap`;
    const l = labels[y * m.width + x]!;
    if (l === 0) return `vertex (${p.x}, ${p.y}) on a clear pixel`;
    if (label && l !== label) return `vertices on two components (${label}, ${l})`;
    label = l;
  }
  const e = extents[label - 1]!;
  const b = polygonBounds(points);
  if (b.minX !== e.minX || b.maxX !== e.maxX || b.minY !== e.minY || b.maxY !== e.maxY) {
    return `polygon bounds ${JSON.stringify(b)} vs component extent ${JSON.stringify(e)}`;
  }
  const measure = (l: number) => {
    const ex = extents[l - 1]!;
    // Flood the outside (4-connected) within the extent grown by one; what is left is X and its holes.
    const x0 = ex.minX - m.left - 1;
    const y0 = ex.minY - m.top - 1;
    const w = ex.maxX - ex.minX + 3;
    const h = ex.maxY - ex.minY + 3;
    const inside = (x: number, y: number) => {
      const bx = x + x0;
      const by = y + y0;
      return bx >= 0 && by >= 0 && bx < m.width && by < m.height && labels[by * m.width + bx] === l;
    };
    const outside = new Uint8Array(w * h);
    const stack = [0];
    outside[0] = 1;
    let reached = 1;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % w;
      const y = (i - x) / w;
      for (const [nx, ny] of [
        [x + 1, y],
        [x - 1, y],
        [x, y + 1],
        [x, y - 1],
      ] as const) {
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const j = ny * w + nx;
        if (outside[j] || inside(nx, ny)) continue;
        outside[j] = 1;
        reached++;
        stack.push(j);
      }
    }
    let boundary = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        if (!inside(x, y)) continue;
        if (!inside(x + 1, y) || !inside(x - 1, y) || !inside(x, y + 1) || !inside(x, y - 1)) boundary++;
      }
    }
    return { filled: w * h - reached, boundary };
  };
  const mine = measure(label);
  const area = polygonArea(points);
  if (area > mine.filled + 1e-9 || area < mine.filled - mine.boundary - 1e-9) {
    return `polygon area ${area} outside [${mine.filled - mine.boundary}, ${mine.filled}]`;
  }
  for (let l = 1; l <= extents.length; l++) {
    if (l === label) continue;
    const other = measure(l);
    if (mine.filled < other.filled - other.boundary) {
      return `component ${l} (filled ${other.filled}, boundary ${other.boundary}) is larger than the polygon's (filled ${mine.filled})`;
    }
  }
  return null;
}
