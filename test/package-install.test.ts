// The user's path: the packed tarball installs into a fresh app with plain `npm install` (its install
// script builds the addon), and the app serves a model from it. Uses npm's cache where it can; nothing
// outside the npm registry and Debian's mirror is reached.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROOT } from './helpers/child.ts';
import { encodePng, solid } from './helpers/images.ts';
import { modelPath, MODELS, sleep } from './helpers/models.ts';
import { freePort } from './helpers/ports.ts';

const WORK = join(ROOT, 'test', '.tmp', 'package-install');
const APP = join(WORK, 'app');

test('npm pack, then npm install of the tarball into a fresh app builds the addon, and the app infers', () => {
  rmSync(WORK, { recursive: true, force: true });
  const app = APP;
  mkdirSync(app, { recursive: true });
  execFileSync('npm', ['pack', '--pack-destination', WORK, '--silent'], { cwd: ROOT, stdio: 'pipe' });
  const tarball = readdirSync(WORK).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');

  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const install = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(WORK, tarball!)], {
    cwd: app,
    encoding: 'utf8',
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    timeout: 12 * 60_000,
  });
  assert.is(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);

  writeFileSync(
    join(app, 'main.js'),
    `import { InferencePool } from 'inference-pool';
const pool = await InferencePool.create({
  models: [{ id: 'mean', path: ${JSON.stringify(modelPath(MODELS.meanColor))}, task: 'classification' }],
});
const data = new Uint8Array(16 * 16 * 3).fill(0);
for (let i = 0; i < data.length; i += 3) data[i] = 255;
const r = await pool.infer({ data, width: 16, height: 16, format: 'rgb' }, 'mean');
await pool.close();
console.log(JSON.stringify({ top: r.top, runtime: pool.runtime.version }));
`,
  );
  const run = spawnSync(process.execPath, ['main.js'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.is(run.status, 0, `the app failed:\n${run.stderr}`);
  assert.is(run.stderr, '', 'the app printed nothing on stderr');
  const out = JSON.parse(run.stdout.trim()) as { top: string; runtime: string };
  assert.is(out.top, 'red');
  assert.match(out.runtime, /^1\.\d+\.\d+/);
});

test('the installed app runs `npx inference-pool serve --model`, and POST /infer/classification answers 200', async () => {
  const port = await freePort();
  const model = `m=${modelPath(MODELS.meanColor)}:classification`;
  const npx = spawn('npx', ['inference-pool', 'serve', '--model', model, '--host', '127.0.0.1', '--port', `${port}`], {
    cwd: APP,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npx.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
  npx.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  // 'exit', not 'close': the server, npx's child, shares the pipes.
  const exit = new Promise<number | null>((resolve) => npx.on('exit', (code) => resolve(code)));
  // npx does not pass signals on, so the server is signalled itself: its pid is in its log lines.
  let serverPid: number | undefined;
  try {
    const base = `http://127.0.0.1:${port}`;
    const started = Date.now();
    for (;;) {
      const status = await fetch(`${base}/readiness`).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) break;
      assert.ok(Date.now() - started < 60_000, `not ready after 60 s (last ${status}):\n${output}`);
      await sleep(100);
    }
    serverPid = output
      .split('\n')
      .map((line) => {
        try {
          return JSON.parse(line) as { pid?: number };
        } catch {
          return undefined;
        }
      })
      .find((log) => log?.pid)?.pid;
    assert.ok(serverPid, `the server's pid in its log:\n${output}`);
    const value = encodePng(solid(16, 16, [255, 0, 0])).toString('base64');
    const answer = await fetch(`${base}/infer/classification`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model_id: 'm', image: { type: 'base64', value } }),
    });
    assert.is(answer.status, 200, await answer.clone().text());
    assert.is(((await answer.json()) as { top: string }).top, 'red');

    process.kill(serverPid, 'SIGTERM');
    const code = await Promise.race([exit, sleep(30_000).then(() => 'timed out')]);
    assert.is(code, 0, `the server's exit after SIGTERM:\n${output}`);
  } finally {
    for (const pid of [serverPid, npx.pid]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

test.after(() => rmSync(WORK, { recursive: true, force: true }));

test.run();
