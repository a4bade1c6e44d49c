// POST /:dataset/:version — Roboflow's hosted-API form, model id 'dataset/version'. The image comes
// as base64 text (application/x-www-form-urlencoded, as Roboflow's Node snippet sends it, or
// text/plain), as multipart part `file`, as raw bytes with an image/* type (no base64: the fast
// path), or as `?image=URL` when URL input is on.
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { checkAccepting, clientGone, logInferenceIds } from '../context.js';
import type { RouteContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { loadImageSource } from '../image-sources.js';
import { runInference } from '../inference.js';
import { parseLegacyQuery } from '../roboflow-request.js';
import type { ImageSource, Query } from '../roboflow-request.js';

async function imageFromBody(request: FastifyRequest, imageUrl: string | undefined): Promise<ImageSource> {
  if (request.isMultipart()) {
    for await (const part of request.parts()) {
      if (part.type === 'file' && part.fieldname === 'file') return { type: 'bytes', value: await part.toBuffer() };
      if (part.type === 'file') part.file.resume(); // not ours: drain it
    }
    throw new HttpError(400, "Invalid request: the multipart body has no part named 'file'");
  }
  const body = request.body;
  if (Buffer.isBuffer(body)) return { type: 'bytes', value: body };
  if (typeof body === 'string' && body !== '') {
    // Form-encoded clients may percent-encode the base64 ('+' '/' '=').
    const text = body.includes('%') ? safeDecodeURIComponent(body) : body;
    return { type: 'base64', value: text.startsWith('image=') ? text.slice(6) : text };
  }
  if (imageUrl) return { type: 'url', value: imageUrl };
  if (body !== undefined && body !== null && body !== '') {
    throw new HttpError(
      400,
      'Invalid request: send the image as base64 text, as multipart part "file", or as raw bytes with an image/* Content-Type',
    );
  }
  throw new HttpError(400, 'Invalid request: no image in the body or ?image=');
}

function safeDecodeURIComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, 'Invalid request: the body is not valid percent-encoded text');
  }
}

export function legacyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.post<{ Params: { dataset: string; version: string } }>(
    '/:dataset/:version',
    { bodyLimit: ctx.settings.bodyLimit },
    async (request, reply) => {
      const modelId = `${request.params.dataset}/${request.params.version}`;
      const parsed = parseLegacyQuery(modelId, request.query as Query, ctx.settings.defaults);
      checkAccepting(ctx, modelId);
      return ctx.state.track(async () => {
        const signal = clientGone(reply);
        const source = await imageFromBody(request, parsed.imageUrl);
        const image = await loadImageSource(source, ctx.settings, 'image', signal);
        const [output] = await runInference({
          pool: ctx.pool,
          modelId,
          images: [image],
          options: parsed.options,
          visualize: parsed.visualize,
          // format=image answers the JPEG itself: no base64 copy of it.
          embedVisualization: parsed.format !== 'image',
          signal,
          onOutcome: (model, error) => ctx.metrics.record(model, error),
        });
        logInferenceIds(request, reply, modelId, [output!.response.inference_id]);
        if (parsed.format === 'image') return reply.type('image/jpeg').send(output!.visualization);
        return output!.response;
      });
    },
  );
}
