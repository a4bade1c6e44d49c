// The CLI's configuration: config file, environment and flags to createServer's options; every bad
// setting stops start-up with a message naming it; --help lists every setting.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  CLI_DEFAULTS,
  ConfigError,
  formatHelp,
  loadConfig,
  parseCliArgs,
  POOL_FLAGS,
  SERVER_FLAGS,
  SETTING_FLAGS,
  validateConfig,
} from '../lib/server/config.ts';
import type { PoolOptions } from '../lib/index.ts';
import {
  DEFAULT_GRACE_PERIOD_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../lib/server/settings.ts';
import { ROOT } from './helpers/child.ts';

const TMP = join(ROOT, 'test', '.tmp', 'server-config');

function throwsConfigError(fn: () => unknown, expected: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.match((error as Error).message, expected);
    return;
  }
  assert.unreachable(`expected a ConfigError matching ${expected}`);
}

const model = { id: 'm', path: '/models/m.onnx', task: 'classification' };

test('each bad field of a config file is named', () => {
  const cases: [unknown, RegExp][] = [
    [[], /\(top level\): must be an object/],
    [{ server: { port: 70000 } }, /^cfg: server\.port: must be an integer from 0 to 65535$/],
    [{ server: { port: '9001' } }, /server\.port: must be an integer/],
    [{ server: { host: '' } }, /server\.host: must be a non-empty string/],
    [{ server: { bodyLimit: 0 } }, /server\.bodyLimit: must be an integer of at least 1/],
    [{ server: { maxImagesPerRequest: 1.5 } }, /server\.maxImagesPerRequest:/],
    [{ server: { allowUrlInput: 'yes' } }, /server\.allowUrlInput: must be true or false/],
    [{ server: { urlInput: { maxRedirects: -1 } } }, /server\.urlInput\.maxRedirects: must be an integer from 0 to 20/],
    [{ server: { urlInput: { maxBytes: 'a' } } }, /server\.urlInput\.maxBytes:/],
    [{ server: { admin: 1 } }, /server\.admin: must be true or false/],
    [{ server: { gracePeriodMs: -5 } }, /server\.gracePeriodMs:/],
    [{ server: { retryAfterSeconds: 0 } }, /server\.retryAfterSeconds:/],
    [{ server: { defaults: { confidence: 1.5 } } }, /server\.defaults\.confidence: must be a number from 0 to 1/],
    [{ server: { defaults: { maxDetections: 0 } } }, /server\.defaults\.maxDetections:/],
    [{ server: { logger: 'yes' } }, /server\.logger: must be true, false or an object/],
    [{ server: { logger: { level: 'loud' } } }, /server\.logger\.level: must be one of trace/],
    [{ server: { colour: 'red' } }, /server\.colour: unknown field/],
    [{ pool: { maxBatchSize: 0 } }, /pool\.maxBatchSize: must be an integer from 1 to 4096/],
    [{ pool: { executionProvider: 'tpu' } }, /pool\.executionProvider: must be one of cpu, cuda/],
    [{ pool: { maxQueueDelayMs: -1 } }, /pool\.maxQueueDelayMs:/],
    [{ pool: { models: [model, { ...model, id: 'b', task: 'x' }] } }, /pool\.models\[1\]\.task: must be one of/],
    [{ models: 'm.onnx' }, /^cfg: models: must be an array$/],
    [
      { models: [model, { ...model, id: 'b', task: 'detect' }] },
      /^cfg: models\[1\]\.task: must be one of classification, object-detection, instance-segmentation$/,
    ],
    [{ models: [{ id: 'm', task: 'classification' }] }, /models\[0\]\.path: is required/],
    [{ models: [{ ...model, inputSize: [640] }] }, /models\[0\]\.inputSize: must be an array of 2/],
    [{ models: [{ ...model, mean: [0.5, 'x', 0.5] }] }, /models\[0\]\.mean: must be a number or an array of 3 numbers/],
    [{ models: [{ ...model, warmup: [0] }] }, /models\[0\]\.warmup: must be true, false or an array of batch sizes/],
    [{ models: [{ ...model, classNames: ['a', 3] }] }, /models\[0\]\.classNames\[1\]: must be a non-empty string/],
    [{ models: [{ ...model, colour: 1 }] }, /models\[0\]\.colour: unknown field/],
    [{ models: [model, model] }, /models\[1\]\.id: 'm' is configured twice/],
    [{ pool: { models: [model] }, models: [model] }, /models\[0\]\.id: 'm' is configured twice/],
    [{ serve: {} }, /serve: unknown field \(known: pool, models, server\)/],
  ];
  for (const [json, expected] of cases) throwsConfigError(() => validateConfig(json, 'cfg'), expected);
});

