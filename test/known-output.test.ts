// Models whose outputs are known in closed form: the mean-colour classifier (logits = 10 × the
// per-channel mean of the input tensor), the probability model (softmax already inside), the palette
// classifier (nearest of 8 colours). Expected scores are computed in JS from the pixels.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { InferencePool } from '../lib/index.ts';
import type { ClassificationResult, ImageInput } from '../lib/index.ts';
import { makeRgb, noise, solid, toRaw } from './helpers/images.ts';
import type { Rgb, RgbImage } from './helpers/images.ts';
import { MEAN_COLOR_NAMES, modelPath, MODELS, PALETTE } from './helpers/models.ts';
import { maxAbsDiff, preprocess, ranking, sigmoid, softmax } from './helpers/reference.ts';

const TOL = 1e-5;

const pool = await InferencePool.create({
  maxBatchSize: 8,
  models: [
    { id: 'mean', path: modelPath(MODELS.meanColor), task: 'classification' },
    { id: 'mean-named', path: modelPath(MODELS.meanColor), task: 'classification', classNames: ['R', 'G', 'B'] },
    { id: 'mean-short-names', path: modelPath(MODELS.meanColor), task: 'classification', classNames: ['only-red'] },
    { id: 'mean-unnamed', path: modelPath(MODELS.meanColorNoNames), task: 'classification' },
    { id: 'mean-sigmoid', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'sigmoid' },
    { id: 'mean-none', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'none' },
    { id: 'mean-softmax', path: modelPath(MODELS.meanColor), task: 'classification', activation: 'softmax' },
    { id: 'nhwc', path: modelPath(MODELS.meanColorNhwc), task: 'classification' },
    { id: 'fixed', path: modelPath(MODELS.meanColorFixedBatch), task: 'classification' },
    { id: 'two-instances', path: modelPath(MODELS.meanColor), task: 'classification', instances: 2 },
    { id: 'prob', path: modelPath(MODELS.probability), task: 'classification' },
    { id: 'prob-softmax', path: modelPath(MODELS.probability), task: 'classification', activation: 'softmax' },
    { id: 'palette', path: modelPath(MODELS.palette), task: 'classification' },
  ],
});

async function infer(image: ImageInput, model: string, topK?: number): Promise<ClassificationResult> {
  return (await pool.infer(image, model, topK === undefined ? {} : { topK })) as ClassificationResult;
}

/** 10 × the per-channel mean of the model's input tensor (the reference preprocessing at `size`). */
function meanLogits(image: RgbImage, size = 32, scale = 10): number[] {
  const t = preprocess(image, { width: size, height: size });
  const plane = size * size;
  return [0, 1, 2].map((c) => {
    let sum = 0;
    for (let i = 0; i < plane; i++) sum += t[c * plane + i]!;
    return (scale * sum) / plane;
  });
}

/** The pool's default activation keeps rows that already are distributions; keep test images clear of that. */
function assertNotDistribution(logits: number[]): void {
  const sum = logits.reduce((a, b) => a + b, 0);
  assert.ok(
    !(logits.every((v) => v >= 0 && v <= 1) && Math.abs(sum - 1) < 1e-2),
    `test image too close to a distribution`,
  );
}

function assertScores(actual: Float32Array, expected: ArrayLike<number>, tol: number, label: string): void {
  assert.is(actual.length, expected.length, `${label}: class count`);
  const diff = maxAbsDiff(actual, expected);
  assert.ok(
    diff <= tol,
    `${label}: max difference ${diff.toExponential(2)} > ${tol} (got ${Array.from(actual)}, expected ${Array.from(expected)})`,
  );
}

/** predictions: top-K by score, best first, consistent with scores and class names. */
function assertPredictions(r: ClassificationResult, names: readonly string[], k: number): void {
  const order = ranking(r.scores);
  assert.is(r.predictions.length, Math.min(k, r.scores.length), 'prediction count');
  r.predictions.forEach((p, i) => {
    assert.is(p.class_id, order[i], `prediction ${i} class_id`);
    assert.is(p.class, names[p.class_id], `prediction ${i} class`);
    assert.is(p.confidence, r.scores[p.class_id]!, `prediction ${i} confidence`);
  });
  assert.is(r.top, names[order[0]!]);
  assert.is(r.confidence, r.scores[order[0]!]!);
}

