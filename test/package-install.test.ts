// The user's path: the packed tarball installs into a fresh app with plain `npm install` (its install
// script builds the addon), and the app serves a model from it. Uses npm's cache where it can; nothing
// outside the npm registry and Debian's mirror is reached.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROOT } from './helpers/child.ts';
import { modelPath, MODELS } from './helpers/models.ts';

const WORK = join(ROOT, 'test', '.tmp', 'package-install');

test('npm pack, then npm install of the tarball into a fresh app builds the addon, and the app infers', () => {
  rmSync(WORK, { recursive: true, force: true });
  const app = join(WORK, 'app');
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
  rmSync(WORK, { recursive: true, force: true });
});

test.run();
