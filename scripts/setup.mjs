// Everything a fresh checkout needs before the demo or the tests, done only where missing:
// Debian packages and ONNX Runtime's headers, `npm ci`, the native build, the generated models.
// Used by `npm test` and `npm run demo`; says what it is doing.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { mtime, newestNativeSource } from './freshness.mjs';
import { ensureSystemDeps } from './system-deps.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => process.stderr.write(`[setup] ${msg}\n`);

function run(cmd, args, env = {}) {
  log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
}

try {
  const include = ensureSystemDeps({ dev: true });

  const installed = join(root, 'node_modules', '.package-lock.json');
  if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
    // onnxruntime-node's postinstall would fetch CUDA files from a feed outside the npm registry;
    // the CPU library it ships is all this needs (GPU users: see the README).
    log('installing npm dependencies (npm ci; this also builds the addon)');
    run('npm', ['ci', '--no-audit', '--no-fund'], { ONNXRUNTIME_NODE_INSTALL: 'skip' });
  }

  const addon = join(root, 'build', 'Release', 'inference_pool.node');
  if (mtime(addon) < newestNativeSource(root)) {
    log('building the native addon');
    const { buildNative } = await import('./install.mjs');
    buildNative({ includeDir: include });
  }

  log('generating models (models/generated/)');
  run(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/make-models.ts']);

  log('making the test videos (models/generated/videos/)');
  run(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/make-videos.ts']);

  // Public-domain photos from Debian's python3-skimage package, for the demo and the benchmarks.
  const { ensureSampleImages } = await import('./sample-images.mjs');
  ensureSampleImages();
} catch (err) {
  log(`set-up failed: ${err.message}`);
  process.exit(1);
}
