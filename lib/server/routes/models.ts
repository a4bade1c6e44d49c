// Roboflow's model registry routes. /model/add loads only a model named in the configuration or a file
// `<modelsDir>/<model_id>.onnx` — a path from a client is never opened. They can be turned off
// (`admin: false`).
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';

import type { FastifyInstance } from 'fastify';

import { InferencePoolError } from '../../index.js';
import type { ModelInfo, ModelSpec, Task } from '../../index.js';
import type { RouteContext } from '../context.js';
import { HttpError } from '../http-errors.js';

const TASKS: readonly Task[] = ['object-detection', 'instance-segmentation', 'classification'];
/** A model id that may name a file: path segments of safe characters, no '.' or '..' segments. */
const SAFE_ID = /^(?!\.{1,2}(\/|$))[A-Za-z0-9_][A-Za-z0-9._-]*(\/(?!\.{1,2}(\/|$))[A-Za-z0-9_][A-Za-z0-9._-]*)*$/;

/** Roboflow's ModelsDescriptions. */
function registry(models: ModelInfo[]) {
  return {
    models: models.map((m) => ({
      model_id: m.id,
      task_type: m.task,
      batch_size: m.maxBatchSize,
      input_width: m.inputSize[0],
      input_height: m.inputSize[1],
    })),
  };
}

function modelIdOf(body: unknown): string {
  const id = (body as { model_id?: unknown } | null)?.model_id;
  if (typeof id !== 'string' || id === '') throw new HttpError(400, 'Invalid request: model_id: is required');
  return id;
}

/** The spec /model/add may load for an id: the configuration's, else a file in the models folder. */
function specFor(ctx: RouteContext, id: string, body: Record<string, unknown>): ModelSpec {
  const configured = ctx.settings.configured.get(id);
  if (configured) return configured;
  const dir = ctx.settings.modelsDir;
  if (dir && SAFE_ID.test(id) && id.length <= 200) {
    const root = resolve(dir);
    const file = resolve(root, `${id}.onnx`);
    const inside = relative(root, file);
    if (!inside.startsWith('..') && !isAbsolute(inside) && existsSync(file)) {
      const task = body.task ?? body.model_type;
      if (!TASKS.includes(task as Task)) {
        throw new HttpError(400, `Invalid request: model_type: must be one of ${TASKS.join(', ')} for a model file`);
      }
      return { id, path: join(root, `${id}.onnx`), task: task as Task };
    }
  }
  throw new InferencePoolError('MODEL_NOT_FOUND', `model '${id}' is neither configured nor in the models folder`);
}

export function modelRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/model/registry', async () => registry(ctx.pool.models));
  if (!ctx.settings.admin) return;

  // Two clients adding the same model share one load.
  const loading = new Map<string, Promise<unknown>>();
  app.post('/model/add', async (request) => {
    const id = modelIdOf(request.body);
    if (!ctx.pool.models.some((m) => m.id === id)) {
      let load = loading.get(id);
      if (!load) {
        load = ctx.pool
          .loadModel(specFor(ctx, id, (request.body ?? {}) as Record<string, unknown>))
          .finally(() => loading.delete(id));
        loading.set(id, load);
      }
      await load;
    }
    return registry(ctx.pool.models);
  });
  app.post('/model/remove', async (request) => {
    await ctx.pool.unloadModel(modelIdOf(request.body));
    return registry(ctx.pool.models);
  });
  app.post('/model/clear', async () => {
    await Promise.all(ctx.pool.models.map((m) => ctx.pool.unloadModel(m.id)));
    return registry(ctx.pool.models);
  });
}
