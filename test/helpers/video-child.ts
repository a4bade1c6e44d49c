// Child process of video-native.test.ts. `quiet <clip> <dir>`: everything that could make OpenCV or
// FFmpeg log (a missing file, junk, a truncated MP4, a dead UDP stream, a whole clip read, a video
// written) and prints one JSON line of outcomes; the parent checks that stderr stayed empty and that
// the process exited on its own (sources read to their end or failed hold nothing).
// `hold <clip>`: opens a source, reads one frame and neither reads on nor closes it: the process
// must stay alive (the parent kills it).
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { loadBinding } from '../../lib/native.ts';
import type { NativeVideoSourceOptions } from '../../lib/native.ts';

const { video } = loadBinding();
const [mode, clip, dir] = process.argv.slice(2) as [string, string, string];
const options: NativeVideoSourceOptions = { mode: 'every-frame', bufferSize: 2, reconnect: 0, reconnectDelayMs: 100 };

async function outcome(source: string, extra: object = {}): Promise<{ frames: number; code?: string; error?: string }> {
  const s = new video.VideoSource(source, { ...options, ...extra }, () => {});
  let frames = 0;
  try {
    await s.open();
    while (await s.next()) frames += 1;
    return { frames };
  } catch (err) {
    const e = err as { code?: string; message: string };
    return { frames, code: e.code, error: e.message };
  }
}

if (mode === 'hold') {
  const s = new video.VideoSource(clip, options, () => {});
  await s.open();
  await s.next();
  process.stdout.write('holding\n');
} else {
  const junk = join(dir, 'junk.mp4');
  writeFileSync(junk, Buffer.alloc(8192, 0x5a));
  const cut = join(dir, 'cut.mp4');
  const bytes = readFileSync(clip);
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const report: Record<string, unknown> = {
    missing: await outcome(join(dir, 'missing.mp4')),
    junk: await outcome(junk),
    cut: await outcome(cut),
    dead: await outcome('udp://127.0.0.1:9', { openTimeoutMs: 1000, readTimeoutMs: 500 }),
    clip: await outcome(clip),
  };
  const writer = new video.VideoWriter(join(dir, 'quiet.mp4'), { fps: 10, width: 64, height: 48, queueSize: 64 });
  const data = new Uint8Array(64 * 48 * 3).fill(90);
  for (let i = 0; i < 10; i++) writer.write({ data, width: 64, height: 48, format: 'bgr' }, { instances: [] });
  report.written = await writer.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
