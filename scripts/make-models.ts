// Writes the generated ONNX models that tests and the demo load into models/generated/ (git-ignored).
// Deterministic, so re-running rewrites identical files. Run: npx tsx scripts/make-models.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  meanColorClassifier,
  meanColorClassifierNHWC,
  paletteClassifier,
  probabilityClassifier,
  randomConvClassifier,
} from './models/classifiers.js';
import { convertFaceDetector } from './face-detector/convert.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const GENERATED_DIR = join(root, 'models', 'generated');

/** File name → model bytes, for every generated model a test or the demo uses. */
export function generatedModels(): Record<string, Uint8Array> {
  return {
    'mean-color.onnx': meanColorClassifier(),
    'mean-color-fixed-batch.onnx': meanColorClassifier({ fixedBatch: true }),
    'mean-color-nhwc.onnx': meanColorClassifierNHWC(),
    'mean-color-no-names.onnx': meanColorClassifier({ names: false }),
    'probability.onnx': probabilityClassifier(),
    'palette.onnx': paletteClassifier(),
    'random-conv.onnx': randomConvClassifier(),
    // Converted from @vladmandic/face-api's MIT-licensed tiny face detector (TF.js weights).
    'face-detector.onnx': convertFaceDetector(),
  };
}

function main(): void {
  mkdirSync(GENERATED_DIR, { recursive: true });
  for (const [file, bytes] of Object.entries(generatedModels())) {
    const path = join(GENERATED_DIR, file);
    writeFileSync(path, bytes);
    console.log(`wrote ${relative(process.cwd(), path)} (${bytes.length} bytes)`);
  }
}

// Run only as a script, so tests may import generatedModels() without writing files.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
