// HAProxy (Debian's `haproxy`, installed by set-up) for the load-balancer test: the shipped
// examples/haproxy/haproxy.cfg turned into a loopback variant (addresses, ports and the stats socket's
// path changed, every other setting as shipped), started in the foreground on free loopback ports,
// its runtime API's `show stat` read over the stats socket, stopped by pid. A haproxy still running
// when the test process ends is killed.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';

import { ROOT } from './child.ts';
import { sleep } from './models.ts';

export const SHIPPED_CONFIG = join(ROOT, 'examples', 'haproxy', 'haproxy.cfg');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** The haproxy binary, or null when it is not installed. */
export function haproxyBinary(): string | null {
  for (const file of ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy']) {
    if (existsSync(file)) return file;
  }
  const which = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' });
  return which.status === 0 && which.stdout.trim() ? which.stdout.trim() : null;
}

export interface LoopbackPorts {
  frontend: number;
  stats: number;
  /** One per `server` line of the shipped file, in order. */
  replicas: number[];
}

/**
 * The shipped configuration with loopback addresses: the inference frontend's `bind`, the stats
 * frontend's `bind`, each `server` line's address and the stats socket's path. Everything else is
 * left as shipped. Throws when a line it expects is missing, so the file tested is the file shipped.
 */
export function loopbackConfig(shipped: string, ports: LoopbackPorts, socketPath: string): string {
  let text = shipped;
  const replace = (pattern: string, by: (head: string) => string, what: string, count = 1) => {
    const re = new RegExp(pattern, 'gm');
    const found = text.match(re)?.length ?? 0;
    if (found !== count) throw new Error(`${SHIPPED_CONFIG}: expected ${count} ${what}, found ${found}`);
    text = text.replace(re, (_match: string, head: string) => by(head));
  };
  replace(String.raw`^(\s*stats socket )\S+`, (head) => `${head}${socketPath}`, 'stats socket line');
  replace(
    String.raw`^(frontend inference\n(?:.*\n)*?\s*bind )\S+`,
    (h) => `${h}127.0.0.1:${ports.frontend}`,
    'inference bind',
  );
  replace(String.raw`^(frontend stats\n(?:.*\n)*?\s*bind )\S+`, (h) => `${h}127.0.0.1:${ports.stats}`, 'stats bind');
  let i = 0;
  replace(
    String.raw`^(\s*server \S+ )\S+`,
    (head) => `${head}127.0.0.1:${ports.replicas[i++]}`,
    'server lines',
    ports.replicas.length,
  );
  return text;
}

/** One row of `show stat` (HAProxy's CSV): a frontend, a backend or a server. */
export type StatRow = Record<string, string>;

export interface Haproxy {
  child: ChildProcess;
  /** The inference frontend, http://127.0.0.1:port. */
  base: string;
  /** Log lines so far (httplog, on stdout) and anything on stderr. */
  logs: string[];
  /** `show stat` over the stats socket. */
  stats(): Promise<StatRow[]>;
  /** The row of server `name` in backend `backend`. */
  server(name: string, backend?: string): Promise<StatRow>;
  exited(): boolean;
  stop(): Promise<void>;
}

/** Sends one runtime API command over the unix socket and returns the answer. */
export function runtimeCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (out += d));
    socket.on('end', () => resolve(out));
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`${command}\n`));
  });
}

export function parseStatCsv(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/**
 * `haproxy -f <dir>/haproxy.cfg -db` with `config` written there; resolves once its frontend answers
 * HTTP (any status) and its stats socket answers. Throws with haproxy's output if it exits first.
 */
export async function startHaproxy(
  config: string,
  dir: string,
  frontendPort: number,
  socketPath: string,
): Promise<Haproxy> {
  const binary = haproxyBinary();
  if (!binary) throw new Error('haproxy is not installed (Debian: apt-get install haproxy; scripts/setup.mjs does)');
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const check = spawnSync(binary, ['-c', '-f', file], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the loopback config:\n${check.stdout}${check.stderr}`);
  const child = spawn(binary, ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const logs: string[] = [];
  let done = false;
  const exit = new Promise<void>((resolve) => {
    child.on('close', () => {
      done = true;
      running.delete(child);
      resolve();
    });
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      logs.push(...lines);
    });
  }
  const base = `http://127.0.0.1:${frontendPort}`;
  const proxy: Haproxy = {
    child,
    base,
    logs,
    stats: async () => parseStatCsv(await runtimeCommand(socketPath, 'show stat')),
    async server(name, backend = 'replicas') {
      const row = (await proxy.stats()).find((r) => r.pxname === backend && r.svname === name);
      if (!row) throw new Error(`no server ${backend}/${name} in show stat`);
      return row;
    },
    exited: () => done,
    async stop() {
      if (!done) child.kill('SIGTERM');
      await Promise.race([exit, sleep(5000)]);
      if (!done) child.kill('SIGKILL');
      await exit;
    },
  };
  const started = Date.now();
  for (;;) {
    if (done) throw new Error(`haproxy exited at start:\n${logs.join('\n')}`);
    const answers = await fetch(`${base}/healthz`)
      .then(async (r) => {
        await r.arrayBuffer();
        return true;
      })
      .catch(() => false);
    if (
      answers &&
      (await proxy
        .stats()
        .then(() => true)
        .catch(() => false))
    )
      return proxy;
    if (Date.now() - started > 10_000) {
      await proxy.stop();
      throw new Error(`haproxy did not answer within 10 s:\n${logs.join('\n')}`);
    }
    await sleep(50);
  }
}

/** The shipped file, read now. */
export function shippedConfig(): string {
  return readFileSync(SHIPPED_CONFIG, 'utf8');
}
