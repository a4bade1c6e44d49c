// The Roboflow mapping without Fastify: an Express app serving the same JSON routes as
// `inference-pool serve`, through the plain functions of inference-pool/server. In an app of your
// own, import from 'inference-pool' and 'inference-pool/server'.
//
//   npx tsx examples/express-server.ts            (PORT=9002 by default)
//   curl -s localhost:9002/infer/object_detection -H 'content-type: application/json' \
//     -d "{\"model_id\":\"shapes\",\"image\":{\"type\":\"base64\",\"value\":\"$(base64 -w0 test/fixtures/shapes/000.png)\"}}"
import express from 'express';
import type { NextFunction, Request, Response } from 'express';

import { InferencePool } from '../lib/index.ts';
import { ROUTE_TASKS, loadImageSources, parseInferBody, runInference, toHttpError } from '../lib/server/index.ts';

const TRAINED = new URL('../models/trained/', import.meta.url).pathname;
const MODELS = new URL('../models/generated/', import.meta.url).pathname;

const pool = await InferencePool.create({
  models: [
    { id: 'shapes', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
    { id: 'shapes-seg', path: `${TRAINED}shapes-seg.onnx`, task: 'instance-segmentation', resize: 'stretch' },
    { id: 'colors', path: `${MODELS}palette.onnx`, task: 'classification' },
  ],
});

const app = express();
app.use(express.json({ limit: '50mb' }));

for (const [route, task] of Object.entries(ROUTE_TASKS)) {
  app.post(`/infer/${route}`, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const request = parseInferBody(req.body); // Roboflow's fields and defaults; 400 on bad input
      const images = await loadImageSources(request.images, { allowUrlInput: false, urlInput: {} });
      const outputs = await runInference({
        pool,
        modelId: request.modelId,
        task,
        images,
        options: request.options,
        visualize: request.visualize,
        id: request.id,
      });
      const responses = outputs.map((o) => o.response);
      res.json(request.isList ? responses : responses[0]);
    } catch (error) {
      next(error);
    }
  });
}

// Errors as Roboflow answers them: `{ message }` with the status a client can act on.
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const http = toHttpError(error, 1);
  if (http.retryAfter !== undefined) res.set('retry-after', String(http.retryAfter));
  res.status(http.statusCode).json({ message: http.message });
});

const server = app.listen(Number(process.env.PORT ?? 9002), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : '?'}`);
});
process.once('SIGTERM', () => server.close(() => void pool.close()));
