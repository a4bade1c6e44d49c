// createServer(): a Fastify instance with the plugin registered and ready (not listening), limits
// and connection timeouts set from the server settings. The CLI listens on it.
import { randomUUID } from 'node:crypto';

import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';

import type { CreateServerOptions } from './options.js';
import { inferencePool } from './plugin.js';
import {
  DEFAULT_BODY_LIMIT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './settings.js';

export async function createServer(options: CreateServerOptions = {}): Promise<FastifyInstance> {
  const server = options.server ?? {};
  const headersTimeout = server.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  const app = Fastify({
    logger: server.logger ?? false,
    bodyLimit: server.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // A slow client does not hold the server: the whole request must arrive in time.
    requestTimeout: server.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: server.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    genReqId: () => randomUUID(),
    // Model ids 'dataset/version' arrive as two path parameters; nothing needs long ones.
    routerOptions: { maxParamLength: 200 },
    // Loading and warming up large models can take longer than Fastify's 10 s plugin limit.
    pluginTimeout: 0,
    http: {
      headersTimeout,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
    },
  });
  try {
    await app.register(inferencePool, {
      ...server,
      pool: options.pool,
      models: options.models,
      waitForModels: options.waitForModels ?? true,
    });
    await app.ready();
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }
  return app;
}
