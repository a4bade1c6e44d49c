// The native video surface (loadBinding().video) on its own: a clip made with the ffmpeg command,
// read in both modes; a live UDP stream served by `ffmpeg -re` on loopback, killed and restarted
// (reconnect events); bad sources; the writer's output read back; nothing on stderr (in a child).
// Every test is bounded in time and every ffmpeg child is killed.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadBinding } from '../lib/native.ts';
import type { NativeVideoEvent, NativeVideoFrame, NativeVideoSource, NativeVideoSourceOptions } from '../lib/native.ts';
import { HELPERS, ROOT, runChild } from './helpers/child.ts';

const { video } = loadBinding();
const DIR = join(ROOT, 'test', '.tmp', 'video-native');
const CLIP = join(DIR, 'clip.mp4');
const W = 320;
const H = 240;
const FRAMES = 60;

rmSync(DIR, { recursive: true, force: true });
mkdirSync(DIR, { recursive: true });
// As `ffmpeg -f lavfi -i testsrc=size=320x240:rate=30 -t 2 -pix_fmt yuv420p clip.mp4`: 60 frames.
const clipMade = spawnSync(
  'ffmpeg',
  [
    '-nostdin',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${W}x${H}:rate=30`,
    '-t',
    '2',
    '-pix_fmt',
    'yuv420p',
    CLIP,
  ],
  { timeout: 60_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
);

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** Rejects when `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(20);
  }
}

async function rejectsCode(promise: Promise<unknown>, code: string, pattern?: RegExp): Promise<string> {
  let error: { code?: string; message: string } | undefined;
  try {
    await promise;
  } catch (err) {
    error = err as { code?: string; message: string };
  }
  assert.ok(error, `expected a rejection with ${code}, but it resolved`);
  assert.is(error.code, code, error.message);
  if (pattern) assert.match(error.message, pattern);
  return error.message;
}

const everyFrame: NativeVideoSourceOptions = {
  mode: 'every-frame',
  bufferSize: 4,
  reconnect: 0,
  reconnectDelayMs: 100,
};

async function readAll(source: NativeVideoSource): Promise<NativeVideoFrame[]> {
  const frames: NativeVideoFrame[] = [];
  for (;;) {
    const frame = await within(source.next(), 15_000, 'next()');
    if (!frame) return frames;
    frames.push(frame);
  }
}

test('the clip was made and video is available', () => {
  assert.is(clipMade.status, 0, `ffmpeg: ${clipMade.stderr}`);
  assert.is(video.available, true, video.reason);
  assert.is(video.reason, undefined);
});

test('every-frame: all frames in order, the right size, increasing timestamps', async () => {
  const source = new video.VideoSource(CLIP, everyFrame, () => {});
  const info = await within(source.open(), 15_000, 'open()');
  assert.equal(info, { width: W, height: H, fps: 30, frameCount: FRAMES, live: false });
  await sleep(100); // a slow start: the reader waits for room, nothing is dropped
  const frames = await readAll(source);
  assert.is(frames.length, FRAMES);
  frames.forEach((f, i) => {
    assert.is(f.index, i);
    assert.is(f.image.width, W);
    assert.is(f.image.height, H);
    assert.is(f.image.format, 'bgr');
    assert.ok(f.image.data instanceof Uint8Array);
    assert.is(f.image.data.byteLength, W * H * 3);
    if (i > 0) assert.ok(f.timestamp > frames[i - 1]!.timestamp, `timestamp ${i} increases`);
  });
  assert.ok(Math.abs(frames[FRAMES - 1]!.timestamp - ((FRAMES - 1) * 1000) / 30) < 2, 'on the file clock');
  // testsrc's frames differ: the pixels are each frame's own, not one buffer reused.
  assert.not.equal(frames[0]!.image.data, frames[45]!.image.data);
  const stats = source.stats();
  assert.is(stats.read, FRAMES);
  assert.is(stats.dropped, 0);
  assert.is(stats.reconnects, 0);
  assert.ok(stats.inputFps > 0);
  assert.is(await source.next(), null, 'the end again');
  source.close();
  assert.is(await source.next(), null, 'after close()');
  source.close(); // twice: nothing
  await rejectsCode(source.open(), 'VIDEO_SOURCE_FAILED', /closed/);
});

test('freshest: a slow consumer gets the newest frame, older ones dropped and counted', async () => {
  const source = new video.VideoSource(CLIP, { ...everyFrame, mode: 'freshest', bufferSize: 2 }, () => {});
  await within(source.open(), 15_000, 'open()');
  await waitFor(() => source.stats().read === FRAMES, 15_000, 'the reader decodes without waiting');
  const frame = await within(source.next(), 5_000, 'next()');
  assert.is(frame?.index, FRAMES - 1);
  assert.is(source.stats().dropped, FRAMES - 1);
  assert.is(await source.next(), null);
  source.close();
});

