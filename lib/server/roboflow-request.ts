// Roboflow's request forms → what the pool takes. Plain functions of plain data, so any framework can
// call them (examples/express-server.ts does). Field names and defaults are Roboflow's
// (inference/core/entities/requests/inference.py): a client written for Roboflow's server works unchanged.
import type { InferOptions, Task } from '../index.js';
import { HttpError } from './http-errors.js';
import type { RequestDefaults } from './options.js';

/** Where an image comes from: base64 text or a URL (fetched only when URL input is on). */
export type ImageSource =
  { type: 'base64'; value: string } | { type: 'url'; value: string } | { type: 'bytes'; value: Uint8Array };

export interface VisualizeOptions {
  /** Add `visualization` (base64 JPEG) to the response (JSON routes) or answer the image (legacy format=image). */
  enabled: boolean;
  labels: boolean;
  strokeWidth: number;
}

/** One Roboflow request, parsed: the model, its images, the pool's options and how to draw. */
export interface ParsedRequest {
  modelId: string;
  images: ImageSource[];
  /** True when the client sent a list in `image`: the answer is a list too. */
  isList: boolean;
  options: InferOptions;
  visualize: VisualizeOptions;
  /** The client's `id`, used as the inference id. */
  id?: string;
}

/** The route for each task, and the task each route serves. */
export const ROUTE_TASKS = {
  object_detection: 'object-detection',
  instance_segmentation: 'instance-segmentation',
  classification: 'classification',
} as const satisfies Record<string, Task>;

export const ROBOFLOW_DEFAULTS: Required<RequestDefaults> = {
  confidence: 0.4,
  iouThreshold: 0.3,
  maxDetections: 300,
  maxCandidates: 3000,
};

const MASK_MODES = ['accurate', 'fast', 'tradeoff'] as const;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Collects every problem with a request, raised once as a 400 naming each field. */
class Problems {
  readonly list: string[] = [];
  add(field: string, what: string): undefined {
    this.list.push(`${field}: ${what}`);
    return undefined;
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new HttpError(400, `Invalid request: ${this.list.join('; ')}`);
  }
}

function fraction(p: Problems, field: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    return p.add(field, 'must be a number from 0 to 1') ?? fallback;
  }
  return value;
}

function count(p: Problems, field: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    return p.add(field, 'must be an integer from 1 to 1000000') ?? fallback;
  }
  return value;
}

function flag(p: Problems, field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') return p.add(field, 'must be true or false') ?? fallback;
  return value;
}

function imageSource(p: Problems, field: string, value: unknown): ImageSource | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return p.add(field, "must be { type: 'base64' | 'url', value }");
  }
  const { type, value: v } = value as { type?: unknown; value?: unknown };
  if (type !== 'base64' && type !== 'url') {
    return p.add(`${field}.type`, `'${String(type)}' is not supported: use 'base64' or 'url'`);
  }
  if (typeof v !== 'string' || v === '') return p.add(`${field}.value`, 'must be a non-empty string');
  return { type, value: v };
}

/**
 * The JSON body of `POST /infer/{object_detection,instance_segmentation,classification}` as a
 * ParsedRequest, with the server's defaults for what the client left out. Throws a 400 HttpError
 * naming every bad field.
 */
export function parseInferBody(body: unknown, defaults: RequestDefaults = {}, maxImages = 16): ParsedRequest {
  const d = { ...ROBOFLOW_DEFAULTS, ...defaults };
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'Invalid request: the body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const p = new Problems();
  const modelId = typeof b.model_id === 'string' && b.model_id !== '' ? b.model_id : undefined;
  if (!modelId) p.add('model_id', 'is required (a non-empty string)');

  let images: ImageSource[] = [];
  const isList = Array.isArray(b.image);
  if (b.image === undefined || b.image === null) {
    p.add('image', 'is required');
  } else if (isList) {
    const list = b.image as unknown[];
    if (list.length === 0) p.add('image', 'must not be an empty list');
    else if (list.length > maxImages) p.add('image', `at most ${maxImages} images per request`);
    else images = list.map((item, i) => imageSource(p, `image[${i}]`, item)).filter((s) => s !== undefined);
  } else {
    const one = imageSource(p, 'image', b.image);
    if (one) images = [one];
  }

  const options: InferOptions = {
    confidence: fraction(p, 'confidence', b.confidence, d.confidence),
    iouThreshold: fraction(p, 'iou_threshold', b.iou_threshold, d.iouThreshold),
    classAgnosticNms: flag(p, 'class_agnostic_nms', b.class_agnostic_nms, false),
    maxDetections: count(p, 'max_detections', b.max_detections, d.maxDetections),
    maxCandidates: count(p, 'max_candidates', b.max_candidates, d.maxCandidates),
    tradeoffFactor: fraction(p, 'tradeoff_factor', b.tradeoff_factor, 0),
  };
  if (b.class_filter !== undefined && b.class_filter !== null) {
    if (!Array.isArray(b.class_filter) || b.class_filter.some((c) => typeof c !== 'string' && typeof c !== 'number')) {
      p.add('class_filter', 'must be a list of class names');
    } else {
      options.classFilter = b.class_filter as (string | number)[];
    }
  }
  const mode = b.mask_decode_mode ?? 'accurate';
  if (!MASK_MODES.includes(mode as (typeof MASK_MODES)[number])) {
    p.add('mask_decode_mode', `must be one of ${MASK_MODES.join(', ')}`);
  } else {
    options.maskDecodeMode = mode as InferOptions['maskDecodeMode'];
  }
  const visualize: VisualizeOptions = {
    enabled: flag(p, 'visualize_predictions', b.visualize_predictions, false),
    labels: flag(p, 'visualization_labels', b.visualization_labels, false),
    strokeWidth: strokeWidth(p, 'visualization_stroke_width', b.visualization_stroke_width),
  };
  let id: string | undefined;
  if (b.id !== undefined && b.id !== null) {
    if (typeof b.id !== 'string' || b.id.length > 200) p.add('id', 'must be a string of at most 200 characters');
    else id = b.id;
  }
  p.throwIfAny();
  return { modelId: modelId!, images, isList, options, visualize, id };
}

