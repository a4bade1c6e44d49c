// GET /metrics: Prometheus text from prom-client (see metrics.ts for what is in it).
import type { FastifyInstance } from 'fastify';

import type { RouteContext } from '../context.js';

export function metricsRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await ctx.metrics.text();
    return reply.type(ctx.metrics.contentType).send(text);
  });
}
