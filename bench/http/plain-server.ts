// The HTTP benchmark's plain contender: what a careful Node developer puts behind a Roboflow-style
// route without this library. Fastify, and per request the in-process benchmark's plain pipeline
// (sharp, a JS tensor loop, onnxruntime-node, the JS postprocessing reference), then the same answer
// the pool's server gives: `{ inference_id, time, image, predictions }`, segmentation polygons
// included. Run as a child of bench/http.ts: `node --import tsx bench/http/plain-server.ts <job json>`.
import { randomUUID } from 'node:crypto';

import Fastify from 'fastify';

import { loadPlainModel, runPlain } from '../contenders/plain.ts';
import type { PlainOutput } from '../contenders/plain.ts';
import type { InferOptions } from '../../lib/index.ts';
import type { RoboflowResponse } from '../../lib/server/roboflow-response.ts';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../../lib/server/settings.ts';
import { outerPolygon } from './polygon.ts';
import { httpWorkloadNamed } from './workloads.ts';

export interface PlainServerJob {
  workload: string;
  host: string;
  port: number;
}

interface InferBody {
  model_id?: string;
  image?: { type?: string; value?: string };
  confidence?: number;
  iou_threshold?: number;
  max_detections?: number;
  max_candidates?: number;
  mask_decode_mode?: InferOptions['maskDecodeMode'];
}

const job = JSON.parse(process.argv[2]!) as PlainServerJob;
const w = httpWorkloadNamed(job.workload);
const model = await loadPlainModel(w.model);

/** The answer, typed as the pool's server's (lib/server/roboflow-response.ts) so that the shapes stay one. */
function answer(out: PlainOutput, time: number): RoboflowResponse {
  const head = {
    inference_id: randomUUID(),
    time,
    image: { width: out.transform.originalWidth, height: out.transform.originalHeight },
  };
  if (out.classes) {
    const [best] = out.classes;
    return {
      ...head,
      predictions: out.classes.map((c) => ({
        class: String(c.classId),
        class_id: c.classId,
        confidence: c.confidence,
      })),
      top: best ? String(best.classId) : '',
      confidence: best?.confidence ?? 0,
    };
  }
  return {
    ...head,
    predictions: out.detections!.map((d) => {
      const [x1, y1, x2, y2] = d.box;
      return {
        x: (x1 + x2) / 2,
        y: (y1 + y2) / 2,
        width: x2 - x1,
        height: y2 - y1,
        confidence: d.score,
        class: String(d.classId),
        class_id: d.classId,
        detection_id: randomUUID(),
        ...(d.mask ? { points: outerPolygon(d.mask) } : {}),
      };
    }),
  };
}

// The limits and connection timeouts the pool's server defaults to (lib/server/create-server.ts), so
// that neither refuses or drops what the other takes.
const app = Fastify({
  logger: false,
  bodyLimit: DEFAULT_BODY_LIMIT,
  requestTimeout: DEFAULT_REQUEST_TIMEOUT_MS,
  keepAliveTimeout: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  http: {
    headersTimeout: DEFAULT_HEADERS_TIMEOUT_MS,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, DEFAULT_HEADERS_TIMEOUT_MS / 2)),
  },
});

app.get('/readiness', async () => ({ status: 'ready' }));

app.post<{ Params: { task: string }; Body: InferBody }>('/infer/:task', async (request, reply) => {
  const body = request.body ?? {};
  if (request.params.task !== w.task) return reply.code(404).send({ message: `no ${request.params.task} model` });
  if (body.model_id !== w.modelId) return reply.code(404).send({ message: `unknown model ${body.model_id}` });
  if (body.image?.type !== 'base64' || typeof body.image.value !== 'string') {
    return reply.code(400).send({ message: 'image: { type: "base64", value } expected' });
  }
  const started = performance.now();
  const options: InferOptions = {
    ...w.model.options,
    confidence: body.confidence ?? w.model.options.confidence,
    iouThreshold: body.iou_threshold ?? w.model.options.iouThreshold,
    maxDetections: body.max_detections ?? w.model.options.maxDetections,
    maxCandidates: body.max_candidates ?? w.model.options.maxCandidates,
    maskDecodeMode: body.mask_decode_mode ?? w.model.options.maskDecodeMode,
  };
  let out: PlainOutput;
  try {
    out = await runPlain(model, Buffer.from(body.image.value, 'base64'), options);
  } catch (error) {
    return reply.code(400).send({ message: `could not run the image: ${(error as Error).message}` });
  }
  return answer(out, (performance.now() - started) / 1000);
});

await app.listen({ host: job.host, port: job.port });
process.stderr.write(`[plain-server] ${w.modelId} on http://${job.host}:${job.port}\n`);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)));
