// One HTTP request's inference: its images (already bytes) run as concurrent pool requests, so they
// batch with each other and with every other client's; the answer is Roboflow's response per image.
import { randomUUID } from 'node:crypto';

import { annotate, InferencePoolError } from '../index.js';
import type { InferOptions, InferencePool, InferenceResult, ModelInfo, Task } from '../index.js';
import { HttpError } from './http-errors.js';
import type { VisualizeOptions } from './roboflow-request.js';
import { toRoboflowResponse } from './roboflow-response.js';
import type { RoboflowResponse } from './roboflow-response.js';

export interface InferenceJob {
  pool: InferencePool;
  modelId: string;
  /** The route's task; undefined on the legacy route (any task). */
  task?: Task;
  images: Uint8Array[];
  options: InferOptions;
  visualize: VisualizeOptions;
  /** Put the visualization into the response as base64 (else only `visualization` holds it). Default true. */
  embedVisualization?: boolean;
  /** The client's id for the request; else one UUID per image. */
  id?: string;
  /** Aborted when the client goes away: its images that have not run are skipped. */
  signal?: AbortSignal;
  /** Called once per image with its outcome (metrics). */
  onOutcome?: (modelId: string, error?: unknown) => void;
}

export interface InferenceOutput {
  result: InferenceResult;
  response: RoboflowResponse;
  /** The annotated JPEG, when visualize was on. */
  visualization?: Buffer;
}

/** The model a request names, checked against the route's task: 404 unknown, 400 wrong task. */
export function findModel(pool: InferencePool, modelId: string, task?: Task): ModelInfo {
  const model = pool.models.find((m) => m.id === modelId);
  if (!model) throw new InferencePoolError('MODEL_NOT_FOUND', `no model '${modelId}' is loaded`);
  if (task && model.task !== task) {
    throw new HttpError(400, `model '${modelId}' is a ${model.task} model; this route serves ${task} models`);
  }
  return model;
}

export async function runInference(job: InferenceJob): Promise<InferenceOutput[]> {
  findModel(job.pool, job.modelId, job.task);
  // One failure fails the request (as Roboflow's server does): the others are aborted.
  const abort = new AbortController();
  const onClientGone = () => abort.abort(job.signal?.reason);
  job.signal?.addEventListener('abort', onClientGone, { once: true });
  try {
    const settled = await Promise.allSettled(
      job.images.map(async (bytes) => {
        try {
          const result = await job.pool.infer(bytes, job.modelId, { ...job.options, signal: abort.signal });
          job.onOutcome?.(job.modelId);
          return result;
        } catch (error) {
          job.onOutcome?.(job.modelId, error);
          abort.abort();
          throw error;
        }
      }),
    );
    const failed = settled.find((s) => s.status === 'rejected' && !isSecondaryAbort(s.reason, job.signal));
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const firstRejected = settled.find((s) => s.status === 'rejected');
    if (firstRejected) throw (firstRejected as PromiseRejectedResult).reason;
    const results = settled.map((s) => (s as PromiseFulfilledResult<InferenceResult>).value);
    return await Promise.all(
      results.map(async (result, i) => {
        const inferenceId = job.id ?? randomUUID();
        let visualization: Buffer | undefined;
        if (job.visualize.enabled) {
          visualization = await annotate(job.images[i]!, result, {
            format: 'jpeg',
            labels: job.visualize.labels,
            strokeWidth: job.visualize.strokeWidth,
          });
        }
        const response = toRoboflowResponse(result, {
          inferenceId,
          visualization: job.embedVisualization === false ? undefined : visualization?.toString('base64'),
        });
        return { result, response, visualization };
      }),
    );
  } finally {
    job.signal?.removeEventListener('abort', onClientGone);
  }
}

/** An ABORTED caused by a sibling image's failure, not by the client: report the sibling's error. */
function isSecondaryAbort(error: unknown, clientSignal: AbortSignal | undefined): boolean {
  return error instanceof InferencePoolError && error.code === 'ABORTED' && !clientSignal?.aborted;
}
