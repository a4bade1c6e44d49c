// Runs the whole test suite: the C++ tests of the core (plain, then built with ASan + UBSan and with
// TSan), then each uvu test file in a process of its own (a pool's ONNX Runtime is process-wide,
// and some tests check how a process exits). Ends with the line "N passed, N failed".
// An optional regex argument picks what runs: file names, and "core_tests", "pipeline_stress",
// "core_tests[asan]", "pipeline_stress[tsan] <case>" and the like for the C++ tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SANITIZED_TESTS, TEST_PROGRAMS, buildSanitizedTests, sanitizerEnv } from '../scripts/build-sanitized.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
const wanted = (name) => !only || only.test(name);
let passed = 0;
let failed = 0;
const failures = [];

function count(output, label) {
  const m = new RegExp(`${label}:\\s+(\\d+)`).exec(output);
  return m ? Number(m[1]) : 0;
}

function runOne(name, cmd, args, env = {}) {
  process.stdout.write(`\n# ${name}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, {
    cwd: root,
    encoding: 'utf8',
    timeout: 15 * 60_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(output);
  return { output, status: r.status, signal: r.signal, ms: Date.now() - started };
}

/** Runs a C++ test program and counts its "N passed, N failed" (a crash or a report counts as one more). */
function runNative(name, program, args = [], env = {}) {
  const { output, status, signal, ms } = runOne(name, program, args, env);
  const m = /(\d+) passed, (\d+) failed\s*$/m.exec(output);
  const p = m ? Number(m[1]) : 0;
  const f = (m ? Number(m[2]) : 0) + (status !== 0 && !(m && Number(m[2]) > 0) ? 1 : 0);
  passed += p;
  failed += f;
  if (f > 0) failures.push(`${name} (exit ${status ?? signal})`);
  const skipped = /^SKIPPED: (.*)$/m.exec(output);
  const note = skipped ? ` (skipped: ${skipped[1]})` : '';
  process.stdout.write(`# ${name}: ${p} passed, ${f} failed in ${(ms / 1000).toFixed(1)} s${note}\n`);
}

/** The ONNX Runtime library the stress tests load: as lib/native.ts resolves it. */
function ortLibrary() {
  if (process.env.INFERENCE_POOL_ORT_LIBRARY) return process.env.INFERENCE_POOL_ORT_LIBRARY;
  for (const napi of ['napi-v6', 'napi-v3']) {
    const file = join(
      root,
      'node_modules',
      'onnxruntime-node',
      'bin',
      napi,
      process.platform,
      process.arch,
      'libonnxruntime.so.1',
    );
    if (existsSync(file)) return file;
  }
  return '';
}

// The pipeline's stress tests need ONNX Runtime and the generated models; they say so and skip without them.
const stressEnv = {
  INFERENCE_POOL_ORT_LIBRARY: ortLibrary(),
  INFERENCE_POOL_TEST_MODELS: join(root, 'models', 'generated'),
};

/** The stress cases a pipeline_stress program has (none when it is missing or cannot say). */
function stressCases(program, env = {}) {
  if (!existsSync(program)) return [];
  const r = spawnSync(program, ['--list'], { encoding: 'utf8', env: { ...process.env, ...env } });
  return r.status === 0 ? (r.stdout ?? '').split('\n').filter(Boolean) : [];
}

/** The C++ tests in `dir`: core_tests whole, pipeline_stress one case per process (a report ends a process). */
function runNativeTests(dir, label, env) {
  const tag = label ? `[${label}]` : '';
  const coreTests = join(dir, 'core_tests');
  if (existsSync(coreTests) && wanted(`core_tests${tag}`)) runNative(`core_tests${tag} (C++)`, coreTests, [], env);
  const stress = join(dir, 'pipeline_stress');
  if (!existsSync(stress)) return;
  const names = stressCases(stress, env);
  if (names.length === 0) {
    runNative(`pipeline_stress${tag} --list`, stress, ['--list'], env);
    return;
  }
  for (const name of names) {
    const title = `pipeline_stress${tag} ${name}`;
    if (wanted(title)) runNative(`${title} (C++)`, stress, [name], { ...stressEnv, ...env });
  }
}

runNativeTests(join(root, 'build'), '', {});
const plainCases = stressCases(join(root, 'build', 'pipeline_stress'));

for (const flavour of SANITIZED_TESTS) {
  const tag = `[${flavour.name}]`;
  // Built only when something of it is to run (the plain build names the stress cases).
  const titles = [...TEST_PROGRAMS.map((p) => `${p}${tag}`), ...plainCases.map((c) => `pipeline_stress${tag} ${c}`)];
  if (!titles.some(wanted) && !(only && only.source.includes(flavour.name))) continue;
  const started = Date.now();
  try {
    buildSanitizedTests(flavour);
  } catch (err) {
    failed += 1;
    failures.push(`build of the ${flavour.name} tests`);
    process.stdout.write(`\n# ${flavour.name} build failed: ${err.message}\n`);
    continue;
  }
  process.stdout.write(`\n# ${flavour.name} build: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  runNativeTests(flavour.dir, flavour.name, sanitizerEnv(flavour.name));
}

const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => !only || only.test(f))
  .sort();
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
for (const file of files) {
  const { output, status, signal, ms } = runOne(file, process.execPath, [tsx, join('test', file)]);
  const total = count(output, 'Total');
  const ok = count(output, 'Passed');
  const skipped = count(output, 'Skipped');
  let bad = total - ok - skipped;
  // A crash, a hang or a process that would not exit counts as a failure even if every test passed.
  if (status !== 0 && bad === 0) bad = 1;
  if (total === 0 && bad === 0) bad = 1;
  passed += ok;
  failed += bad;
  if (bad > 0) failures.push(`${file} (exit ${status ?? signal})`);
  process.stdout.write(`# ${file}: ${ok} passed, ${bad} failed in ${(ms / 1000).toFixed(1)} s\n`);
}

if (failures.length) process.stdout.write(`\nFailed: ${failures.join(', ')}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
