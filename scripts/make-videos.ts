// Writes the test and benchmark videos into models/generated/videos/ (git-ignored), with their ground
// truth: synthetic shapes scenes drawn in JS and encoded by Debian's ffmpeg (H.264 in MP4, or MJPEG in
// AVI where libx264 is missing). Skips what already exists. Run: npx tsx scripts/make-videos.ts
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { crossingScene, drawFrame, separateScene, truthAt } from './videos/shapes-scene.ts';
import type { Scene } from './videos/shapes-scene.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VIDEOS_DIR = join(root, 'models', 'generated', 'videos');

/** The encoder this machine's ffmpeg has: H.264 when it can, else MJPEG. */
export function videoCodec(): { args: string[]; ext: 'mp4' | 'avi' } {
  const r = spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' });
  if (r.error) throw new Error("ffmpeg is missing: install Debian's ffmpeg package (npm test does)");
  return /libx264/.test(r.stdout)
    ? { args: ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p'], ext: 'mp4' }
    : { args: ['-c:v', 'mjpeg', '-q:v', '3'], ext: 'avi' };
}

/** Encodes a scene; returns the file's path. */
export function writeScene(scene: Scene, name: string): string {
  const { args, ext } = videoCodec();
  const path = join(VIDEOS_DIR, `${name}.${ext}`);
  if (existsSync(path)) return path;
  mkdirSync(VIDEOS_DIR, { recursive: true });
  const frames = Buffer.concat(Array.from({ length: scene.frames }, (_, i) => drawFrame(scene, i)));
  const partial = `${path}.partial.${ext}`;
  const r = spawnSync(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-y'],
      ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${scene.width}x${scene.height}`, '-r', String(scene.fps)],
      ...['-i', '-', ...args, partial],
    ],
    { input: frames, maxBuffer: 64 << 20 },
  );
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${name}: ${r.stderr?.toString() ?? r.error}`);
  renameSync(partial, path);
  const truth = Array.from({ length: scene.frames }, (_, i) => truthAt(scene, i));
  writeFileSync(join(VIDEOS_DIR, `${name}.json`), JSON.stringify({ ...scene, truth }));
  return path;
}

export const TEST_VIDEOS = {
  separate: () => writeScene(separateScene(), 'shapes-separate'),
  crossing: () => writeScene(crossingScene(), 'shapes-crossing'),
  /** 1280×720, 10 s: the video benchmark's file. */
  bench: () => writeScene(separateScene(1280, 720, 300), 'bench-720p'),
};

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [name, make] of Object.entries(TEST_VIDEOS)) {
    if (name === 'bench' && !process.argv.includes('--bench')) continue;
    console.log(`video ${name}: ${make()}`);
  }
}
