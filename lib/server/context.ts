// What every route of the plugin shares.
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { InferencePool } from '../index.js';
import { HttpError } from './http-errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ServerSettings } from './settings.js';
import type { ServerState } from './state.js';

export interface RouteContext {
  pool: InferencePool;
  state: ServerState;
  settings: ServerSettings;
  metrics: ServerMetrics;
}

/** Aborts when the client goes away before its answer was sent, so its images that have not run are skipped. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  return controller.signal;
}

/** Before inference work: 503 while draining, or while the model asked for is still loading. */
export function checkAccepting(ctx: RouteContext, modelId: string): void {
  if (ctx.state.draining) {
    throw new HttpError(503, 'The server is shutting down', { retryAfter: ctx.settings.retryAfterSeconds });
  }
  if (!ctx.state.modelsLoaded && !ctx.pool.models.some((m) => m.id === modelId)) {
    throw new HttpError(503, 'The server is still loading its models', { retryAfter: ctx.settings.retryAfterSeconds });
  }
}

/** Adds the inference ids to the request's log lines (the "request completed" line included). */
export function logInferenceIds(request: FastifyRequest, reply: FastifyReply, modelId: string, ids: string[]): void {
  const child = request.log.child({ model_id: modelId, inference_id: ids.length === 1 ? ids[0] : ids });
  request.log = child;
  reply.log = child;
}
