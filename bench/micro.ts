// Stage micro-benchmarks (tinybench): each native stage against what the plain contender does in
// JS (sharp for decoding and resizing, the project's JS reference for decode + NMS + masks).
import sharp from 'sharp';
import { Bench } from 'tinybench';

import { loadBinding } from '../lib/native.ts';
import { decodeDetections, decodeMask, imageTransform } from '../test/reference/detection.ts';
import { createSession, ort } from './contenders/ort-session.ts';
import { benchImages, HEIGHT, WIDTH } from './images.ts';

const BENCH_MODELS = new URL('../models/generated/bench/', import.meta.url).pathname;

export interface MicroResult {
  stage: string;
  implementation: string;
  meanMs: number;
  p50Ms: number;
}

export async function runMicro(iterations: number): Promise<MicroResult[]> {
  const { stages } = loadBinding();
  const [image] = await benchImages();
  const jpeg = image!.jpeg;
  const bench = new Bench({ iterations, time: 0, warmupIterations: 5 });
  const S = 640;

  bench.add('decode 1280×720 JPEG, full|native', () => void stages.decode(jpeg));
  bench.add('decode 1280×720 JPEG, 1/2 scale|native', () => void stages.decode(jpeg, 640, 360));
  bench.add('decode 1280×720 JPEG, full|sharp', async () => void (await sharp(jpeg).raw().toBuffer()));
  bench.add(
    'decode + letterbox 640 + normalise|native',
    () => void stages.preprocess(jpeg, { width: S, height: S, resize: 'letterbox' }),
  );
  const tensor = new Float32Array(3 * S * S);
  bench.add('decode + letterbox 640 + normalise|sharp + JS loop', async () => {
    const data = await sharp(jpeg)
      .resize(S, S, { fit: 'contain', background: { r: 114, g: 114, b: 114 } })
      .removeAlpha()
      .raw()
      .toBuffer();
    const plane = S * S;
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      tensor[i] = data[p]! / 255;
      tensor[plane + i] = data[p + 1]! / 255;
      tensor[2 * plane + i] = data[p + 2]! / 255;
    }
  });

  // Real head outputs of the YOLOv8n-shaped models on a letterboxed photo.
  const input = new ort.Tensor('float32', stages.preprocess(jpeg, { width: S, height: S, resize: 'letterbox' }), [
    1,
    3,
    S,
    S,
  ]);
  const det = await createSession(`${BENCH_MODELS}yolov8n-det.onnx`);
  const detOut = (await det.run({ [det.inputNames[0]!]: input }))[det.outputNames[0]!]!;
  const seg = await createSession(`${BENCH_MODELS}yolov8n-seg.onnx`);
  const segOuts = await seg.run({ [seg.inputNames[0]!]: input });
  const segHead = segOuts[seg.outputNames[0]!]!;
  const protos = segOuts[seg.outputNames[1]!]!;
  const geometry = {
    inputWidth: S,
    inputHeight: S,
    originalWidth: WIDTH,
    originalHeight: HEIGHT,
    resize: 'letterbox' as const,
  };
  const transform = imageTransform(WIDTH, HEIGHT, S, S, 'letterbox');
  const headData = detOut.data as Float32Array;
  const detCount = stages.detect(headData, [...detOut.dims], null, null, { ...geometry, segment: false }, {}).scores!
    .length;

  bench.add(`decode + NMS over 8400 candidates (${detCount} kept)|native`, () => {
    stages.detect(headData, [...detOut.dims], null, null, { ...geometry, segment: false }, {});
  });
  bench.add(`decode + NMS over 8400 candidates (${detCount} kept)|JS reference`, () => {
    decodeDetections(headData, detOut.dims, { layout: 'yolov8' }, transform);
  });
  const segData = segHead.data as Float32Array;
  const protoData = protos.data as Float32Array;
  for (const mode of ['fast', 'tradeoff', 'accurate'] as const) {
    bench.add(`segmentation decode + NMS + masks, ${mode}|native`, () => {
      stages.detect(
        segData,
        [...segHead.dims],
        protoData,
        [...protos.dims],
        { ...geometry, segment: true },
        {
          maskDecodeMode: mode,
          tradeoffFactor: 0.5,
          returnMasks: true,
        },
      );
    });
    bench.add(`segmentation decode + NMS + masks, ${mode}|JS reference`, () => {
      const found = decodeDetections(segData, segHead.dims, { layout: 'yolov8', numMasks: protos.dims[1] }, transform);
      for (const d of found) decodeMask(protoData, protos.dims, d.coeffs, d.box, transform, mode, 0.5);
    });
  }
  await bench.run();
  await det.release();
  await seg.release();
  return bench.tasks.map((t) => {
    const [stage, implementation] = t.name.split('|') as [string, string];
    const r = t.result as { latency?: { mean: number; p50: number } };
    return { stage, implementation, meanMs: r.latency?.mean ?? NaN, p50Ms: r.latency?.p50 ?? NaN };
  });
}
