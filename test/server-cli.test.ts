// The inference-pool command as a process: --help, bad configurations (exit 1, one line naming the
// setting), readiness while the models load, and shutdown — SIGTERM with 500 requests in flight
// answers every one, readiness 503 during the drain, exit 0; a second signal exits at once.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { SETTING_FLAGS } from '../lib/server/config.ts';
import { ROOT } from './helpers/child.ts';
import { runCli } from './helpers/cli.ts';
import type { CliRun } from './helpers/cli.ts';
import { encodePng, picture } from './helpers/images.ts';
import { modelPath, MODELS, sleep, waitFor } from './helpers/models.ts';

const TMP = join(ROOT, 'test', '.tmp', 'server-cli');
// About 10 ms a run on two cores, 2 s to load and warm up: slow enough to hold requests in flight.
const FACE = `face=${modelPath('face-detector.onnx')}:det`;
const MEAN = `mean=${modelPath(MODELS.meanColor)}:cls`;
const LISTEN = ['--host', '127.0.0.1', '--port', '0'];
const IMAGE = encodePng(picture(64, 64, 7)).toString('base64');

const infer = (base: string, route: string, modelId: string) =>
  fetch(`${base}/infer/${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model_id: modelId, image: { type: 'base64', value: IMAGE } }),
  });

const readiness = async (base: string) => (await fetch(`${base}/readiness`)).status;

/** Fastify's "incoming request" lines for the inference routes: requests the server has begun to read. */
const inferRequestsSeen = (run: CliRun) =>
  run.logs.filter((l) => l.msg === 'incoming request' && String((l.req as { url?: string })?.url).startsWith('/infer/'))
    .length;

test('--help prints every flag on stdout and exits 0', async () => {
  const run = runCli(['--help']);
  const { code } = await run.exit;
  assert.is(code, 0);
  assert.is(run.stderr(), '');
  for (const flag of SETTING_FLAGS) assert.ok(run.stdout().includes(`${flag.name} `), `--${flag.name} in --help`);
});

test('a bad configuration: exit 1, one line on stderr naming the setting, nothing on stdout', async () => {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, 'bad-task.json');
  writeFileSync(
    file,
    JSON.stringify({
      models: [
        { id: 'a', path: 'a.onnx', task: 'classification' },
        { id: 'b', path: 'b.onnx', task: 'detect' },
      ],
    }),
  );
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      ['serve', '--config', file],
      {},
      /^inference-pool: .*bad-task\.json: models\[1\]\.task: must be one of classification, object-detection, instance-segmentation$/,
    ],
    [['serve', '--port', '70000'], {}, /^inference-pool: --port: must be an integer from 0 to 65535$/],
    [['serve', '--max-batch', '8'], {}, /^inference-pool: --max-batch: unknown flag/],
    [['serve'], { PORT: 'http' }, /^inference-pool: PORT: 'http' is not a number$/],
    [
      ['serve', '--config', join(TMP, 'missing.json')],
      {},
      /^inference-pool: .*missing\.json: cannot read it \(ENOENT\)$/,
    ],
    [
      ['serve', '--model', 'a=a.onnx:detect'],
      {},
      /^inference-pool: --model: 'a=a\.onnx:detect': unknown task 'detect'/,
    ],
  ];
  const runs = cases.map(([args, env]) => runCli(args, env, 30_000));
  for (const [i, run] of runs.entries()) {
    const { code } = await run.exit;
    const [args, , expected] = cases[i]!;
    assert.is(code, 1, `${args.join(' ')}: exit 1`);
    assert.is(run.stdout(), '', `${args.join(' ')}: nothing on stdout`);
    const lines = run.stderr().split('\n').filter(Boolean);
    assert.is(lines.length, 1, `${args.join(' ')}: one line on stderr: ${run.stderr()}`);
    assert.match(lines[0]!, expected);
  }
});

test('a model that fails to load at start-up: logged, exit 1', async () => {
  const run = runCli(['serve', ...LISTEN, '--model', `broken=${join(TMP, 'nowhere.onnx')}:cls`]);
  const { code } = await run.exit;
  assert.is(code, 1);
  const fatal = run.logs.find((l) => l.level === 60);
  assert.ok(fatal, `a fatal log line; stdout:\n${run.stdout()}`);
  assert.match(fatal.msg, /a model failed to load/);
  assert.is(run.stderr(), '');
});

test('serve --model: readiness 503 while the models load, then 200; inference answers; SIGTERM exits 0', async () => {
  const run = runCli(['serve', ...LISTEN, '--model', FACE, '--model', MEAN]);
  const base = await run.listening();
  assert.is(await readiness(base), 503, 'not ready while the models load');
  const loading = await infer(base, 'object_detection', 'face');
  assert.is(loading.status, 503, 'a model still loading: 503');
  assert.ok(loading.headers.get('retry-after'));
  await run.waitForLog((l) => l.msg === 'models loaded: ready', 'the models loaded');
  assert.is(await readiness(base), 200);
  const cls = await infer(base, 'classification', 'mean');
  assert.is(cls.status, 200);
  assert.is(((await cls.json()) as { top: string }).top.length > 0, true);
  assert.is((await infer(base, 'object_detection', 'face')).status, 200);

  run.child.kill('SIGTERM');
  const { code } = await run.exit;
  assert.is(code, 0);
  assert.is(run.stderr(), '');
  assert.ok(run.logs.some((l) => l.msg === 'closed'));
});

test('SIGTERM with 500 requests in flight: every one answered 200, readiness 503 during the drain, exit 0', async () => {
  const run = runCli(['serve', ...LISTEN, '--model', FACE, '--grace-period-ms', '60000'], {}, 120_000);
  const base = await run.listening();
  await run.waitForLog((l) => l.msg === 'models loaded: ready', 'the models loaded');
  const answers = Array.from({ length: 500 }, () => infer(base, 'object_detection', 'face'));
  let answered = 0;
  for (const a of answers)
    void a.then(
      () => answered++,
      () => {},
    );
  // Every request has reached its handler (its small body is read at once) before the signal.
  await waitFor(() => inferRequestsSeen(run) >= 500 || run.exited(), '500 requests received', 30_000);
  await sleep(100);
  const answeredBefore = answered;
  run.child.kill('SIGTERM');
  const draining = await run.waitForLog((l) => l.msg === 'shutting down: draining', 'the drain');
  assert.ok((draining.inFlight as number) >= 50, `requests in flight at the signal: ${String(draining.inFlight)}`);
  assert.is(answeredBefore + (draining.inFlight as number) <= 500, true);

  const seen = new Set<number>();
  while (answered < 500 && !run.exited()) {
    seen.add(await readiness(base).catch(() => 0));
    await sleep(20);
  }
  assert.ok(seen.has(503), `readiness during the drain: ${[...seen].join(', ')}`);
  const statuses = await Promise.all(answers.map((a) => a.then((r) => r.status)));
  assert.equal(
    statuses.filter((s) => s !== 200),
    [],
    'every request in flight answered 200',
  );
  const { code } = await run.exit;
  assert.is(code, 0);
  assert.is(run.stderr(), '');
  assert.ok(run.logs.some((l) => l.msg === 'requests in flight answered'));
});

test('a second signal during a long drain exits at once, code 1', async () => {
  const run = runCli(['serve', ...LISTEN, '--model', FACE, '--grace-period-ms', '60000']);
  const base = await run.listening();
  await run.waitForLog((l) => l.msg === 'models loaded: ready', 'the models loaded');
  const answers = Array.from({ length: 500 }, () => infer(base, 'object_detection', 'face').catch(() => null));
  await waitFor(() => inferRequestsSeen(run) >= 500 || run.exited(), '500 requests received', 30_000);
  run.child.kill('SIGTERM');
  await run.waitForLog((l) => l.msg === 'shutting down: draining', 'the drain');
  await sleep(200);
  assert.is(run.exited(), false, 'still draining');
  const second = Date.now();
  run.child.kill('SIGINT');
  const { code } = await run.exit;
  const ms = Date.now() - second;
  assert.is(code, 1);
  assert.ok(ms < 2000, `exited ${ms} ms after the second signal`);
  assert.ok(run.logs.some((l) => l.msg === 'second signal: exiting at once'));
  const lost = (await Promise.all(answers)).filter((a) => a === null).length;
  assert.ok(lost > 0, 'requests still in flight were cut off');
});

test.after(() => rmSync(TMP, { recursive: true, force: true }));

test.run();
