// The main job, end to end: a pool serving the project's own models on sample images, printing
// what each model found and the throughput with 64 requests in flight.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import { PNG } from 'pngjs';

import { InferencePool, annotate } from '../lib/index.ts';
import type { ClassificationResult, DetectionResult } from '../lib/index.ts';

const MODELS = new URL('../models/generated/', import.meta.url).pathname;
const TRAINED = new URL('../models/trained/', import.meta.url).pathname;
const SHAPES = new URL('../test/fixtures/shapes/', import.meta.url).pathname;
const IMAGES = new URL('./images/', import.meta.url).pathname;
const OUTPUT = new URL('./output/', import.meta.url).pathname;
mkdirSync(OUTPUT, { recursive: true });

/** A 160×120 PNG of one colour with a soft gradient and a little noise, like a photo of a swatch. */
function swatch(rgb: [number, number, number], seed: number): Buffer {
  const png = new PNG({ width: 160, height: 120 });
  let s = seed;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      const noise = ((s >>> 16) % 21) - 10;
      const shade = (x / png.width - 0.5) * 30;
      const i = (y * png.width + x) * 4;
      for (let c = 0; c < 3; c++) png.data[i + c] = Math.max(0, Math.min(255, rgb[c]! + shade + noise));
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

const samples: [string, Buffer][] = [
  ['tomato', swatch([220, 40, 30], 1)],
  ['lawn', swatch([40, 180, 60], 2)],
  ['sky', swatch([40, 70, 200], 3)],
  ['lemon', swatch([235, 220, 40], 4)],
  ['snow', swatch([240, 240, 235], 5)],
  ['coal', swatch([25, 25, 30], 6)],
];

const pool = await InferencePool.create({
  models: [
    { id: 'colors', path: `${MODELS}palette.onnx`, task: 'classification' },
    { id: 'faces', path: `${MODELS}face-detector.onnx`, task: 'object-detection', outputLayout: 'yolov5' },
    { id: 'shapes', path: `${TRAINED}shapes-det.onnx`, task: 'object-detection', resize: 'stretch' },
    { id: 'shapes-seg', path: `${TRAINED}shapes-seg.onnx`, task: 'instance-segmentation', resize: 'stretch' },
  ],
});
console.log(`ONNX Runtime ${pool.runtime.version} from ${pool.runtime.libraryPath}`);

console.log('\nClassification (colors):');
for (const [name, bytes] of samples) {
  const r = await pool.infer<ClassificationResult>(bytes, 'colors', { topK: 2 });
  const second = r.predictions[1];
  console.log(
    `  ${name.padEnd(7)} → ${r.top.padEnd(8)} ${(r.confidence * 100).toFixed(1)}%` +
      (second ? `   (next: ${second.class} ${(second.confidence * 100).toFixed(1)}%)` : '') +
      `   ${r.time.total.toFixed(2)} ms`,
  );
}

console.log('\nFace detection (tiny face detector converted from face-api) on public-domain photos:');
for (const name of ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg']) {
  const bytes = readFileSync(`${IMAGES}${name}`);
  const r = await pool.infer<DetectionResult>(bytes, 'faces', { confidence: 0.5 });
  const found = r.predictions
    .map(
      (p) =>
        `${p.class} ${(p.confidence * 100).toFixed(1)}% at (${p.x.toFixed(0)}, ${p.y.toFixed(0)}) ${p.width.toFixed(0)}×${p.height.toFixed(0)}`,
    )
    .join('; ');
  console.log(
    `  ${name.padEnd(14)} ${r.image.width}×${r.image.height}: ${found || 'no face'}   ${r.time.total.toFixed(1)} ms`,
  );
  const out = `${OUTPUT}${name.replace(/\.\w+$/, '')}-faces.png`;
  writeFileSync(out, await annotate(bytes, r));
}
console.log(`  annotated images written to ${OUTPUT}`);

console.log('\nDetection and instance segmentation (tiny YOLOv8-layout models trained on synthetic shapes):');
for (const name of ['000.png', '001.png', '002.png', '003.png']) {
  const bytes = readFileSync(`${SHAPES}${name}`);
  // Both models at once: the pool runs them side by side.
  const [det, seg] = await Promise.all([
    pool.infer<DetectionResult>(bytes, 'shapes', { confidence: 0.5 }),
    pool.infer<DetectionResult>(bytes, 'shapes-seg', { confidence: 0.5, returnMasks: true }),
  ]);
  const listed = det.predictions.map((p) => `${p.class} ${(p.confidence * 100).toFixed(0)}%`).join(', ');
  const areas = seg.masks!.map((m) => m.data.reduce((a, b) => a + b, 0));
  console.log(
    `  ${name}: ${listed}   | masks: ${seg.predictions.map((p, i) => `${p.class} ${areas[i]} px, ${p.points!.length}-point polygon`).join('; ')}`,
  );
  writeFileSync(`${OUTPUT}shapes-${name.replace('.png', '')}-detections.png`, await annotate(bytes, det));
  writeFileSync(`${OUTPUT}shapes-${name.replace('.png', '')}-masks.png`, await annotate(bytes, seg));
}

// Throughput: keep 64 requests in flight until `total` have completed.
async function throughput(label: string, modelId: string, images: Buffer[], total: number): Promise<void> {
  const before = pool.stats()[modelId]!;
  let next = 0;
  const started = performance.now();
  async function caller(): Promise<void> {
    while (next < total) await pool.infer(images[next++ % images.length]!, modelId);
  }
  await Promise.all(Array.from({ length: 64 }, caller));
  const seconds = (performance.now() - started) / 1000;
  const after = pool.stats()[modelId]!;
  const batches = after.batches - before.batches;
  console.log(
    `  ${label.padEnd(34)} ${(total / seconds).toFixed(0).padStart(5)} images/s, mean batch size ${(
      (after.completed - before.completed) /
      batches
    ).toFixed(2)} (${total} images in ${seconds.toFixed(2)} s)`,
  );
}
console.log('\nThroughput with 64 requests in flight:');
await throughput(
  'colors (160×120 PNG swatches)',
  'colors',
  samples.map(([, bytes]) => bytes),
  3000,
);
const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((f) => readFileSync(`${IMAGES}${f}`));
await throughput('faces (photos, 416×416 input)', 'faces', photos, 1000);
const shapes = ['000.png', '001.png', '002.png', '003.png'].map((f) => readFileSync(`${SHAPES}${f}`));
await throughput('shapes-seg (320×320 input, masks)', 'shapes-seg', shapes, 1000);
await pool.close();
