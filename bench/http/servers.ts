// The servers under test, each a child process of its own started straight on `node --import tsx`
// (no wrapper process), so that the child's pid is the serving process whose memory and CPU the
// benchmark reads from /proc. Their output goes to bench/results/raw/ (not committed).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { isAlive } from '../proc-status.ts';
import type { PlainServerJob } from './plain-server.ts';
import type { HttpWorkload } from './workloads.ts';
import { freePort } from '../../test/helpers/ports.ts';

const root = new URL('../..', import.meta.url).pathname;
export const CLI = join(root, 'bin', 'inference-pool.ts');
const HOST = '127.0.0.1';

export type ServerKind = 'plain' | 'pool';

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  url: string;
  log: string;
  /** Spawn to the first 200 from /readiness (the pool server loads and warms its model up first). */
  startupSeconds: number;
}

function args(kind: ServerKind, w: HttpWorkload, port: number): string[] {
  if (kind === 'plain') {
    const job: PlainServerJob = { workload: w.name, host: HOST, port };
    return [join(root, 'bench', 'http', 'plain-server.ts'), JSON.stringify(job)];
  }
  const spec = w.model.spec;
  // `inference-pool serve` as a user starts it: one --model id=path:task, the CLI's defaults otherwise.
  const model = `${w.modelId}=${spec.path as string}:${spec.task}`;
  return [CLI, 'serve', '--model', model, '--port', String(port), '--host', HOST];
}

const logTail = (file: string) => readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');

export async function startServer(kind: ServerKind, w: HttpWorkload, logName: string): Promise<RunningServer> {
  const port = await freePort();
  const dir = join(root, 'bench', 'results', 'raw');
  mkdirSync(dir, { recursive: true });
  const log = join(dir, `${logName}.log`);
  const fd = openSync(log, 'w');
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', ...args(kind, w, port)], {
    cwd: root,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  const url = `http://${HOST}:${port}`;
  const deadline = started + 300_000;
  while (performance.now() < deadline) {
    if (exited) throw new Error(`the ${kind} server ${exited} before it was ready; ${log}:\n${logTail(log)}`);
    try {
      const r = await fetch(`${url}/readiness`);
      if (r.status === 200) {
        return { child, pid: child.pid!, url, log, startupSeconds: (performance.now() - started) / 1000 };
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await stopServer({ child, pid: child.pid!, url, log, startupSeconds: NaN });
  throw new Error(`the ${kind} server was not ready within 300 s; ${log}:\n${logTail(log)}`);
}

/**
 * Whether the server is still up after its run (a crash under load is a result too). Read from /proc:
 * the driver waits for the loader synchronously, so Node may not have seen the child's exit yet.
 */
export const isRunning = (s: RunningServer) => isAlive(s.pid);

/**
 * Kills the server once its figures are read: after a run at 1000 connections it still holds up to
 * 1000 requests nobody waits for, and a graceful drain of those would only cost time.
 */
export async function stopServer(s: RunningServer): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise((resolve) => s.child.once('exit', resolve));
  s.child.kill('SIGKILL');
  await exited;
}

export const cliPresent = () => existsSync(CLI);
