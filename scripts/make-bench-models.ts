// Writes the random-weight YOLOv8n-shaped models the benchmarks load into models/generated/bench/ (git-ignored):
// yolov8n-det.onnx, yolov8n-seg.onnx and yolov8n-cls.onnx, from scripts/models/yolov8n.ts. Deterministic, so a
// re-run finds the same bytes and leaves the files alone. Run: npx tsx scripts/make-bench-models.ts
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Yolov8nTask, yolov8nModel } from './models/yolov8n.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const BENCH_MODELS_DIR = join(root, 'models', 'generated', 'bench');

/** File name → task; each with the generator's defaults (seed 1, 640 / 224, 80 COCO / 1000 classes). */
export const BENCH_MODELS: Readonly<Record<string, Yolov8nTask>> = {
  'yolov8n-det.onnx': 'detect',
  'yolov8n-seg.onnx': 'segment',
  'yolov8n-cls.onnx': 'classify',
};

export interface BenchModelFile {
  path: string;
  task: Yolov8nTask;
  bytes: number;
  params: number;
  gflops: number;
  /** False when the file already held these bytes. */
  written: boolean;
  /** Generation time. */
  ms: number;
}

/** Generates the bench models into `dir` (created if missing); returns what it did for each. */
export async function makeBenchModels(dir: string = BENCH_MODELS_DIR): Promise<BenchModelFile[]> {
  mkdirSync(dir, { recursive: true });
  const files: BenchModelFile[] = [];
  for (const [file, task] of Object.entries(BENCH_MODELS)) {
    const start = performance.now();
    const model = await yolov8nModel(task);
    const path = join(dir, file);
    const written = writeIfChanged(path, model.bytes);
    const { params, gflops } = model;
    files.push({ path, task, bytes: model.bytes.length, params, gflops, written, ms: performance.now() - start });
  }
  return files;
}

/** Writes via a temporary file and a rename, so a benchmark running meanwhile never loads half a model. */
function writeIfChanged(path: string, bytes: Uint8Array): boolean {
  if (existsSync(path) && Buffer.compare(readFileSync(path), bytes) === 0) return false;
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes);
  renameSync(temporary, path);
  return true;
}

async function main(): Promise<void> {
  const start = performance.now();
  for (const f of await makeBenchModels()) {
    const size = `${(f.bytes / 2 ** 20).toFixed(1)} MiB`;
    const counts = `${(f.params / 1e6).toFixed(2)} M params, ${f.gflops.toFixed(2)} GFLOPs`;
    const what = f.written ? 'wrote' : 'unchanged';
    console.log(`${what} ${relative(process.cwd(), f.path)} (${size}, ${counts}) in ${f.ms.toFixed(0)} ms`);
  }
  console.log(`done in ${((performance.now() - start) / 1000).toFixed(1)} s`);
}

// Run only as a script, so benchmarks may import makeBenchModels() and call it themselves.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
