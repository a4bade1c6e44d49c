// The package's `install` script: makes sure the system build dependencies are there (installing
// Debian packages when run as root on Debian, else naming what is missing), then builds the addon
// with cmake-js. Runs both in this repository (npm ci) and inside an app's node_modules.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { ensureSystemDeps } from './system-deps.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (msg) => process.stderr.write(`[inference-pool] ${msg}\n`);

export function buildNative({ includeDir } = {}) {
  const include = includeDir ?? ensureSystemDeps();
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  // The C++ tests of the core are built only in a checkout that has the test suite.
  const withTests = existsSync(join(root, 'test')) ? 'ON' : 'OFF';
  log('building the native addon (cmake-js)');
  execFileSync(
    process.execPath,
    [cmakeJs, 'compile', `--CDORT_INCLUDE_DIR=${include}`, `--CDINFERENCE_POOL_BUILD_TESTS=${withTests}`],
    { cwd: root, stdio: 'inherit' },
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.env.INFERENCE_POOL_SKIP_BUILD) {
    log('INFERENCE_POOL_SKIP_BUILD is set: not building the addon');
  } else {
    try {
      buildNative();
    } catch (err) {
      log(`install failed: ${err.message}`);
      process.exit(1);
    }
  }
}
