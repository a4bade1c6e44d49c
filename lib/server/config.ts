// From the command line, the environment and a config file to createServer's options. Precedence:
// defaults < config file < environment < command-line flags. Nothing here prints or exits; a bad
// setting throws a ConfigError whose message names it (field, flag or variable).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import type { ModelSpec, PoolOptions, Task } from '../types.js';
import { isPlainObject, path as pathCheck, type CheckContext } from './config-checks.js';
import { ConfigError, invalid } from './config-error.js';
import { checkConfig, TASKS } from './config-schema.js';
import { envName, SERVER_FLAGS, SETTING_FLAGS, type Flag } from './cli-flags.js';
import type { CreateServerOptions } from './options.js';

export { ConfigError } from './config-error.js';
export { SETTING_FLAGS, SERVER_FLAGS, POOL_FLAGS, type Flag } from './cli-flags.js';

export type Command = 'serve' | 'worker' | 'help' | 'version';
const COMMANDS: readonly Command[] = ['serve', 'worker', 'help', 'version'];

/** `worker`: the queue it serves (inference-pool/queue). */
export interface WorkerArgs {
  /** redis:// or rediss:// URL (--redis, else $INFERENCE_POOL_REDIS). */
  redis: string;
  /** Queue name (--queue, else $INFERENCE_POOL_QUEUE). */
  queue: string;
  /** Jobs in the pool at once (--concurrency, else $INFERENCE_POOL_CONCURRENCY). */
  concurrency: number;
}

export const WORKER_CLI_DEFAULTS = { queue: 'inference-pool', concurrency: 64 } as const;

/** The server's flags that mean something to `worker` too (its shutdown and its logs). */
const WORKER_SERVER_FLAGS = ['grace-period-ms', 'log-level', 'quiet'];

export interface CliArgs {
  command: Command;
  /** The config file read, as given (--config, else $INFERENCE_POOL_CONFIG). */
  configPath?: string;
  /** For `serve`: every layer merged, with the CLI's defaults (host, port, gracePeriodMs, logger). */
  options: CreateServerOptions;
  /** For `worker`: the queue to serve (`options` holds the pool, the models and the log settings). */
  worker?: WorkerArgs;
}

/**
 * What the CLI fills in itself: createServer does not listen, and logs nothing by default. The
 * values of settings.ts's DEFAULT_* (a test keeps them equal), not imported: settings.ts reaches the
 * native addon, and parsing the command line should not load it.
 */
// settings.ts's, for the check below.
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

export const CLI_DEFAULTS = {
  host: '0.0.0.0',
  port: 9001,
  gracePeriodMs: 10_000,
  logger: true,
} as const;

/** `--model` task names: the task's own, and short ones. */
const TASK_ALIASES: Record<string, Task> = {
  classification: 'classification',
  cls: 'classification',
  'object-detection': 'object-detection',
  detection: 'object-detection',
  det: 'object-detection',
  'instance-segmentation': 'instance-segmentation',
  segmentation: 'instance-segmentation',
  seg: 'instance-segmentation',
};

/** The flags that are not settings, as parseArgs takes them, and their variables. */
const OTHER_FLAGS = {
  config: { type: 'string' },
  model: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  redis: { type: 'string' },
  queue: { type: 'string' },
  concurrency: { type: 'string' },
} as const;
const WORKER_FLAGS = ['redis', 'queue', 'concurrency'] as const;
const CONFIG_ENV = envName('config');
const MODEL_ENV = envName('model');

/**
 * `id=path[:task]`: the task is the word after the last ':' (see TASK_ALIASES; an unknown word is an
 * error); without one the whole rest is the path and the task is object-detection. Relative paths resolve against `baseDir`.
 */