test('pause() stops a file being read; resume() goes on', async () => {
  const source = new video.VideoSource(CLIP, { ...everyFrame, mode: 'freshest', bufferSize: 100 }, () => {});
  source.pause();
  await within(source.open(), 15_000, 'open()');
  await sleep(200);
  assert.is(source.stats().read, 0);
  source.resume();
  await waitFor(() => source.stats().read === FRAMES, 15_000, 'reading after resume()');
  source.close();
});

test('close() mid-read: a pending next() resolves null', async () => {
  const source = new video.VideoSource(CLIP, { ...everyFrame, bufferSize: 1 }, () => {});
  await source.open();
  assert.ok(await source.next());
  const pending = [source.next(), source.next(), source.next()];
  source.close();
  const results = await within(Promise.all(pending), 5_000, 'next() after close()');
  assert.ok(results.every((r) => r === null || typeof r.index === 'number'));
  assert.is(results[2], null);
});

test('bad sources reject VIDEO_SOURCE_FAILED naming the source; bad options INVALID_ARGUMENT', async () => {
  const missing = join(DIR, 'missing.mp4');
  const source = new video.VideoSource(missing, everyFrame, () => {});
  const message = await rejectsCode(within(source.open(), 15_000, 'open()'), 'VIDEO_SOURCE_FAILED');
  assert.ok(message.includes(missing), message);
  await rejectsCode(source.next(), 'VIDEO_SOURCE_FAILED');
  await rejectsCode(
    within(
      new video.VideoSource(
        'udp://127.0.0.1:9',
        { ...everyFrame, openTimeoutMs: 800, readTimeoutMs: 400 } as NativeVideoSourceOptions,
        () => {},
      ).open(),
      15_000,
      'open() of a dead stream',
    ),
    'VIDEO_SOURCE_FAILED',
    /udp:\/\/127\.0\.0\.1:9/,
  );
  assert.throws(
    () => new video.VideoSource(CLIP, { ...everyFrame, bufferSize: 0 }, () => {}),
    (e: { code?: string }) => e.code === 'INVALID_ARGUMENT',
  );
  assert.throws(
    () => new video.VideoSource(CLIP, { ...everyFrame, mode: 'sometimes' as 'freshest' }, () => {}),
    (e: { code?: string }) => e.code === 'INVALID_ARGUMENT',
  );
});

test('writer: frames with drawings are written; the output reopens with that many frames', async () => {
  const out = join(DIR, 'out.mp4');
  const writer = new video.VideoWriter(out, { fps: 30, width: W, height: H, queueSize: 8 });
  const source = new video.VideoSource(CLIP, everyFrame, () => {});
  await source.open();
  let accepted = 0;
  let offered = 0;
  for (;;) {
    const frame = await within(source.next(), 15_000, 'next()');
    if (!frame) break;
    offered += 1;
    const drawing = {
      instances: [{ box: [20, 20, 200, 150] as [number, number, number, number], classId: 2, label: 'box' }],
      strokeWidth: 8,
    };
    if (writer.write(frame.image, drawing)) accepted += 1;
    if (offered % 10 === 0) await sleep(30); // let the encoder catch up now and then
  }
  source.close();
  const totals = await within(writer.close(), 30_000, 'writer.close()');
  assert.is(totals.written, accepted);
  assert.is(totals.written + totals.dropped, FRAMES);
  assert.ok(totals.written > 0);
  assert.throws(() =>
    writer.write({ data: new Uint8Array(W * H * 3), width: W, height: H, format: 'bgr' }, { instances: [] }),
  );

  const back = new video.VideoSource(out, everyFrame, () => {});
  const info = await within(back.open(), 15_000, 'open() of the output');
  assert.is(info.width, W);
  assert.is(info.height, H);
  const frames = await readAll(back);
  assert.is(frames.length, totals.written);
  // The box's top edge (y = 16…24) is drawn in class 2's colour (BGR 31, 112, 255): orange.
  const px = (f: NativeVideoFrame, x: number, y: number) => f.image.data.subarray((y * W + x) * 3, (y * W + x) * 3 + 3);
  const edge = px(frames[0]!, 100, 20);
  const near = (a: number, b: number) => Math.abs(a - b) < 50;
  assert.ok(near(edge[0]!, 31) && near(edge[1]!, 112) && near(edge[2]!, 255), `drawn edge pixel ${[...edge]}`);
  back.close();

  assert.throws(
    () =>
      new video.VideoWriter(join(DIR, 'no', 'such', 'dir', 'x.mp4'), { fps: 30, width: W, height: H, queueSize: 8 }),
    (e: { code?: string }) => e.code === 'VIDEO_SOURCE_FAILED',
  );
});

/** A free UDP port on loopback. */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const { port } = socket.address();
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

function serveUdp(port: number): ChildProcess {
  const child = spawn(
    'ffmpeg',
    [
      '-nostdin',
      '-loglevel',
      'quiet',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=160x120:rate=15',
      '-t',
      '60',
      '-c:v',
      'mpeg2video',
      '-g',
      '5',
      '-f',
      'mpegts',
      `udp://127.0.0.1:${port}?pkt_size=1316`,
    ],
    { stdio: 'ignore' },
  );
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await within(exited, 5_000, 'ffmpeg to exit');
}

