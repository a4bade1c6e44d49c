// Runs the inference-pool command (bin/inference-pool.ts through tsx) as a child process for the
// CLI's tests: its JSON log lines as they come, the port it bound, signals, and its exit. Every child
// is killed when the test process ends, whatever happened.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as assert from 'uvu/assert';

import { ROOT } from './child.ts';
import { waitFor } from './models.ts';

export const CLI = join(ROOT, 'bin', 'inference-pool.ts');

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** stdout's JSON lines so far (pino's). */
  logs: LogLine[];
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: () => boolean;
  /** Resolves with the first log line that matches (already logged, or to come); fails after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** The base URL once Fastify has logged "Server listening at …". */
  listening(timeoutMs?: number): Promise<string>;
}

/** `inference-pool <args>` with `env` added to this process's environment; SIGKILLed after `timeoutMs`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): CliRun {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let partial = '';
  const logs: LogLine[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (--help)
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let done = false;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      done = true;
      clearTimeout(timer);
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const run: CliRun = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    logs,
    exit,
    exited: () => done,
    async waitForLog(match, what, waitMs = 30_000) {
      await waitFor(
        () => done || logs.some(match),
        () => `${what}; stdout so far:\n${stdout.slice(-2000)}\nstderr:\n${stderr}`,
        waitMs,
      );
      const line = logs.find(match);
      assert.ok(line, `${what}: the CLI exited first; stdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr}`);
      return line;
    },
    async listening(waitMs) {
      const line = await run.waitForLog((l) => l.msg.startsWith('Server listening at '), 'the CLI listening', waitMs);
      return line.msg.slice('Server listening at '.length);
    },
  };
  return run;
}
