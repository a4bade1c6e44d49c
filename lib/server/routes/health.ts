// Liveness and readiness, Roboflow's /info, and the KServe v2 health routes (what Triton and
// KServe-aware load balancers probe). None needs the API key.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';

import type { FastifyInstance, FastifyReply } from 'fastify';

import type { RouteContext } from '../context.js';

const VERSION = (createRequire(import.meta.url)('inference-pool/package.json') as { version: string }).version;
const SERVER_UUID = randomUUID();
const PUBLIC = { config: { public: true } };

export function healthRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const notReady = (reply: FastifyReply) => {
    const message = ctx.state.draining ? 'The server is shutting down' : 'The server is still loading its models';
    return reply.code(503).header('retry-after', String(ctx.settings.retryAfterSeconds)).send({ message });
  };
  const readiness = async (_request: unknown, reply: FastifyReply) =>
    ctx.state.ready ? { status: 'ready' } : notReady(reply);

  app.get('/healthz', PUBLIC, async () => ({ status: 'healthy' }));
  app.get('/readiness', PUBLIC, readiness);
  app.get('/v2/health/live', PUBLIC, async () => ({ live: true }));
  app.get('/v2/health/ready', PUBLIC, readiness);
  const modelReady = async (modelId: string, reply: FastifyReply) => {
    if (!ctx.pool.models.some((m) => m.id === modelId)) {
      return reply.code(404).send({ message: `no model '${modelId}' is loaded` });
    }
    return ctx.state.draining ? notReady(reply) : { name: modelId, ready: true };
  };
  app.get<{ Params: { model: string } }>('/v2/models/:model/ready', PUBLIC, (request, reply) =>
    modelReady(request.params.model, reply),
  );
  app.get<{ Params: { dataset: string; version: string } }>(
    '/v2/models/:dataset/:version/ready',
    PUBLIC,
    (request, reply) => modelReady(`${request.params.dataset}/${request.params.version}`, reply),
  );

  app.get('/info', async () => ({
    name: 'inference-pool',
    version: VERSION,
    uuid: SERVER_UUID,
    runtime: ctx.pool.closed ? undefined : ctx.pool.runtime,
    models: ctx.pool.models.map((m) => m.id),
  }));
}
