// A video file in, an annotated video with tracks out: frames decoded on a native thread, batched
// through the detector, tracked with ByteTrack, drawn and encoded on the writer's thread.
//
//   npx tsx examples/video.ts [input video] [output.avi]
// Without arguments: the synthetic shapes video made at set-up, into examples/output/shapes-tracked.avi.
import { mkdirSync } from 'node:fs';

import { InferencePool, writeVideo } from '../lib/index.ts';
import type { DetectionResult } from '../lib/index.ts';
import { TEST_VIDEOS } from '../scripts/make-videos.ts';

const input = process.argv[2] ?? TEST_VIDEOS.separate();
const output = process.argv[3] ?? new URL('./output/shapes-tracked.avi', import.meta.url).pathname;
mkdirSync(new URL('./output/', import.meta.url).pathname, { recursive: true });

const pool = await InferencePool.create({
  models: [
    {
      id: 'shapes',
      path: new URL('../models/trained/shapes-det.onnx', import.meta.url).pathname,
      task: 'object-detection',
      resize: 'stretch',
    },
  ],
});

const stream = pool.video<DetectionResult>(input, 'shapes', { tracker: 'bytetrack', confidence: 0.5 });
const frames = writeVideo(stream, output, { annotate: true });
const tracks = new Set<number>();
for await (const { frame, result } of frames) {
  for (const p of result.predictions) tracks.add(p.tracker_id!);
  if (frame.index % 30 === 0) {
    const found = result.predictions.map((p) => `#${p.tracker_id} ${p.class}`).join(', ');
    console.log(`frame ${frame.index} (${(frame.timestamp / 1000).toFixed(2)} s): ${found}`);
  }
}
const { written, dropped } = await frames.finished;
const s = stream.stats();
console.log(
  `\n${s.inferred} frames, ${tracks.size} tracks, ${s.outputFps.toFixed(0)} fps out, ` +
    `frame-to-result p50 ${s.latencyMs.p50.toFixed(1)} ms; wrote ${written} frames (${dropped} dropped) to ${output}`,
);
await pool.close();
