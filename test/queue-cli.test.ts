// `inference-pool worker`'s command line: --redis, --queue, --concurrency and their variables, the
// config file's pool and models, the server flags it refuses, and --help naming the worker's flags.
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ConfigError, formatHelp, parseCliArgs } from '../lib/server/config.ts';

function throwsConfigError(fn: () => unknown, expected: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, ConfigError);
    assert.match((error as Error).message, expected);
    return;
  }
  assert.unreachable(`expected a ConfigError matching ${expected}`);
}

test('worker: flags, their variables, defaults; pool settings and models as for serve', () => {
  const args = parseCliArgs(
    ['worker', '--redis', 'redis://127.0.0.1:6379', '--model', 'det=/m/det.onnx:det', '--max-batch-size', '4'],
    {},
  );
  assert.is(args.command, 'worker');
  assert.equal(args.worker, { redis: 'redis://127.0.0.1:6379', queue: 'inference-pool', concurrency: 64 });
  assert.equal(args.options.models, [{ id: 'det', path: '/m/det.onnx', task: 'object-detection' }]);
  assert.is((args.options.pool as { maxBatchSize?: number }).maxBatchSize, 4);
  const env = {
    INFERENCE_POOL_REDIS: 'rediss://r:6380/1',
    INFERENCE_POOL_QUEUE: 'gpu',
    INFERENCE_POOL_CONCURRENCY: '16',
  };
  assert.equal(parseCliArgs(['worker'], env).worker, { redis: 'rediss://r:6380/1', queue: 'gpu', concurrency: 16 });
  // Flags win over variables.
  assert.is(parseCliArgs(['worker', '--concurrency', '8'], env).worker!.concurrency, 8);
  assert.is(
    parseCliArgs(['worker', '--redis', 'redis://x', '--grace-period-ms', '500'], {}).options.server!.gracePeriodMs,
    500,
  );
});

test('worker: bad settings are named', () => {
  throwsConfigError(
    () => parseCliArgs(['worker'], {}),
    /^--redis: is required for worker \(or INFERENCE_POOL_REDIS\)$/,
  );
  throwsConfigError(
    () => parseCliArgs(['worker', '--redis', 'localhost:6379'], {}),
    /^--redis: 'localhost:6379' is not a redis/,
  );
  throwsConfigError(
    () => parseCliArgs(['worker', '--redis', 'redis://x', '--concurrency', '0'], {}),
    /^--concurrency: must be an integer of at least 1/,
  );
  throwsConfigError(
    () => parseCliArgs(['worker'], { INFERENCE_POOL_REDIS: 'redis://x', INFERENCE_POOL_CONCURRENCY: 'many' }),
    /^INFERENCE_POOL_CONCURRENCY: 'many' is not a number$/,
  );
  throwsConfigError(
    () => parseCliArgs(['worker', '--redis', 'redis://x', '--port', '1'], {}),
    /^--port: only for the serve command$/,
  );
  throwsConfigError(() => parseCliArgs(['serve', '--queue', 'q'], {}), /^--queue: only for the worker command$/);
});

test('--help names the worker command and its flags', () => {
  const help = formatHelp();
  assert.match(help, /inference-pool worker --redis/);
  for (const name of ['INFERENCE_POOL_REDIS', 'INFERENCE_POOL_QUEUE', 'INFERENCE_POOL_CONCURRENCY'])
    assert.match(help, name);
});

test.run();