export function parseModelArg(arg: string, at: string, baseDir: string): ModelSpec {
  const eq = arg.indexOf('=');
  if (eq <= 0 || eq === arg.length - 1) invalid(at, `'${arg}': expected id=path[:task]`);
  const id = arg.slice(0, eq);
  let path = arg.slice(eq + 1);
  let task: Task = 'object-detection';
  const colon = path.lastIndexOf(':');
  // A suffix that is no word (a path with a ':' in it) is part of the path.
  if (colon >= 0 && /^[a-z-]+$/.test(path.slice(colon + 1))) {
    const named = TASK_ALIASES[path.slice(colon + 1)];
    if (!named) {
      invalid(at, `'${arg}': unknown task '${path.slice(colon + 1)}' (tasks: ${Object.keys(TASK_ALIASES).join(', ')})`);
    }
    task = named;
    path = path.slice(0, colon);
  }
  return { id, path: pathCheck(path, at, { baseDir }) as string, task };
}

/** Text of a flag or variable as its type: strict numbers, and true/false/1/0/yes/no/on/off. */
function fromText(text: string, type: Flag['type'], at: string): unknown {
  if (type === 'string') return text;
  const t = text.trim();
  if (type === 'number') {
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    return invalid(at, `'${text}' is not a number`);
  }
  const word = t.toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(word)) return true;
  if (['false', '0', 'no', 'off'].includes(word)) return false;
  return invalid(at, `'${text}' is not true or false`);
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]!] = value;
}

/** One layer of settings in the config file's shape, from `read` (the flag's raw value and its label). */
function settingsLayer(
  read: (flag: Flag) => { value: unknown; at: string } | undefined,
  ctx: CheckContext,
): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  for (const flag of SETTING_FLAGS) {
    const got = read(flag);
    if (!got) continue;
    const typed = typeof got.value === 'string' ? fromText(got.value, flag.type, got.at) : got.value;
    const setting = flag.toSetting ? flag.toSetting(typed) : typed;
    if (setting !== undefined) setPath(layer, flag.path, flag.check(setting, got.at, ctx));
  }
  return layer;
}

/** Objects merge key by key; anything else (arrays too) from `over` replaces; undefined leaves it. */
function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (!isPlainObject(base) || !isPlainObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) out[key] = merge(base[key], value);
  return out;
}

/** The environment's value for a flag: its first variable that is set and not empty. */
function fromEnv(env: NodeJS.ProcessEnv, names: string[]): { value: string; at: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, at: name };
  }
  return undefined;
}

/**
 * Reads and checks a config file, `{ pool, models, server }`; relative paths in it resolve against
 * its folder. Throws a ConfigError naming the file and the field.
 */
export function loadConfig(file: string, cwd = process.cwd()): CreateServerOptions {
  const full = resolve(cwd, file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return validateConfig(json, file, dirname(full));
}

/**
 * Checks a parsed config (the file's shape) and returns createServer's options. `source` prefixes
 * the messages; relative paths resolve against `baseDir`.
 */
export function validateConfig(json: unknown, source: string, baseDir = process.cwd()): CreateServerOptions {
  return checkConfig(json, source, { baseDir });
}

/** Later models replace earlier ones of the same id, wherever those were configured. */
function mergeModels(options: CreateServerOptions, later: ModelSpec[]): void {
  const byId = new Map((options.models ?? []).map((m) => [m.id, m]));
  for (const m of later) byId.set(m.id, m);
  if (byId.size > 0) options.models = [...byId.values()];
  const pool = options.pool as PoolOptions | undefined;
  if (pool?.models) pool.models = pool.models.filter((m) => !later.some((l) => l.id === m.id));
}

/** Node refuses a headers timeout longer than a (non-zero) request timeout; say so in our terms. */
function checkTimeouts(options: CreateServerOptions): void {
  const request = options.server?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headers = options.server?.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
  if (request > 0 && headers > request) {
    invalid(
      'server.headersTimeoutMs (--headers-timeout-ms)',
      `${headers} must be at most server.requestTimeoutMs (--request-timeout-ms), ${request}`,
    );
  }
}

/** Within one layer a model id may appear once (across layers the later replaces the earlier). */
function uniqueIds(models: ModelSpec[], at: string): void {
  const ids = new Set<string>();
  for (const m of models) {
    if (ids.has(m.id)) invalid(at, `'${m.id}' is given twice`);
    ids.add(m.id);
  }
}

function parseFlags(argv: string[]) {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    ...OTHER_FLAGS,
  };
  for (const flag of SETTING_FLAGS) {
    options[flag.name] = { type: flag.type === 'boolean' ? 'boolean' : 'string' };
    if (flag.negatable) options[`no-${flag.name}`] = { type: 'boolean' };
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    if (unknown) invalid(unknown[1]!, 'unknown flag (inference-pool --help lists them)');
    const missing = /^Option '(-[\w-]+)[^']*' argument missing/.exec(message);
    if (missing) invalid(missing[1]!, 'needs a value');
    const extra = /^Option '(-[\w-]+)[^']*' does not take an argument/.exec(message);
    if (extra) invalid(extra[1]!, 'takes no value');
    throw new ConfigError(message.split('\n')[0]!);
  }
}

