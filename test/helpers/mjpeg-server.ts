// A live camera on loopback: an HTTP MJPEG server (multipart/x-mixed-replace, as IP cameras serve)
// sending a synthetic shapes scene at a fixed frame rate, for as long as a client stays connected.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import sharp from 'sharp';

import { drawFrame, separateScene } from '../../scripts/videos/shapes-scene.ts';

export interface MjpegServer {
  url: string;
  /** Frames sent, over all clients. */
  sent(): number;
  /** Stops serving: open streams are cut and new connections refused until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startMjpegServer(fps = 30, frames = 90): Promise<MjpegServer> {
  const scene = separateScene(320, 240, frames);
  const jpegs = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp(drawFrame(scene, i), { raw: { width: scene.width, height: scene.height, channels: 3 } })
        .jpeg({ quality: 85 })
        .toBuffer(),
    ),
  );
  let sent = 0;
  let port = 0;
  let server: Server | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const listen = () =>
    new Promise<void>((resolve) => {
      const boundary = 'frame';
      server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': `multipart/x-mixed-replace;boundary=${boundary}`, connection: 'close' });
        let i = 0;
        const timer = setInterval(() => {
          const jpeg = jpegs[i++ % jpegs.length]!;
          res.write(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`);
          res.write(jpeg);
          res.write('\r\n');
          sent++;
        }, 1000 / fps);
        timers.add(timer);
        res.on('close', () => {
          clearInterval(timer);
          timers.delete(timer);
        });
      });
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const t of timers) clearInterval(t);
      timers.clear();
      if (!server) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}/stream.mjpg`,
    sent: () => sent,
    stop,
    start: listen,
    close: stop,
  };
}
