// The Fastify plugin: serves an InferencePool over Roboflow's HTTP API. Decorates the instance with
// `inferencePool` (the pool) and `inferenceServer` (readiness and drain); its routes, parsers, error
// handler and API-key hook live in an encapsulated child context, so they never touch the host
// app's own routes. A pool the plugin created is closed in onClose; a pool passed in is left open.
import multipart from '@fastify/multipart';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

import { InferencePool } from '../index.js';
import type { ModelSpec, PoolOptions } from '../index.js';
import { addApiKeyCheck } from './auth.js';
import type { RouteContext } from './context.js';
import { toHttpError } from './http-errors.js';
import { ServerMetrics } from './metrics.js';
import type { InferencePoolPluginOptions, InferenceServerState } from './options.js';
import { healthRoutes } from './routes/health.js';
import { inferRoutes } from './routes/infer.js';
import { legacyRoutes } from './routes/legacy.js';
import { metricsRoutes } from './routes/metrics.js';
import { modelRoutes } from './routes/models.js';
import { resolveSettings } from './settings.js';
import { ServerState } from './state.js';

declare module 'fastify' {
  interface FastifyInstance {
    inferencePool: InferencePool;
    inferenceServer: InferenceServerState;
  }
  interface FastifyContextConfig {
    /** Served without the API key (health routes). */
    public?: boolean;
  }
}

async function openPool(
  given: InferencePool | PoolOptions | undefined,
): Promise<{ pool: InferencePool; owned: boolean; models: ModelSpec[] }> {
  if (given instanceof InferencePool) return { pool: given, owned: false, models: [] };
  const { models = [], ...poolOptions } = given ?? {};
  // Models load after the pool exists, so that readiness can follow them.
  return { pool: await InferencePool.create(poolOptions), owned: true, models };
}

async function loadModels(pool: InferencePool, models: ModelSpec[]): Promise<void> {
  for (const spec of models) {
    if (!pool.models.some((m) => m.id === spec.id)) await pool.loadModel(spec);
  }
}

async function inferencePoolPlugin(app: FastifyInstance, options: InferencePoolPluginOptions): Promise<void> {
  const { pool, owned, models: poolModels } = await openPool(options.pool);
  const models = [...poolModels, ...(options.models ?? [])];
  let settings;
  try {
    settings = resolveSettings(options, models);
  } catch (error) {
    if (owned) await pool.close();
    throw error;
  }
  const state = new ServerState(loadModels(pool, models));
  const ctx: RouteContext = { pool, state, settings, metrics: new ServerMetrics(pool) };

  app.decorate('inferencePool', pool);
  app.decorate('inferenceServer', state);
  app.addHook('onClose', async () => {
    // Let a background load finish (or fail) before closing, so the pool is never closed mid-load.
    await state.loaded.catch(() => {});
    if (owned) await pool.close();
  });

  await app.register(async (routes) => {
    routes.setErrorHandler((error: FastifyError, request, reply) => {
      const http = toHttpError(error, settings.retryAfterSeconds);
      if (http.statusCode >= 500 && http.statusCode !== 503 && http.statusCode !== 504) {
        request.log.error({ err: error }, 'request failed');
      }
      if (http.retryAfter !== undefined) reply.header('retry-after', String(http.retryAfter));
      if (http.statusCode === 503 && state.draining) reply.header('connection', 'close');
      return reply.code(http.statusCode).send({ message: http.message });
    });
    // JSON without secure-json-parse's prototype-poisoning scans: on bodies of megabytes of base64 they
    // cost as much as the parse itself (measured in bench:http's CPU profile), and no route here merges
    // a body into another object — each reads the fields it knows.
    routes.addContentTypeParser(
      'application/json',
      { parseAs: 'buffer', bodyLimit: settings.bodyLimit },
      (_request, body, done) => {
        try {
          done(null, (body as Buffer).length === 0 ? undefined : JSON.parse((body as Buffer).toString('utf8')));
        } catch (error) {
          done(
            Object.assign(new Error(`Invalid JSON body: ${(error as Error).message}`), { statusCode: 400 }),
            undefined,
          );
        }
      },
    );
    // Base64 text (Roboflow's Node snippet posts it form-encoded) and raw image bytes.
    routes.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: settings.bodyLimit },
      (_request, body, done) => done(null, body),
    );
    for (const type of [/^image\/[\w.+-]+$/, 'application/octet-stream']) {
      routes.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: settings.bodyLimit }, (_request, body, done) =>
        done(null, body),
      );
    }
    await routes.register(multipart, { limits: { fileSize: settings.bodyLimit, files: 1, fields: 16, parts: 32 } });
    if (settings.apiKey) addApiKeyCheck(routes, settings.apiKey);

    healthRoutes(routes, ctx);
    metricsRoutes(routes, ctx);
    modelRoutes(routes, ctx);
    inferRoutes(routes, ctx);
    legacyRoutes(routes, ctx);
  });

  if (options.waitForModels !== false) await state.loaded;
}

/** Serves an InferencePool over Roboflow's HTTP API; register it with your pool or pool options. */
export const inferencePool = fp(inferencePoolPlugin, { fastify: '5.x', name: 'inference-pool' });
