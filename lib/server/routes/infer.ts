// POST /infer/object_detection, /infer/instance_segmentation, /infer/classification: Roboflow's JSON
// request (one image or a list) → Roboflow's response (or a list of them).
import type { FastifyInstance } from 'fastify';

import { checkAccepting, clientGone, logInferenceIds } from '../context.js';
import type { RouteContext } from '../context.js';
import { loadImageSources } from '../image-sources.js';
import { runInference } from '../inference.js';
import { ROUTE_TASKS, parseInferBody } from '../roboflow-request.js';

export function inferRoutes(app: FastifyInstance, ctx: RouteContext): void {
  for (const [route, task] of Object.entries(ROUTE_TASKS)) {
    app.post(`/infer/${route}`, { bodyLimit: ctx.settings.bodyLimit }, async (request, reply) => {
      const parsed = parseInferBody(request.body, ctx.settings.defaults, ctx.settings.maxImagesPerRequest);
      checkAccepting(ctx, parsed.modelId);
      return ctx.state.track(async () => {
        const signal = clientGone(reply);
        const images = await loadImageSources(parsed.images, ctx.settings, signal);
        const outputs = await runInference({
          pool: ctx.pool,
          modelId: parsed.modelId,
          task,
          images,
          options: parsed.options,
          visualize: parsed.visualize,
          id: parsed.id,
          signal,
          onOutcome: (model, error) => ctx.metrics.record(model, error),
        });
        logInferenceIds(
          request,
          reply,
          parsed.modelId,
          outputs.map((o) => o.response.inference_id),
        );
        const responses = outputs.map((o) => o.response);
        return parsed.isList ? responses : responses[0];
      });
    });
  }
}
