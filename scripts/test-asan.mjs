// `npm run test:asan`: the JS test suite on the addon built with AddressSanitizer + UBSan
// (build/asan-addon). Node is not instrumented, so the ASan runtime is preloaded into it (it must
// come first among the libraries a process loads) and lib/native.ts is pointed at that build
// through INFERENCE_POOL_ADDON_PATH. An optional regex picks test files, as for test/run.mjs.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { asanRuntime, buildAsanAddon, sanitizerEnv } from './build-sanitized.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let addon;
try {
  addon = buildAsanAddon();
} catch (err) {
  process.stderr.write(`[test:asan] building the ASan addon failed: ${err.message}\n`);
  process.exit(1);
}
const env = {
  ...process.env,
  ...sanitizerEnv('asan', { forNode: true }),
  LD_PRELOAD: [asanRuntime(), process.env.LD_PRELOAD].filter(Boolean).join(' '),
  INFERENCE_POOL_ADDON_PATH: addon,
};
// The tarball-install test builds its own plain addon with npm and cmake under the preloaded runtime,
// which only makes it slow: it checks packaging, not this build.
const filter = process.argv[2] ?? '^(?!package-install).*\\.test\\.ts$';
const r = spawnSync(process.execPath, [join(root, 'test', 'run.mjs'), filter], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
