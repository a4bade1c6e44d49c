// A throwaway redis-server (Debian's) for the queue's tests and benchmark: a free loopback port, no
// persistence, stopped by its pid. `restart()` brings it back on the same port, empty (nothing is
// saved), as a crashed Redis without persistence would come back.
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from './ports.ts';

export interface RedisServer {
  port: number;
  url: string;
  pid: number;
  /** Stops it (SIGTERM, then SIGKILL after 5 s) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Stops it and, `downMs` later, starts a new one on the same port. */
  restart(downMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// A test that fails half-way still leaves no redis-server behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** One PING over a raw socket: true when the answer is +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      answer += d.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function launch(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  running.add(child);
  child.once('exit', () => running.delete(child));
  const started = Date.now();
  while (!(await ping(port))) {
    if (child.exitCode !== null || Date.now() - started > 10_000) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer PING: ${output.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

async function halt(child: ChildProcess): Promise<void> {
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await gone;
  clearTimeout(timer);
}

/** Starts redis-server on a free loopback port and resolves once it answers PING. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child.pid!;
    },
    stop: () => halt(child),
    async restart(downMs = 0) {
      await halt(child);
      await new Promise((r) => setTimeout(r, downMs));
      child = await launch(port);
    },
  };
}
