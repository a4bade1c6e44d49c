// A child process: reads a few frames of a video and of a live source, breaks out of both loops, and
// does nothing else: the process must exit by itself (the sources are released, nothing keeps it alive).
import { InferencePool } from '../../lib/index.ts';
import { startMjpegServer } from './mjpeg-server.ts';

const [file, model] = process.argv.slice(2) as [string, string];
const pool = await InferencePool.create({
  models: [{ id: 'det', path: model, task: 'object-detection', resize: 'stretch' }],
});
let n = 0;
for await (const _ of pool.video(file, 'det')) if (++n === 5) break;
const camera = await startMjpegServer(30);
let m = 0;
for await (const _ of pool.video(camera.url, 'det')) if (++m === 5) break;
await camera.close();
console.log(JSON.stringify({ file: n, live: m }));
