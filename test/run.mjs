// Runs the whole test suite: the C++ tests of the core, then each uvu test file in a process of its
// own (a pool's ONNX Runtime is process-wide, and some tests check how a process exits). Ends with
// the line "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2] ? new RegExp(process.argv[2]) : null;
let passed = 0;
let failed = 0;
const failures = [];

function count(output, label) {
  const m = new RegExp(`${label}:\\s+(\\d+)`).exec(output);
  return m ? Number(m[1]) : 0;
}

function runOne(name, cmd, args) {
  process.stdout.write(`\n# ${name}\n`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 15 * 60_000, maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(output);
  return { output, status: r.status, signal: r.signal, ms: Date.now() - started };
}

const coreTests = join(root, 'build', 'core_tests');
if (existsSync(coreTests) && (!only || only.test('core_tests'))) {
  const { output, status } = runOne('core_tests (C++)', coreTests, []);
  const m = /(\d+) passed, (\d+) failed/.exec(output);
  const p = m ? Number(m[1]) : 0;
  const f = m ? Number(m[2]) : 1;
  passed += p;
  failed += f + (status !== 0 && f === 0 ? 1 : 0);
  if (status !== 0) failures.push('core_tests');
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
