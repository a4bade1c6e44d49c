// A free loopback port for a child process (redis-server, haproxy, ffmpeg, a server under test) that
// must be told its port before it starts.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A port free on the loopback interface right now (bound by the kernel's pick, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
