// Runs a TypeScript helper in a child process (node --import tsx), for the tests that check how a
// process behaves (exits on its own, process.exit, a second ONNX Runtime user).
import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELPERS = join(ROOT, 'test', 'helpers');

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed by us after `timeoutMs`. */
  timedOut: boolean;
}

/** Runs a TypeScript file (any path) in a child node process, collecting its output; killed after `timeoutMs`. */
export function runScript(path: string, args: string[] = [], timeoutMs = 30_000): Promise<ChildResult> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ms: Date.now() - started, timedOut });
    });
  });
}

/** Runs one of test/helpers/'s scripts in a child process. */
export function runChild(script: string, args: string[] = [], timeoutMs = 30_000): Promise<ChildResult> {
  return runScript(join(HELPERS, script), args, timeoutMs);
}

/** The last line of stdout that parses as JSON. */
export function lastJson<T = Record<string, unknown>>(stdout: string): T | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const line of lines) {
    try {
      return JSON.parse(line) as T;
    } catch {
      // not JSON
    }
  }
  return undefined;
}
