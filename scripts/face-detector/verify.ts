// Checks the converted face detector against face-api's own implementation (its bundled TF.js, CPU backend: no
// tfjs-node) and end to end through the pool. Needs the sample images (node scripts/sample-images.mjs) and the model
// (npx tsx scripts/face-detector/convert.ts). Run: npx tsx scripts/face-detector/verify.ts [--crops DIR]
//  1. raw head: the same 416×416 pixels through face-api's forward() and through ONNX Runtime; face-api's outputs
//     decoded with its own extractBoxes() formulas and compared with the model's output0, row by row;
//  2. detections: face-api's detect() on each sample photo against the pool's (letterbox and stretch);
//  3. with --crops DIR: writes each face the pool finds as a PNG crop, to look at.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { InferencePool } from '../../lib/index.ts';
import type { DetectionResult } from '../../lib/index.ts';
import { BOX_ANCHORS, FACE_API_DIR, FACE_DETECTOR_PATH, INPUT_SIZE } from './convert.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const IMAGES = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'];

// The little of TF.js and face-api that this script uses (the package's typings need all of TF.js' packages).
interface Tensor {
  shape: number[];
  data(): Promise<Float32Array>;
  dispose(): void;
}
interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor3d(values: Uint8Array | Int32Array, shape: [number, number, number], dtype: 'int32'): Tensor;
  env(): { setPlatform(name: string, platform: object): void };
  io: { decodeWeights(buffer: ArrayBuffer, specs: object[]): Record<string, Tensor> };
}
interface FaceApiBox {
  x: number;
  y: number;
  width: number;
  height: number;
}
interface FaceApiDetection {
  score: number;
  box: FaceApiBox;
}
interface TinyFaceDetector {
  loadFromWeightMap(map: Record<string, Tensor>): void;
  forward(input: Tensor, inputSize: number): Promise<Tensor>;
  locateFaces(input: Tensor, options: object): Promise<FaceApiDetection[]>;
}
interface FaceApi {
  tf: Tf;
  env: { initialize(): void };
  TinyFaceDetector: new () => TinyFaceDetector;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => object;
}

/**
 * Imports face-api's browser bundle (TF.js inside, with its CPU backend). Its Node platform needs util.TextEncoder,
 * which the bundle stubs out, so `process` is hidden while it loads and a small platform is set by hand afterwards.
 */
async function loadFaceApi(): Promise<FaceApi> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'process')!;
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  let faceapi: FaceApi;
  try {
    const bundle = join(FACE_API_DIR, 'dist', 'face-api.esm.js');
    faceapi = (await import(bundle)) as FaceApi;
  } finally {
    Object.defineProperty(globalThis, 'process', descriptor);
  }
  faceapi.env.initialize(); // face-api's own environment: found no `process` either
  faceapi.tf.env().setPlatform('verify', {
    fetch: globalThis.fetch,
    now: () => performance.now(),
    encode: (s: string) => new TextEncoder().encode(s),
    decode: (b: Uint8Array, e: string) => new TextDecoder(e).decode(b),
    isTypedArray: (a: unknown) => ArrayBuffer.isView(a) && !(a instanceof DataView),
  });
  if (!(await faceapi.tf.setBackend('cpu'))) throw new Error('TF.js CPU backend failed');
  await faceapi.tf.ready();
  return faceapi;
}

async function loadReferenceNet(faceapi: FaceApi): Promise<TinyFaceDetector> {
  const dir = join(FACE_API_DIR, 'model');
  const manifest = JSON.parse(readFileSync(join(dir, 'tiny_face_detector_model-weights_manifest.json'), 'utf8')) as {
    paths: string[];
    weights: object[];
  }[];
  const net = new faceapi.TinyFaceDetector();
  const map: Record<string, Tensor> = {};
  for (const group of manifest) {
    const bytes = Buffer.concat(group.paths.map((p) => readFileSync(join(dir, p))));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    Object.assign(map, faceapi.tf.io.decodeWeights(buffer, group.weights));
  }
  net.loadFromWeightMap(map);
  return net;
}

