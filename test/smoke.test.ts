// The shortest path through the whole pipeline: one classifier, one image, one result.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult } from '../lib/index.ts';

const MODELS = new URL('../models/generated/', import.meta.url).pathname;

test('a palette classifier names the colour of a raw image', async () => {
  const pool = await InferencePool.create({
    models: [{ id: 'colors', path: `${MODELS}palette.onnx`, task: 'classification' }],
  });
  try {
    const data = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < data.length; i += 3) data.set([30, 200, 40], i);
    const r = await pool.infer<ClassificationResult>({ data, width: 64, height: 64, format: 'rgb' }, 'colors', {
      topK: 3,
    });
    assert.is(r.task, 'classification');
    assert.is(r.top, 'green');
    assert.is(r.predictions.length, 3);
    assert.is(r.predictions[0]!.class_id, 1);
    assert.ok(r.confidence > 0.99);
    assert.equal(r.image, { width: 64, height: 64 });
    assert.is(r.scores.length, 8);
    assert.is(r.batchSize, 1);
  } finally {
    await pool.close();
  }
});

test.run();