/**
 * `inference-pool <command> [flags]` to what to do and, for `serve`, createServer's options. Reads
 * the config file if one is named (--config, else $INFERENCE_POOL_CONFIG); relative paths on the
 * command line and in the environment resolve against `cwd`.
 */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv, cwd = process.cwd()): CliArgs {
  const { values, positionals } = parseFlags(argv);
  const [first, ...rest] = positionals;
  if (values.help || first === 'help') return { command: 'help', options: {} };
  if (values.version || first === 'version') return { command: 'version', options: {} };
  if (first === undefined) {
    if (argv.length === 0) return { command: 'help', options: {} };
    invalid('command', `missing (commands: ${COMMANDS.join(', ')})`);
  }
  if (!COMMANDS.includes(first as Command)) invalid(first, `unknown command (commands: ${COMMANDS.join(', ')})`);
  if (rest.length > 0) invalid(rest[0]!, 'unexpected argument (flags start with --)');

  const ctx = { baseDir: cwd };
  const configFromEnv = fromEnv(env, [CONFIG_ENV]);
  const configPath = (values.config as string | undefined) ?? configFromEnv?.value;
  const file = configPath === undefined ? {} : loadConfig(configPath, cwd);

  const envLayer = settingsLayer((flag) => fromEnv(env, flag.env), ctx);
  const flagLayer = settingsLayer((flag) => {
    if (flag.negatable && values[`no-${flag.name}`]) return { value: false, at: `--no-${flag.name}` };
    const value = values[flag.name];
    return value === undefined ? undefined : { value, at: `--${flag.name}` };
  }, ctx);

  const options = merge(
    merge(merge({ server: { ...CLI_DEFAULTS } }, file), envLayer),
    flagLayer,
  ) as CreateServerOptions;
  const envModels = (fromEnv(env, [MODEL_ENV])?.value ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .map((s) => parseModelArg(s.trim(), MODEL_ENV, cwd));
  const flagModels = ((values.model as string[] | undefined) ?? []).map((s) => parseModelArg(s, '--model', cwd));
  uniqueIds(envModels, MODEL_ENV);
  uniqueIds(flagModels, '--model');
  mergeModels(options, [...envModels, ...flagModels]);
  checkTimeouts(options);
  const command = first as Command;
  if (command !== 'worker') {
    const given = WORKER_FLAGS.find((name) => values[name] !== undefined);
    if (given) invalid(`--${given}`, 'only for the worker command');
    return { command, configPath, options };
  }
  const serverOnly = SERVER_FLAGS.find(
    (f) => !WORKER_SERVER_FLAGS.includes(f.name) && (values[f.name] !== undefined || values[`no-${f.name}`]),
  );
  if (serverOnly) invalid(`--${serverOnly.name}`, 'only for the serve command');
  return { command, configPath, options, worker: workerArgs(values, env) };
}

/** --redis (required), --queue and --concurrency, else their variables. */
function workerArgs(values: Record<string, unknown>, env: NodeJS.ProcessEnv): WorkerArgs {
  const read = (name: (typeof WORKER_FLAGS)[number]) => {
    const flag = values[name] as string | undefined;
    return flag !== undefined ? { value: flag, at: `--${name}` } : fromEnv(env, [envName(name)]);
  };
  const redis = read('redis');
  if (!redis) invalid('--redis', `is required for worker (or ${envName('redis')})`);
  if (!/^rediss?:\/\/[^/\s]/.test(redis.value))
    invalid(redis.at, `'${redis.value}' is not a redis:// or rediss:// URL`);
  const queue = read('queue');
  if (queue && queue.value.trim() === '') invalid(queue.at, 'must not be empty');
  const concurrency = read('concurrency');
  let jobs: number = WORKER_CLI_DEFAULTS.concurrency;
  if (concurrency) {
    jobs = fromText(concurrency.value, 'number', concurrency.at) as number;
    if (!Number.isInteger(jobs) || jobs < 1)
      invalid(concurrency.at, `must be an integer of at least 1, got '${concurrency.value}'`);
  }
  return { redis: redis.value, queue: queue?.value ?? WORKER_CLI_DEFAULTS.queue, concurrency: jobs };
}

const pad = (s: string, n: number) => s.padEnd(n);

/** Every flag with its variables and default, for --help. */
export function formatHelp(): string {
  const rows: [string, string, string, string][] = [
    ['--config <file>', CONFIG_ENV, 'none', 'JSON config file: { pool, models, server }'],
    ['--model <id=path[:task]>', `${MODEL_ENV} (comma-separated)`, 'none', 'a model to load; repeatable'],
  ];
  for (const f of SETTING_FLAGS) {
    const name =
      f.type === 'boolean'
        ? f.negatable
          ? `--[no-]${f.name}`
          : `--${f.name}`
        : `--${f.name} <${f.type === 'number' ? 'n' : 'value'}>`;
    rows.push([name, f.env.join(', '), f.default, f.help]);
  }
  rows.push(
    ['--redis <url>', envName('redis'), 'none', 'worker: the Redis to take jobs from (redis:// or rediss://)'],
    ['--queue <name>', envName('queue'), WORKER_CLI_DEFAULTS.queue, 'worker: the queue to serve'],
    [
      '--concurrency <n>',
      envName('concurrency'),
      String(WORKER_CLI_DEFAULTS.concurrency),
      'worker: jobs in the pool at once',
    ],
    ['--help, -h', '', '', 'this text'],
    ['--version', '', '', "the package's version"],
  );
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)) + 2);
  const table = rows.map((r) =>
    `  ${pad(r[0], widths[0]!)}${pad(r[1], widths[1]!)}${pad(r[2], widths[2]!)}${r[3]}`.trimEnd(),
  );
  return [
    'Usage: inference-pool serve [--config models.json] [--model id=path[:task]]... [flags]',
    '       inference-pool worker --redis redis://host:6379 [--queue inference-pool] [--concurrency 64] [--config models.json] [--model id=path[:task]]...',
    '       inference-pool help | --help | --version',
    '',
    'serve: loads the models and answers HTTP requests until SIGTERM or SIGINT, then finishes the',
    'requests in flight (--grace-period-ms) and exits 0; a second signal exits at once (code 1).',
    'worker: loads the models and runs inference jobs from a Redis queue (inference-pool/queue) until',
    'SIGTERM or SIGINT, then stops taking jobs, finishes those it has, closes the pool and exits 0.',
    'It takes the pool and model settings, --grace-period-ms, --log-level and --quiet; other server flags are for serve.',
    `--model tasks: ${Object.keys(TASK_ALIASES).join(', ')}; default object-detection.`,
    'Precedence: defaults < config file < environment < flags. An empty variable counts as unset.',
    `Config file fields: pool (PoolOptions), models (ModelSpec[]), server (ServerConfig); task one of ${TASKS.join(', ')}.`,
    '',
    `  ${pad('flag', widths[0]!)}${pad('environment', widths[1]!)}${pad('default', widths[2]!)}meaning`,
    ...table,
    '',
  ].join('\n');
}
