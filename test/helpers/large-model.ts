// The YOLOv8n-shaped detector (8.7 GFLOPs at 640, ~50 ms a run here) for tests that need batches that
// take a while: written once into test/.tmp/ (git-ignored) from the seeded generator, in about a second.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { yolov8nModel } from '../../scripts/models/yolov8n.ts';
import { ROOT } from './child.ts';

export async function largeDetectorPath(): Promise<string> {
  const dir = join(ROOT, 'test', '.tmp');
  const path = join(dir, 'yolov8n-det.onnx');
  if (existsSync(path)) return path;
  mkdirSync(dir, { recursive: true });
  const model = await yolov8nModel('detect');
  // Through a rename: test files run one after another, but a half-written model must never be read.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, model.bytes);
  renameSync(temporary, path);
  return path;
}