test('a valid config file passes through; relative paths resolve against its folder', () => {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(join(TMP, 'conf'), { recursive: true });
  const file = join(TMP, 'conf', 'models.json');
  writeFileSync(
    file,
    JSON.stringify({
      pool: { maxBatchSize: 4, models: [{ id: 'a', path: 'a.onnx', task: 'object-detection' }] },
      models: [{ ...model, path: '../b.onnx', warmup: [1, 2], mean: [0.1, 0.2, 0.3] }],
      server: { port: 1234, modelsDir: 'models', defaults: { confidence: 0.25 }, logger: { level: 'warn' } },
    }),
  );
  const options = loadConfig(file);
  const pool = options.pool as PoolOptions;
  assert.is(pool.maxBatchSize, 4);
  assert.is(pool.models![0]!.path, join(TMP, 'conf', 'a.onnx'));
  assert.equal(options.models, [{ ...model, path: join(TMP, 'b.onnx'), warmup: [1, 2], mean: [0.1, 0.2, 0.3] }]);
  assert.equal(options.server, {
    port: 1234,
    modelsDir: join(TMP, 'conf', 'models'),
    defaults: { confidence: 0.25 },
    logger: { level: 'warn' },
  });

  throwsConfigError(() => loadConfig(join(TMP, 'missing.json')), /missing\.json: cannot read it \(ENOENT\)/);
  writeFileSync(join(TMP, 'bad.json'), '{ "server": ');
  throwsConfigError(() => loadConfig(join(TMP, 'bad.json')), /bad\.json: not valid JSON/);
});

test('precedence: defaults < config file < environment < flags', () => {
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, 'precedence.json');
  writeFileSync(file, JSON.stringify({ server: { port: 1000, host: '127.0.0.1', defaults: { confidence: 0.1 } } }));
  const serve = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCliArgs(['serve', ...argv], env).options;

  assert.equal(serve([]).server, { host: '0.0.0.0', port: 9001, gracePeriodMs: 10_000, logger: true });
  assert.equal(CLI_DEFAULTS, {
    host: DEFAULT_HOST,
    port: DEFAULT_PORT,
    gracePeriodMs: DEFAULT_GRACE_PERIOD_MS,
    logger: true,
  });
  assert.is(serve(['--config', file]).server!.port, 1000);
  assert.is(serve(['--config', file], { PORT: '2000' }).server!.port, 2000);
  assert.is(serve(['--config', file, '--port', '3000'], { PORT: '2000' }).server!.port, 3000);
  assert.is(serve([], { INFERENCE_POOL_CONFIG: file }).server!.port, 1000);
  const merged = serve(['--config', file, '--iou-threshold', '0.6'], { MAX_DETECTIONS: '7' }).server!;
  assert.equal(merged.defaults, { confidence: 0.1, iouThreshold: 0.6, maxDetections: 7 });
  assert.is(merged.host, '127.0.0.1');
  // An empty variable counts as unset.
  assert.is(serve(['--config', file], { PORT: '' }).server!.port, 1000);
  assert.is(parseCliArgs(['serve', '--config', file], {}).configPath, file);
});