function strokeWidth(p: Problems, field: string, value: unknown): number {
  if (value === undefined || value === null) return 1;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 100) {
    return p.add(field, 'must be an integer from 1 to 100') ?? 1;
  }
  return value;
}

/** Query values of the legacy route arrive as text. */
export type Query = Record<string, string | string[] | undefined>;

function queryValue(query: Query, name: string): string | undefined {
  const v = query[name];
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** A threshold of the hosted API: 0–1, or 0–100 (Roboflow's own clients send percentages). */
function percentOrFraction(p: Problems, field: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || n > 100)
    return p.add(field, 'must be a number from 0 to 1, or 0 to 100') ?? fallback;
  return n > 1 ? n / 100 : n;
}

function queryFlag(p: Problems, field: string, text: string | undefined, fallback: boolean): boolean {
  if (text === undefined || text === '') return fallback;
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return p.add(field, 'must be true or false') ?? fallback;
}

function queryInt(p: Problems, field: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) return p.add(field, `must be an integer from 1 to ${max}`) ?? fallback;
  return n;
}

export interface LegacyRequest extends Omit<ParsedRequest, 'images' | 'isList'> {
  /** `format=image`: answer the annotated JPEG instead of JSON. */
  format: 'json' | 'image';
  /** `?image=URL`, when given. */
  imageUrl?: string;
}

/**
 * The query of the legacy route `POST /:dataset/:version` (Roboflow's hosted API form): confidence,
 * overlap, format, labels, stroke, max_detections, mask_decode_mode, tradeoff_factor, classes, image.
 */
export function parseLegacyQuery(modelId: string, query: Query, defaults: RequestDefaults = {}): LegacyRequest {
  const d = { ...ROBOFLOW_DEFAULTS, ...defaults };
  const p = new Problems();
  const format = queryValue(query, 'format') ?? 'json';
  if (format !== 'json' && format !== 'image') p.add('format', "must be 'json' or 'image'");
  const options: InferOptions = {
    confidence: percentOrFraction(p, 'confidence', queryValue(query, 'confidence'), d.confidence),
    iouThreshold: percentOrFraction(p, 'overlap', queryValue(query, 'overlap'), d.iouThreshold),
    maxDetections: queryInt(p, 'max_detections', queryValue(query, 'max_detections'), d.maxDetections, 1_000_000),
    maxCandidates: d.maxCandidates,
  };
  const tradeoff = queryValue(query, 'tradeoff_factor');
  if (tradeoff !== undefined && tradeoff !== '') {
    const n = Number(tradeoff);
    if (!Number.isFinite(n) || n < 0 || n > 1) p.add('tradeoff_factor', 'must be a number from 0 to 1');
    else options.tradeoffFactor = n;
  }
  const mode = queryValue(query, 'mask_decode_mode');
  if (mode !== undefined && mode !== '') {
    if (!MASK_MODES.includes(mode as (typeof MASK_MODES)[number])) {
      p.add('mask_decode_mode', `must be one of ${MASK_MODES.join(', ')}`);
    } else {
      options.maskDecodeMode = mode as InferOptions['maskDecodeMode'];
    }
  }
  const classes = queryValue(query, 'classes');
  if (classes !== undefined && classes !== '') {
    options.classFilter = classes
      .split(',')
      .map((c) => c.trim())
      .filter((c) => c !== '');
  }
  const visualize: VisualizeOptions = {
    enabled: format === 'image',
    labels: queryFlag(p, 'labels', queryValue(query, 'labels'), false),
    strokeWidth: queryInt(p, 'stroke', queryValue(query, 'stroke'), 1, 100),
  };
  const imageUrl = queryValue(query, 'image');
  p.throwIfAny();
  return { modelId, options, visualize, format: format as 'json' | 'image', imageUrl: imageUrl || undefined };
}

/** Base64 text (optionally a data: URL) as bytes; a 400 when it is not base64 at all. */
export function decodeBase64Image(text: string, field = 'image'): Buffer {
  let body = text;
  if (body.startsWith('data:')) {
    const comma = body.indexOf(',');
    if (comma < 0 || !body.slice(0, comma).endsWith(';base64')) {
      throw new HttpError(400, `Invalid request: ${field}: a data URL must be base64`);
    }
    body = body.slice(comma + 1);
  }
  // Buffer.from skips what is not base64, so a decoded length short of what the text's length implies
  // means there was something else in it. Checking that costs nothing; a regex over megabytes of text
  // showed in bench:http's profile. Line breaks (MIME's) are allowed: stripped, then checked again.
  const urlSafe = body.includes('-') || body.includes('_');
  let bytes = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
  if (bytes.length !== decodedLength(body)) {
    body = body.replace(/\s+/g, '');
    bytes = Buffer.from(body, urlSafe ? 'base64url' : 'base64');
    if (bytes.length !== decodedLength(body) || !BASE64.test(body)) {
      throw new HttpError(400, `Invalid request: ${field}: not valid base64`);
    }
  }
  if (bytes.length === 0) throw new HttpError(400, `Invalid request: ${field}: empty image`);
  return bytes;
}

/** Bytes a well-formed base64 text of this length decodes to (padding optional). */
function decodedLength(text: string): number {
  let n = text.length;
  if (text.endsWith('==')) n -= 2;
  else if (text.endsWith('=')) n -= 1;
  return Math.floor((n * 3) / 4);
}
