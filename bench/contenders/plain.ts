// What a careful Node developer writes today without this library: sharp decodes and resizes,
// a JS loop builds the NCHW float tensor (buffers reused), onnxruntime-node runs one request at a
// time, and JS decodes the head, runs NMS and builds masks (the project's JS reference). The HTTP
// benchmark's plain server (bench/http/plain-server.ts) runs the same `loadPlainModel` and `runPlain`.
import sharp from 'sharp';

import { decodeDetections, decodeMask, imageTransform } from '../../test/reference/detection.ts';
import type { Detection, Mask, Transform } from '../../test/reference/detection.ts';
import { createSession, inputSize, ort } from './ort-session.ts';
import type { Contender } from './contender.ts';
import type { InferOptions } from '../../lib/index.ts';
import type { BenchModel, Workload } from '../workloads.ts';

export interface PlainModel {
  model: BenchModel;
  session: ort.InferenceSession;
  width: number;
  height: number;
  letterbox: boolean;
  free: Float32Array[]; // tensors not in use, reused across requests
}

async function toTensor(m: PlainModel, jpeg: Buffer): Promise<{ tensor: Float32Array; transform: Transform }> {
  const { width: w0 = 0, height: h0 = 0 } = await sharp(jpeg).metadata();
  const { data } = await sharp(jpeg)
    .resize(
      m.width,
      m.height,
      m.letterbox ? { fit: 'contain', background: { r: 114, g: 114, b: 114 } } : { fit: 'fill' },
    )
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const plane = m.width * m.height;
  const tensor = m.free.pop() ?? new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    tensor[i] = data[p]! / 255;
    tensor[plane + i] = data[p + 1]! / 255;
    tensor[2 * plane + i] = data[p + 2]! / 255;
  }
  const transform = imageTransform(w0, h0, m.width, m.height, m.letterbox ? 'letterbox' : 'stretch');
  return { tensor, transform };
}

function classify(scores: Float32Array, topK: number): { classId: number; confidence: number }[] {
  let max = -Infinity;
  for (const v of scores) max = Math.max(max, v);
  let sum = 0;
  for (const v of scores) sum += Math.exp(v - max);
  const probs = Array.from(scores, (v, classId) => ({ classId, confidence: Math.exp(v - max) / sum }));
  return probs.sort((a, b) => b.confidence - a.confidence).slice(0, topK);
}

/** One image's answer: where the picture went (its size included), and detections or classes. */
export interface PlainOutput {
  transform: Transform;
  detections?: (Detection & { mask?: Mask })[];
  classes?: { classId: number; confidence: number }[];
}

export async function runPlain(m: PlainModel, jpeg: Buffer, o: InferOptions = m.model.options): Promise<PlainOutput> {
  const { tensor, transform } = await toTensor(m, jpeg);
  const feeds = { [m.session.inputNames[0]!]: new ort.Tensor('float32', tensor, [1, 3, m.height, m.width]) };
  const outputs = await m.session.run(feeds);
  m.free.push(tensor);
  const head = outputs[m.session.outputNames[0]!]!;
  if (m.model.spec.task === 'classification')
    return { transform, classes: classify(head.data as Float32Array, o.topK ?? 5) };
  const protos = m.model.spec.task === 'instance-segmentation' ? outputs[m.session.outputNames[1]!] : undefined;
  const detections = decodeDetections(
    head.data as Float32Array,
    head.dims,
    {
      layout: 'yolov8',
      confidence: o.confidence,
      iouThreshold: o.iouThreshold,
      maxDetections: o.maxDetections,
      maxCandidates: o.maxCandidates,
      numMasks: protos ? protos.dims[1] : 0,
    },
    transform,
  );
  if (!protos) return { transform, detections };
  const withMasks = detections.map((d) => ({
    ...d,
    mask: decodeMask(
      protos.data as Float32Array,
      protos.dims,
      d.coeffs,
      d.box,
      transform,
      o.maskDecodeMode ?? 'accurate',
    ),
  }));
  return { transform, detections: withMasks };
}

export async function loadPlainModel(model: BenchModel): Promise<PlainModel> {
  const session = await createSession(model.spec.path as string);
  const [width, height] = inputSize(session);
  const letterbox =
    (model.spec.resize ?? (model.spec.task === 'classification' ? 'stretch' : 'letterbox')) === 'letterbox';
  return { model, session, width, height, letterbox, free: [] };
}

export async function createPlainContender(workload: Workload): Promise<Contender> {
  const byId = new Map<string, PlainModel>();
  for (const model of workload.models) {
    if (!byId.has(model.spec.id)) byId.set(model.spec.id, await loadPlainModel(model));
  }
  return {
    send: (image, i) => {
      const model = workload.models[i]!;
      return runPlain(byId.get(model.spec.id)!, image.jpeg, model.options);
    },
    meanBatchSize: () => 1,
    close: async () => {
      for (const m of byId.values()) await m.session.release();
    },
  };
}