test("environment: INFERENCE_POOL_* and Roboflow's names; INFERENCE_POOL_* wins", () => {
  const env = {
    PORT: '8080',
    MAX_BATCH_SIZE: '4',
    CONFIDENCE: '0.5',
    IOU_THRESHOLD: '0.45',
    MAX_DETECTIONS: '100',
    MAX_CANDIDATES: '1000',
    ALLOW_URL_INPUT: 'True',
    INFERENCE_POOL_MAX_BATCH_SIZE: '16',
    INFERENCE_POOL_ADMIN: 'false',
    INFERENCE_POOL_URL_TIMEOUT_MS: '500',
  };
  const { server, pool } = parseCliArgs(['serve'], env).options;
  assert.is(server!.port, 8080);
  assert.is(server!.maxImagesPerRequest, 4, "Roboflow's MAX_BATCH_SIZE: images in one request");
  assert.is((pool as PoolOptions).maxBatchSize, 16);
  assert.equal(server!.defaults, { confidence: 0.5, iouThreshold: 0.45, maxDetections: 100, maxCandidates: 1000 });
  assert.is(server!.allowUrlInput, true);
  assert.is(server!.admin, false);
  assert.equal(server!.urlInput, { timeoutMs: 500 });
  assert.is(parseCliArgs(['serve'], { PORT: '1', INFERENCE_POOL_PORT: '2' }).options.server!.port, 2);

  throwsConfigError(() => parseCliArgs(['serve'], { PORT: 'http' }), /^PORT: 'http' is not a number$/);
  throwsConfigError(() => parseCliArgs(['serve'], { CONFIDENCE: '2' }), /^CONFIDENCE: must be a number from 0 to 1$/);
  throwsConfigError(() => parseCliArgs(['serve'], { ALLOW_URL_INPUT: 'maybe' }), /^ALLOW_URL_INPUT: 'maybe' is not/);
  throwsConfigError(
    () => parseCliArgs(['serve'], { INFERENCE_POOL_EXECUTION_PROVIDER: 'tpu' }),
    /^INFERENCE_POOL_EXECUTION_PROVIDER: must be one of cpu, cuda$/,
  );
});

test('flags: every setting, booleans with --no-, log level and quiet; bad ones named', () => {
  const argv = ['serve', '--host', '::1', '--port', '0', '--api-key', 'k', '--body-limit', '1024'];
  argv.push('--max-images-per-request', '2', '--allow-url-input', '--url-allow-http', '--url-max-redirects', '0');
  argv.push('--url-max-bytes', '99', '--url-timeout-ms', '50', '--no-admin', '--models-dir', 'm');
  argv.push('--request-timeout-ms', '2', '--headers-timeout-ms', '1', '--keep-alive-timeout-ms', '3');
  argv.push('--grace-period-ms', '4', '--retry-after-seconds', '5', '--confidence', '0.1', '--iou-threshold', '0.2');
  argv.push('--max-detections', '6', '--max-candidates', '7', '--log-level', 'debug');
  argv.push('--max-batch-size', '3', '--max-queue-delay-ms', '1.5', '--max-queue-size', '9', '--timeout-ms', '250');
  argv.push('--priority-aging-ms', '0', '--preprocess-threads', '1', '--postprocess-threads', '1');
  argv.push('--intra-op-threads', '2', '--execution-provider', 'cuda', '--device-id', '1');
  argv.push('--max-image-pixels', '1000', '--ort-library-path', '/ort/libonnxruntime.so');
  const { options } = parseCliArgs(argv, {}, '/srv');
  assert.equal(options, {
    server: {
      host: '::1',
      port: 0,
      apiKey: 'k',
      bodyLimit: 1024,
      maxImagesPerRequest: 2,
      allowUrlInput: true,
      urlInput: { allowHttp: true, maxRedirects: 0, maxBytes: 99, timeoutMs: 50 },
      admin: false,
      modelsDir: '/srv/m',
      requestTimeoutMs: 2,
      headersTimeoutMs: 1,
      keepAliveTimeoutMs: 3,
      gracePeriodMs: 4,
      retryAfterSeconds: 5,
      defaults: { confidence: 0.1, iouThreshold: 0.2, maxDetections: 6, maxCandidates: 7 },
      logger: { level: 'debug' },
    },
    pool: {
      maxBatchSize: 3,
      maxQueueDelayMs: 1.5,
      maxQueueSize: 9,
      timeoutMs: 250,
      priorityAgingMs: 0,
      preprocessThreads: 1,
      postprocessThreads: 1,
      intraOpThreads: 2,
      executionProvider: 'cuda',
      deviceId: 1,
      maxImagePixels: 1000,
      ortLibraryPath: '/ort/libonnxruntime.so',
    },
  });
  const serve = (...a: string[]) => parseCliArgs(['serve', ...a], { INFERENCE_POOL_ADMIN: 'false' }).options.server!;
  assert.is(serve('--admin').admin, true, 'a flag beats the environment');
  assert.is(serve('--quiet', '--log-level', 'warn').logger, false, '--quiet wins');
  assert.is(serve('--no-allow-url-input').allowUrlInput, false);

  throwsConfigError(
    () => parseCliArgs(['serve', '--port', '65536'], {}),
    /^--port: must be an integer from 0 to 65535$/,
  );
  throwsConfigError(() => parseCliArgs(['serve', '--port', '9k'], {}), /^--port: '9k' is not a number$/);
  throwsConfigError(() => parseCliArgs(['serve', '--port'], {}), /^--port: needs a value$/);
  throwsConfigError(() => parseCliArgs(['serve', '--quiet=yes'], {}), /^--quiet: takes no value$/);
  throwsConfigError(() => parseCliArgs(['serve', '--log-level', 'loud'], {}), /^--log-level\.level: must be one of/);
  throwsConfigError(() => parseCliArgs(['serve', '--max-batch', '8'], {}), /^--max-batch: unknown flag/);
  throwsConfigError(
    () => parseCliArgs(['serve', '--request-timeout-ms', '5000'], {}),
    /^server\.headersTimeoutMs \(--headers-timeout-ms\): 10000 must be at most server\.requestTimeoutMs \(--request-timeout-ms\), 5000$/,
  );
  assert.is(parseCliArgs(['serve', '--request-timeout-ms', '0'], {}).options.server!.requestTimeoutMs, 0);
  assert.equal([DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_HEADERS_TIMEOUT_MS], [30_000, 10_000], "settings.ts's timeouts");
  throwsConfigError(
    () => parseCliArgs(['srv'], {}),
    /^srv: unknown command \(commands: serve, worker, help, version\)$/,
  );
  throwsConfigError(() => parseCliArgs(['serve', 'models.json'], {}), /^models\.json: unexpected argument/);
  throwsConfigError(() => parseCliArgs(['--port', '1'], {}), /^command: missing/);
});

