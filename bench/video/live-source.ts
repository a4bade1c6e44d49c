// A live 30 fps source on loopback: ffmpeg sends the benchmark file, looped, in real time (`-re`) as
// MPEG-TS over TCP, listening for the one client. The H.264 stream is copied, not re-encoded, so the
// source costs next to no CPU beside the model; the client joins at the file's first frame (a key
// frame), so it opens at once.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../../test/helpers/ports.ts';

export interface LiveSource {
  url: string;
  close(): void;
}

/** Whether a socket listens on 127.0.0.1:port, from /proc (connecting to find out would take ffmpeg's one client). */
function listening(port: number): boolean {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1] === local && fields[3] === '0A'; // 0A: TCP_LISTEN
    });
}

export async function startLiveSource(file: string, withinMs = 10_000): Promise<LiveSource> {
  const port = await freePort();
  const ffmpeg = spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', file],
      ...['-c', 'copy', '-f', 'mpegts', `tcp://127.0.0.1:${port}?listen=1`],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  ffmpeg.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const close = () => void ffmpeg.kill('SIGKILL');
  const deadline = performance.now() + withinMs;
  while (!listening(port)) {
    if (ffmpeg.exitCode !== null || performance.now() > deadline) {
      close();
      throw new Error(`the live source did not start listening on port ${port}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { url: `tcp://127.0.0.1:${port}`, close };
}