const COLOURS: Rgb[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [200, 30, 90],
  [12, 180, 250],
  [90, 91, 92],
  [255, 255, 255],
];

function mixedImages(): RgbImage[] {
  return [
    // left half red, right half blue
    makeRgb(32, 32, (x) => (x < 16 ? [255, 0, 0] : [0, 0, 255])),
    // quadrants
    makeRgb(32, 32, (x, y) => (x < 16 ? (y < 16 ? [255, 0, 0] : [0, 255, 0]) : y < 16 ? [0, 0, 255] : [250, 250, 10])),
    // stripes with a minority colour
    makeRgb(32, 32, (_, y) => (y % 4 === 0 ? [0, 255, 40] : [180, 20, 20])),
    noise(32, 32, 3),
    // other sizes: resized to 32x32 first (the expected mean comes from the reference resize)
    makeRgb(50, 40, (x, y) => [(x * 5) % 256, (y * 6) % 256, ((x + y) * 3) % 256]),
    noise(20, 45, 4),
  ];
}

test('mean-colour: solid images give softmax(10 · mean) and the right class', async () => {
  for (const rgb of COLOURS) {
    const image = solid(32, 32, rgb);
    const logits = meanLogits(image);
    assertNotDistribution(logits);
    // For a solid image the tensor mean is the pixel value itself.
    logits.forEach((l, c) => assert.ok(Math.abs(l - (10 * rgb[c]!) / 255) < 1e-6));
    const r = await infer(toRaw(image), 'mean');
    assertScores(r.scores, softmax(logits), TOL, `solid ${rgb}`);
    assertPredictions(r, MEAN_COLOR_NAMES, 5);
    assert.equal(r.image, { width: 32, height: 32 });
    assert.is(r.task, 'classification');
  }
  assert.is((await infer(toRaw(solid(32, 32, [250, 10, 10])), 'mean')).top, 'red');
  assert.is((await infer(toRaw(solid(32, 32, [10, 250, 10])), 'mean')).top, 'green');
  assert.is((await infer(toRaw(solid(32, 32, [10, 10, 250])), 'mean')).top, 'blue');
});

test('mean-colour: mixed-colour images give softmax(10 · mean)', async () => {
  for (const image of mixedImages()) {
    const logits = meanLogits(image);
    assertNotDistribution(logits);
    const r = await infer(toRaw(image), 'mean');
    assertScores(r.scores, softmax(logits), TOL, `mixed ${image.width}x${image.height}`);
    assertPredictions(r, MEAN_COLOR_NAMES, 5);
    assert.equal(r.image, { width: image.width, height: image.height });
  }
  // Left half red, right half blue: red and blue tie, green far behind.
  const r = await infer(toRaw(mixedImages()[0]!), 'mean');
  assert.ok(Math.abs(r.scores[0]! - r.scores[2]!) < 1e-6);
  assert.ok(r.scores[1]! < r.scores[0]! / 100);
});

test('activations: sigmoid, none and explicit softmax', async () => {
  for (const image of [solid(32, 32, [200, 30, 90]), ...mixedImages()]) {
    const logits = meanLogits(image);
    const [sig, none, soft] = await Promise.all([
      infer(toRaw(image), 'mean-sigmoid'),
      infer(toRaw(image), 'mean-none'),
      infer(toRaw(image), 'mean-softmax'),
    ]);
    assertScores(sig.scores, sigmoid(logits), TOL, 'sigmoid');
    assertScores(none.scores, logits, TOL, 'none');
    assertScores(soft.scores, softmax(logits), TOL, 'softmax');
    assertPredictions(sig, MEAN_COLOR_NAMES, 5);
    assertPredictions(none, MEAN_COLOR_NAMES, 5);
  }
});