test('--model id=path[:task]: task names and aliases, default object-detection, paths against the working folder', () => {
  const models = (env: NodeJS.ProcessEnv, ...argv: string[]) =>
    parseCliArgs(['serve', ...argv.flatMap((m) => ['--model', m])], env, '/srv').options.models;
  assert.equal(models({}, 'a=a.onnx', 'b=/m/b.onnx:cls', 'c=c.onnx:seg', 'd=d.onnx:detection'), [
    { id: 'a', path: '/srv/a.onnx', task: 'object-detection' },
    { id: 'b', path: '/m/b.onnx', task: 'classification' },
    { id: 'c', path: '/srv/c.onnx', task: 'instance-segmentation' },
    { id: 'd', path: '/srv/d.onnx', task: 'object-detection' },
  ]);
  assert.equal(models({}, 'e=/m/v1:2/e.onnx:instance-segmentation', 'f=/m/v1:2/f.onnx'), [
    { id: 'e', path: '/m/v1:2/e.onnx', task: 'instance-segmentation' },
    { id: 'f', path: '/m/v1:2/f.onnx', task: 'object-detection' },
  ]);
  assert.equal(models({ INFERENCE_POOL_MODEL: 'a=a.onnx:det, b=b.onnx:classification' }, 'b=/x.onnx:seg'), [
    { id: 'a', path: '/srv/a.onnx', task: 'object-detection' },
    { id: 'b', path: '/x.onnx', task: 'instance-segmentation' },
  ]);
  throwsConfigError(() => models({}, 'a.onnx'), /^--model: 'a\.onnx': expected id=path\[:task\]$/);
  throwsConfigError(() => models({}, 'a='), /^--model: 'a=': expected id=path/);
  throwsConfigError(() => models({}, 'a=a.onnx:detect'), /^--model: 'a=a\.onnx:detect': unknown task 'detect'/);
  throwsConfigError(() => models({ INFERENCE_POOL_MODEL: 'x' }), /^INFERENCE_POOL_MODEL: 'x': expected/);
  throwsConfigError(() => models({}, 'a=a.onnx', 'a=b.onnx'), /^--model: 'a' is given twice$/);

  // A model on the command line replaces the config file's of the same id.
  mkdirSync(TMP, { recursive: true });
  const file = join(TMP, 'models.json');
  writeFileSync(
    file,
    JSON.stringify({ pool: { models: [{ id: 'p', path: '/p.onnx', task: 'classification' }] }, models: [model] }),
  );
  const { options } = parseCliArgs(['serve', '--config', file, '--model', 'm=/n.onnx:seg', '--model', 'p=/q.onnx'], {});
  assert.equal((options.pool as PoolOptions).models, []);
  assert.equal(options.models, [
    { id: 'm', path: '/n.onnx', task: 'instance-segmentation' },
    { id: 'p', path: '/q.onnx', task: 'object-detection' },
  ]);
});