test('live: a UDP stream from ffmpeg -re is read; killed and restarted, it reconnects', async () => {
  const port = await freeUdpPort();
  let server = serveUdp(port);
  const events: NativeVideoEvent[] = [];
  const source = new video.VideoSource(
    `udp://127.0.0.1:${port}`,
    {
      mode: 'freshest',
      bufferSize: 2,
      reconnect: 6,
      reconnectDelayMs: 200,
      openTimeoutMs: 8000,
      readTimeoutMs: 1500,
    } as NativeVideoSourceOptions,
    (e) => events.push(e),
  );
  try {
    const info = await within(source.open(), 20_000, 'open() of the stream');
    assert.is(info.live, true);
    assert.is(info.frameCount, -1);
    assert.is(info.width, 160);
    let last = -1;
    for (let i = 0; i < 10; i++) {
      const frame = await within(source.next(), 10_000, 'a live frame');
      assert.ok(frame && frame.index > last && frame.image.width === 160 && frame.image.height === 120);
      last = frame!.index;
    }
    // Paused, a live source is still drained (and its frames dropped), so it does not lag.
    source.pause();
    const before = source.stats();
    await sleep(800);
    const after = source.stats();
    assert.ok(after.read > before.read && after.dropped > before.dropped, 'drained while paused');
    source.resume();
    await stop(server);
    await waitFor(() => events.some((e) => e.type === 'reconnecting'), 10_000, "a 'reconnecting' event");
    server = serveUdp(port);
    await waitFor(() => events.some((e) => e.type === 'reconnected'), 20_000, "a 'reconnected' event");
    const frame = await within(source.next(), 10_000, 'a frame after reconnecting');
    assert.ok(frame && frame.index > last, 'indexes go on after the reconnect');
    const reconnecting = events.find((e) => e.type === 'reconnecting')!;
    assert.is(reconnecting.attempt, 1);
    assert.match(reconnecting.message, new RegExp(`udp://127.0.0.1:${port}`));
    assert.ok(source.stats().reconnects >= 1);
    assert.ok(source.stats().inputFps > 0);

    // Gone for good: the reconnects run out and next() rejects.
    await stop(server);
  } finally {
    source.close();
    await stop(server);
  }
});

test('live: a stream that stays dead fails next() after its reconnects', async () => {
  const port = await freeUdpPort();
  const server = serveUdp(port);
  const events: NativeVideoEvent[] = [];
  const source = new video.VideoSource(
    `udp://127.0.0.1:${port}`,
    {
      mode: 'freshest',
      bufferSize: 2,
      reconnect: 2,
      reconnectDelayMs: 100,
      openTimeoutMs: 3000,
      readTimeoutMs: 1000,
    } as NativeVideoSourceOptions,
    (e) => events.push(e),
  );
  try {
    await within(source.open(), 20_000, 'open()');
    assert.ok(await within(source.next(), 10_000, 'a frame'));
    await stop(server);
    let failure: { code?: string; message: string } | undefined;
    const end = Date.now() + 20_000;
    while (!failure && Date.now() < end) {
      try {
        await within(source.next(), 20_000, 'next() of a dead stream');
      } catch (err) {
        failure = err as { code?: string; message: string };
      }
    }
    assert.is(failure?.code, 'VIDEO_SOURCE_FAILED', failure?.message);
    assert.equal(
      events.filter((e) => e.type === 'reconnecting').map((e) => e.attempt),
      [1, 2],
    );
    assert.is(source.stats().reconnects, 2);
  } finally {
    source.close();
    await stop(server);
  }
});

test('nothing on stderr (missing, junk, truncated, dead stream, a clip, a written video); ended sources let the process exit', async () => {
  const child = await runChild('video-child.ts', ['quiet', CLIP, DIR], 60_000);
  assert.is(child.timedOut, false, 'the child exited on its own');
  assert.is(child.code, 0, child.stderr);
  assert.is(child.stderr, '', 'the child wrote on stderr');
  const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as Record<
    string,
    { frames: number; code?: string; written?: number }
  >;
  for (const key of ['missing', 'junk', 'cut', 'dead']) assert.is(report[key]!.code, 'VIDEO_SOURCE_FAILED', key);
  assert.is(report.clip!.frames, FRAMES);
  assert.is(report.clip!.code, undefined);
  assert.is(report.written!.written, 10);
});

test('a source being read (not ended, not closed) keeps the process alive', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HELPERS, 'video-child.ts'), 'hold', CLIP], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  try {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    await waitFor(() => stdout.includes('holding') || child.exitCode !== null, 30_000, 'the child to read a frame');
    assert.ok(stdout.includes('holding'), `the child exited with ${child.exitCode}`);
    await sleep(1500);
    assert.is(child.exitCode, null, 'the child is still running');
  } finally {
    await stop(child);
    children.delete(child);
  }
});

test.after(() => {
  for (const c of children) c.kill('SIGKILL');
});

test.run();