async function rgb(file: string, size?: number): Promise<{ data: Uint8Array; width: number; height: number }> {
  let img = sharp(file).removeAlpha();
  if (size !== undefined) img = img.resize(size, size, { fit: 'fill' });
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const f = (v: number, digits = 1): string => v.toFixed(digits);

/** face-api's raw [1, cells, cells, 25] head decoded as its extractBoxes() does, into output0's row order. */
function decodeReference(raw: Float32Array, cells: number): Float32Array {
  const anchors = BOX_ANCHORS.length;
  const out = new Float32Array(cells * cells * anchors * 6);
  for (let row = 0; row < cells; row++)
    for (let col = 0; col < cells; col++)
      for (let a = 0; a < anchors; a++) {
        const i = (row * cells + col) * anchors + a;
        const t = raw.subarray(i * 5, i * 5 + 5);
        out.set(
          [
            ((col + sigmoid(t[0]!)) / cells) * INPUT_SIZE,
            ((row + sigmoid(t[1]!)) / cells) * INPUT_SIZE,
            ((Math.exp(t[2]!) * BOX_ANCHORS[a]![0]) / cells) * INPUT_SIZE,
            ((Math.exp(t[3]!) * BOX_ANCHORS[a]![1]) / cells) * INPUT_SIZE,
            sigmoid(t[4]!),
            1,
          ],
          i * 6,
        );
      }
  return out;
}

async function compareRaw(faceapi: FaceApi, net: TinyFaceDetector, session: ort.InferenceSession): Promise<void> {
  console.log('1. raw head, same 416×416 pixels (face-api forward() + its decoding vs ONNX Runtime output0)');
  for (const name of IMAGES) {
    const { data } = await rgb(join(root, 'examples', 'images', name), INPUT_SIZE);
    const input = faceapi.tf.tensor3d(Int32Array.from(data), [INPUT_SIZE, INPUT_SIZE, 3], 'int32');
    const rawTensor = await net.forward(input, INPUT_SIZE);
    const cells = rawTensor.shape[1]!;
    const reference = decodeReference(await rawTensor.data(), cells);
    rawTensor.dispose();
    input.dispose();

    const plane = INPUT_SIZE * INPUT_SIZE;
    const chw = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) chw[c * plane + p] = data[p * 3 + c]! / 255;
    const result = await session.run({ images: new ort.Tensor('float32', chw, [1, 3, INPUT_SIZE, INPUT_SIZE]) });
    const output = result.output0!.data as Float32Array;
    if (output.length !== reference.length)
      throw new Error(`output0 has ${output.length} values, face-api ${reference.length}`);

    // Box coordinates: absolute differences in input pixels; objectness: absolute difference of probabilities.
    let maxBox = 0;
    let maxBoxConfident = 0;
    let maxObj = 0;
    for (let i = 0; i < output.length / 6; i++) {
      for (let k = 0; k < 4; k++) {
        const d = Math.abs(output[i * 6 + k]! - reference[i * 6 + k]!);
        maxBox = Math.max(maxBox, d);
        if (reference[i * 6 + 4]! > 0.05) maxBoxConfident = Math.max(maxBoxConfident, d);
      }
      maxObj = Math.max(maxObj, Math.abs(output[i * 6 + 4]! - reference[i * 6 + 4]!));
    }
    console.log(
      `   ${name.padEnd(14)} max |Δ| box ${maxBox.toExponential(2)} px (rows with objectness > 0.05: ` +
        `${maxBoxConfident.toExponential(2)} px), objectness ${maxObj.toExponential(2)}`,
    );
  }
}