/** The fields an interface of lib/server/options.ts or lib/types.ts declares, read from the source. */
function interfaceFields(file: string, name: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const body = new RegExp(`export interface ${name}(?: extends [\\w, ]+)? \\{([\\s\\S]*?)\\n\\}`).exec(source);
  assert.ok(body, `${name} in ${file}`);
  return [...body[1]!.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!);
}

test('--help lists every flag, with its variables and default; every setting of the server and the pool has a flag', () => {
  const help = formatHelp();
  for (const flag of SETTING_FLAGS) {
    const line = help.split('\n').find((l) => new RegExp(`^ {2}--(\\[no-\\])?${flag.name}\\b`).test(l));
    assert.ok(line, `--${flag.name} is in --help`);
    for (const env of flag.env) assert.ok(line.includes(env), `--${flag.name}'s line names ${env}`);
    assert.ok(line.includes(` ${flag.default} `), `--${flag.name}'s line shows its default`);
    if (flag.name !== 'ort-library-path') {
      assert.is(flag.env[0], `INFERENCE_POOL_${flag.name.toUpperCase().replaceAll('-', '_')}`);
    }
  }
  for (const name of ['--config', '--model', '--help', '--version', 'INFERENCE_POOL_CONFIG', 'INFERENCE_POOL_MODEL']) {
    assert.ok(help.includes(name), `${name} is in --help`);
  }

  const paths = new Set(SETTING_FLAGS.map((f) => f.path));
  const settings = [
    // logger has --log-level and --quiet; the nested objects have flags of their own; a predicate is no flag.
    ...interfaceFields('lib/server/options.ts', 'ServerConfig')
      .filter((f) => !['urlInput', 'defaults'].includes(f))
      .map((f) => `server.${f}`),
    ...interfaceFields('lib/server/options.ts', 'UrlInputOptions')
      .filter((f) => f !== 'isAllowedAddress')
      .map((f) => `server.urlInput.${f}`),
    ...interfaceFields('lib/server/options.ts', 'RequestDefaults').map((f) => `server.defaults.${f}`),
    ...interfaceFields('lib/types.ts', 'PoolOptions')
      .filter((f) => f !== 'models')
      .map((f) => `pool.${f}`),
  ];
  assert.ok(settings.length > 30, `read the interfaces (${settings.length} fields)`);
  for (const setting of settings) assert.ok(paths.has(setting), `${setting} has a flag`);
  assert.is(SERVER_FLAGS.length + POOL_FLAGS.length, SETTING_FLAGS.length);
  assert.is(new Set(SETTING_FLAGS.map((f) => f.name)).size, SETTING_FLAGS.length, 'flag names are unique');

  assert.is(parseCliArgs(['--help'], {}).command, 'help');
  assert.is(parseCliArgs(['help'], {}).command, 'help');
  assert.is(parseCliArgs(['serve', '-h', '--port', 'x'], {}).command, 'help');
  assert.is(parseCliArgs([], {}).command, 'help');
  assert.is(parseCliArgs(['--version'], {}).command, 'version');
});

test.after(() => rmSync(TMP, { recursive: true, force: true }));

test.run();