test('probability model: its probabilities are kept (no second softmax); an explicit softmax is applied', async () => {
  for (const rgb of [
    [255, 0, 0],
    [40, 200, 120],
    [90, 91, 92],
  ] as Rgb[]) {
    const image = solid(32, 32, rgb);
    const probs = softmax(meanLogits(image));
    const r = await infer(toRaw(image), 'prob');
    assertScores(r.scores, probs, TOL, `probabilities ${rgb}`);
    const sum = r.scores.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, 'sums to 1');
    const twice = await infer(toRaw(image), 'prob-softmax');
    assertScores(twice.scores, softmax(probs), TOL, `softmax(probabilities) ${rgb}`);
  }
  // Pure red: softmax([10, 0, 0]) is 0.99991; a second softmax would give 0.576.
  const r = await infer(toRaw(solid(32, 32, [255, 0, 0])), 'prob');
  assert.ok(r.confidence > 0.999, `confidence ${r.confidence}`);
  assert.is(r.top, 'red');
});

test('palette model: every palette colour and colours near one are recognised', async () => {
  const names = PALETTE.map((p) => p.name);
  for (const { name, rgb } of PALETTE) {
    const pixel = rgb.map((c) => Math.round(c * 255)) as unknown as Rgb;
    const r = await infer(toRaw(solid(64, 64, pixel)), 'palette', 8);
    assert.is(r.top, name, `solid ${pixel}`);
    assert.is(r.predictions[0]!.class_id, names.indexOf(name));
    assert.ok(r.confidence > 0.99, `${name}: confidence ${r.confidence}`);
    // logits_i = 20·(2·m·c_i − |c_i|²)
    const m = pixel.map((v) => v / 255);
    const logits = PALETTE.map(
      ({ rgb: c }) => 20 * (2 * (m[0]! * c[0] + m[1]! * c[1] + m[2]! * c[2]) - (c[0] ** 2 + c[1] ** 2 + c[2] ** 2)),
    );
    assertScores(r.scores, softmax(logits), 1e-4, `palette scores for ${name}`);
    assertPredictions(r, names, 8);
  }
  const near: [Rgb, string][] = [
    [[230, 25, 30], 'red'],
    [[30, 210, 60], 'green'],
    [[20, 40, 200], 'blue'],
    [[240, 230, 40], 'yellow'],
    [[40, 220, 230], 'cyan'],
    [[220, 30, 200], 'magenta'],
    [[235, 240, 225], 'white'],
    [[25, 20, 35], 'black'],
  ];
  for (const [pixel, name] of near) {
    const r = await infer(toRaw(solid(100, 80, pixel)), 'palette');
    assert.is(r.top, name, `near ${pixel}`);
  }
});

test('class names: from the model metadata, from spec.classNames, index strings without names', async () => {
  const image = toRaw(solid(32, 32, [20, 40, 220]));
  const fromMetadata = await infer(image, 'mean');
  assert.is(fromMetadata.top, 'blue');
  assert.equal(
    fromMetadata.predictions.map((p) => p.class),
    ['blue', 'green', 'red'],
  );
  const fromSpec = await infer(image, 'mean-named');
  assert.is(fromSpec.top, 'B');
  assert.equal(
    fromSpec.predictions.map((p) => p.class),
    ['B', 'G', 'R'],
  );
  const unnamed = await infer(image, 'mean-unnamed');
  assert.is(unnamed.top, '2');
  assert.equal(
    unnamed.predictions.map((p) => p.class),
    ['2', '1', '0'],
  );
  assert.equal(
    unnamed.predictions.map((p) => p.class_id),
    [2, 1, 0],
  );
  const short = await infer(toRaw(solid(32, 32, [220, 40, 20])), 'mean-short-names');
  assert.equal(
    short.predictions.map((p) => p.class),
    ['only-red', '1', '2'],
  );

  const info = Object.fromEntries(pool.models.map((m) => [m.id, m]));
  assert.equal(info.mean!.classNames, ['red', 'green', 'blue']);
  assert.equal(info['mean-named']!.classNames, ['R', 'G', 'B']);
  assert.equal(info['mean-unnamed']!.classNames, ['0', '1', '2']);
  assert.equal(
    info.palette!.classNames,
    PALETTE.map((p) => p.name),
  );
  assert.equal(info.mean!.inputSize, [32, 32]);
  assert.is(info.mean!.layout, 'nchw');
  assert.is(info.nhwc!.layout, 'nhwc');
});

