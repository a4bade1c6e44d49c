// The API key check: Roboflow's clients send `?api_key=` (and its SDK `api_key` in a JSON body);
// others send `Authorization: Bearer`. Compared in constant time (digests of equal length).
import { createHash, timingSafeEqual } from 'node:crypto';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HttpError } from './http-errors.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function keyFromQueryOrHeader(request: FastifyRequest): string | undefined {
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.api_key;
  if (typeof fromQuery === 'string') return fromQuery;
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^bearer\s+/i.test(header)) return header.replace(/^bearer\s+/i, '').trim();
  return undefined;
}

/** Every route of this context but those marked `config: { public: true }` needs the key. */
export function addApiKeyCheck(app: FastifyInstance, apiKey: string): void {
  const expected = digest(apiKey);
  const matches = (key: string) => timingSafeEqual(digest(key), expected);
  const refuse = () => new HttpError(401, 'Unauthorized: a valid api_key is required');

  app.addHook('onRequest', async (request) => {
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    const key = keyFromQueryOrHeader(request);
    if (key !== undefined) {
      if (!matches(key)) throw refuse();
      (request as { apiKeyChecked?: boolean }).apiKeyChecked = true;
      return;
    }
    // A JSON body may carry it (Roboflow's SDK): checked once the body is parsed.
    if (!String(request.headers['content-type'] ?? '').includes('json')) throw refuse();
  });
  app.addHook('preValidation', async (request) => {
    if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
    if ((request as { apiKeyChecked?: boolean }).apiKeyChecked) return;
    const key = (request.body as { api_key?: unknown } | undefined)?.api_key;
    if (typeof key !== 'string' || !matches(key)) throw refuse();
  });
}