async function compareDetections(
  faceapi: FaceApi,
  net: TinyFaceDetector,
  pool: InferencePool,
  cropsDir: string | undefined,
): Promise<void> {
  console.log('2. detections at confidence 0.5 (face-api detect(): pads to a square, bilinear resize; IoU 0.4)');
  for (const name of IMAGES) {
    const file = join(root, 'examples', 'images', name);
    const { data, width, height } = await rgb(file);
    const input = faceapi.tf.tensor3d(Int32Array.from(data), [height, width, 3], 'int32');
    const options = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: 0.5 });
    const reference = await net.locateFaces(input, options);
    input.dispose();
    const show = (b: FaceApiBox, score: number): string =>
      `x ${f(b.x)}–${f(b.x + b.width)}, y ${f(b.y)}–${f(b.y + b.height)} (centre ${f(b.x + b.width / 2)}, ` +
      `${f(b.y + b.height / 2)}; ${f(b.width)}×${f(b.height)}) score ${score.toFixed(4)}`;
    console.log(`   ${name}: ${width}×${height}`);
    for (const d of reference) console.log(`     face-api:          ${show(d.box, d.score)}`);
    if (reference.length === 0) console.log('     face-api:          no faces');

    const bytes = readFileSync(file);
    for (const id of ['faces', 'faces-stretch']) {
      const result = await pool.infer<DetectionResult>(bytes, id, { confidence: 0.5, iouThreshold: 0.4 });
      const label = id === 'faces' ? 'pool letterbox:' : 'pool stretch:  ';
      for (const p of result.predictions) {
        const box = { x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height };
        console.log(`     ${label}    ${show(box, p.confidence)} class ${p.class}`);
      }
      if (result.predictions.length === 0) console.log(`     ${label}    no faces`);
      if (cropsDir !== undefined && id === 'faces') {
        for (const [i, p] of result.predictions.entries()) {
          const left = Math.max(0, Math.round(p.x - p.width / 2));
          const top = Math.max(0, Math.round(p.y - p.height / 2));
          const cropWidth = Math.min(width - left, Math.round(p.width));
          const cropHeight = Math.min(height - top, Math.round(p.height));
          const out = join(cropsDir, `${name.replace(/\.\w+$/, '')}-face${i}.png`);
          await sharp(file).extract({ left, top, width: cropWidth, height: cropHeight }).png().toFile(out);
          console.log(`     crop: ${out}`);
        }
      }
    }
  }
}

async function timePool(pool: InferencePool): Promise<void> {
  const bytes = readFileSync(join(root, 'examples', 'images', 'astronaut.png'));
  for (let i = 0; i < 3; i++) await pool.infer(bytes, 'faces');
  const runs = 20;
  const started = performance.now();
  let inference = 0;
  for (let i = 0; i < runs; i++) inference += (await pool.infer<DetectionResult>(bytes, 'faces')).time.inference;
  const total = (performance.now() - started) / runs;
  console.log(
    `3. pool, astronaut.png one at a time: ${total.toFixed(1)} ms per request (model ${(inference / runs).toFixed(1)} ms)`,
  );
}

async function main(): Promise<void> {
  const cropsFlag = process.argv.indexOf('--crops');
  const cropsDir = cropsFlag >= 0 ? resolve(process.argv[cropsFlag + 1] ?? 'face-crops') : undefined;
  if (cropsDir !== undefined) mkdirSync(cropsDir, { recursive: true });

  const faceapi = await loadFaceApi();
  const net = await loadReferenceNet(faceapi);
  // The pool first: ONNX Runtime's environment is process-wide, and the pool's needs global thread pools, which
  // onnxruntime-node's would not have if it came first.
  const common = { path: FACE_DETECTOR_PATH, task: 'object-detection', outputLayout: 'yolov5' } as const;
  const pool = await InferencePool.create({
    models: [
      { ...common, id: 'faces', resize: 'letterbox', classNames: ['face'] },
      { ...common, id: 'faces-stretch', resize: 'stretch', classNames: ['face'] },
    ],
  });
  try {
    const session = await ort.InferenceSession.create(FACE_DETECTOR_PATH);
    await compareRaw(faceapi, net, session);
    await compareDetections(faceapi, net, pool, cropsDir);
    await timePool(pool);
  } finally {
    await pool.close();
  }
}

await main();