test('topK: 0, 1, 3, more than the classes, default 5', async () => {
  const image = toRaw(makeRgb(64, 64, (x, y) => [(x * 4) & 255, (y * 4) & 255, 128]));
  const names = PALETTE.map((p) => p.name);
  for (const k of [0, 1, 3, 8, 100]) {
    const r = await infer(image, 'palette', k);
    assertPredictions(r, names, k);
    assert.is(r.scores.length, 8, 'scores always hold every class');
  }
  const zero = await infer(image, 'palette', 0);
  assert.equal(zero.predictions, []);
  assert.ok(zero.top !== '' && zero.confidence > 0, 'top and confidence are set with topK 0');
  assertPredictions(await infer(image, 'palette'), names, 5);
  assertPredictions(await infer(image, 'mean'), MEAN_COLOR_NAMES, 5);
  assert.is((await infer(image, 'mean', 100)).predictions.length, 3);
});

test('NHWC model: the same scores as the NCHW one', async () => {
  for (const image of [solid(32, 32, [200, 30, 90]), ...mixedImages()]) {
    const [nhwc, nchw] = await Promise.all([infer(toRaw(image), 'nhwc'), infer(toRaw(image), 'mean')]);
    assertScores(nhwc.scores, softmax(meanLogits(image)), TOL, 'nhwc');
    assertScores(nhwc.scores, nchw.scores, TOL, 'nhwc vs nchw'); // float sums in another order: measured 5e-6
    const [first, second] = ranking(nchw.scores);
    if (nchw.scores[first!]! - nchw.scores[second!]! > 1e-4) assert.is(nhwc.top, nchw.top); // not on a tie
  }
});

test('fixed-batch model: 50 concurrent requests all run in batches of 1', async () => {
  const info = pool.models.find((m) => m.id === 'fixed')!;
  assert.is(info.maxBatchSize, 1);
  const images = Array.from({ length: 50 }, (_, i) =>
    solid(32, 32, [(i * 5) % 256, (i * 11 + 40) % 256, (i * 17 + 90) % 256]),
  );
  const results = await Promise.all(images.map((image) => infer(toRaw(image), 'fixed')));
  results.forEach((r, i) => {
    assert.is(r.batchSize, 1, `request ${i}`);
    assertScores(r.scores, softmax(meanLogits(images[i]!)), TOL, `fixed #${i}`);
  });
  const s = pool.stats().fixed!;
  assert.is(s.completed, 50);
  assert.is(s.batches, 50);
  assert.is(s.batchSizeHistogram[1], 50);
  s.batchSizeHistogram.forEach((n, size) => assert.ok(size === 1 || n === 0, `a batch of ${size}`));
  assert.is(s.meanBatchSize, 1);
});

test('instances: 2 serves correct results', async () => {
  const info = pool.models.find((m) => m.id === 'two-instances')!;
  assert.is(info.instances, 2);
  const images = Array.from({ length: 120 }, (_, i) =>
    solid(32, 32, [(i * 7) % 256, (i * 13 + 5) % 256, (i * 29 + 70) % 256]),
  );
  const results = await Promise.all(images.map((image) => infer(toRaw(image), 'two-instances')));
  results.forEach((r, i) => assertScores(r.scores, softmax(meanLogits(images[i]!)), TOL, `instances #${i}`));
  const s = pool.stats()['two-instances']!;
  assert.is(s.requests, 120);
  assert.is(s.completed, 120);
  assert.is(s.failed, 0);
  const items = s.batchSizeHistogram.reduce((sum, n, size) => sum + n * size, 0);
  assert.is(items, 120, 'every request counted in exactly one batch');
});

test.after(() => pool.close());

test.run();
