// Sanitized builds of the native code, each in a folder of its own under build/:
//  - the core library and its C++ tests with AddressSanitizer + UndefinedBehaviorSanitizer
//    (build/asan) and with ThreadSanitizer (build/tsan), built with plain CMake (no addon, so no
//    cmake-js) and run by test/run.mjs;
//  - the addon with ASan + UBSan (build/asan-addon), for `npm run test:asan`.
// Each is rebuilt only when a native source or CMakeLists.txt is newer than what it built (as
// scripts/setup.mjs decides for the addon), and then incrementally. Also says how to run them:
// the sanitizers' runtime options.
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { mtime, newestNativeSource } from './freshness.mjs';
import { ensureOrtHeaders } from './system-deps.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const log = (msg) => process.stderr.write(`[sanitized] ${msg}\n`);

/** The sanitized builds of the C++ tests: name, INFERENCE_POOL_SANITIZE value, build folder. */
export const SANITIZED_TESTS = [
  { name: 'asan', sanitize: 'address', dir: join(root, 'build', 'asan') },
  { name: 'tsan', sanitize: 'thread', dir: join(root, 'build', 'tsan') },
];
export const TEST_PROGRAMS = ['core_tests', 'pipeline_stress'];
export const ASAN_ADDON = join(root, 'build', 'asan-addon', 'Release', 'inference_pool.node');

const newestSource = () => newestNativeSource(root);

function run(cmd, args) {
  log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}

function hasNinja() {
  try {
    execFileSync('ninja', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Builds the C++ tests of one SANITIZED_TESTS entry where sources changed; returns its folder. */
export function buildSanitizedTests(flavour) {
  const outputs = TEST_PROGRAMS.map((p) => join(flavour.dir, p));
  if (Math.min(...outputs.map(mtime)) >= newestSource()) return flavour.dir;
  log(`building the C++ tests with ${flavour.sanitize} sanitizers (${flavour.dir})`);
  // Configured every time: quick once cached, and it mends a folder whose first configure was cut
  // short. The generator is chosen only the first time (CMake refuses to switch).
  const fresh = !existsSync(join(flavour.dir, 'CMakeCache.txt'));
  run('cmake', [
    '-S',
    root,
    '-B',
    flavour.dir,
    ...(fresh && hasNinja() ? ['-G', 'Ninja'] : []),
    `-DINFERENCE_POOL_SANITIZE=${flavour.sanitize}`,
    '-DINFERENCE_POOL_BUILD_ADDON=OFF',
    `-DORT_INCLUDE_DIR=${ensureOrtHeaders()}`,
  ]);
  run('cmake', ['--build', flavour.dir, '--parallel', String(availableParallelism())]);
  return flavour.dir;
}

/** Builds the addon with ASan + UBSan where sources changed; returns the .node file. */
export function buildAsanAddon() {
  if (mtime(ASAN_ADDON) >= newestSource()) return ASAN_ADDON;
  log('building the addon with address sanitizers (build/asan-addon)');
  run(process.execPath, [
    require.resolve('cmake-js/bin/cmake-js'),
    'compile',
    '--out',
    join(root, 'build', 'asan-addon'),
    `--CDORT_INCLUDE_DIR=${ensureOrtHeaders()}`,
    '--CDINFERENCE_POOL_SANITIZE=address',
    '--CDINFERENCE_POOL_BUILD_TESTS=OFF',
  ]);
  return ASAN_ADDON;
}

/** The ASan runtime a program not built with it (node) must preload to load an ASan-built addon. */
export function asanRuntime() {
  const file = execFileSync('g++', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
  if (!existsSync(file)) throw new Error(`g++ names no ASan runtime (${file})`);
  return realpathSync(file);
}

/**
 * Environment for a sanitized program. Every report ends it with a non-zero status (halt_on_error;
 * the ASan build also has -fno-sanitize-recover), so a report fails the run.
 * `forNode`: node itself is not instrumented and frees little of V8's memory at exit, so leak
 * detection is off there; the C++ tests keep it, with ONNX Runtime's own allocations suppressed.
 */
export function sanitizerEnv(name, { forNode = false } = {}) {
  const supp = (file) => join(root, 'native', 'tests', file);
  if (name === 'tsan') {
    return { TSAN_OPTIONS: `halt_on_error=1:second_deadlock_stack=1:suppressions=${supp('tsan.supp')}` };
  }
  return {
    ASAN_OPTIONS: forNode ? 'halt_on_error=1:detect_leaks=0' : 'halt_on_error=1:detect_leaks=1',
    LSAN_OPTIONS: `suppressions=${supp('lsan.supp')}:print_suppressions=0`,
    UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
  };
}
