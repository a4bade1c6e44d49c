#!/usr/bin/env node
// The inference-pool command. `serve`: an HTTP server for the pool (createServer) on --host/--port,
// JSON logs on stdout. Shutdown on SIGTERM or SIGINT: readiness turns 503 and new inference requests
// are refused (503, Retry-After, Connection: close) while the requests in flight finish, for at most
// --grace-period-ms; then the listener and the pool close and the process exits 0. A second signal
// exits at once with code 1. Exit 1 also for a bad configuration (one line on stderr, naming the
// setting), a model that fails to load at start-up, or a port that cannot be listened on.
// `worker`: runs jobs from a Redis queue on a pool (bin/worker.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';

import { CLI_DEFAULTS, ConfigError, formatHelp, parseCliArgs } from '../lib/server/config.js';
import type { CreateServerOptions } from '../lib/server/index.js';

/** Past the grace period, how long closing the listener and the pool may take before exit 1. */
const CLOSE_MARGIN_MS = 15_000;

/** One line on stderr and exit 1: what the operator needs, without a stack. */
function fail(message: string): never {
  process.stderr.write(`inference-pool: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(1);
}

function packageVersion(): string {
  // bin/inference-pool.ts in a checkout, dist/bin/inference-pool.js once built.
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return 'unknown';
}

/** First signal: drain, then close (listener, then the pool) and exit 0. Second signal: exit 1 at once. */
function shutdownOnSignals(app: FastifyInstance, gracePeriodMs: number): void {
  closeWithGrace(
    {
      delay: gracePeriodMs + CLOSE_MARGIN_MS,
      logger: { error: (message: unknown) => app.log.error(message) },
      onSecondSignal: (signal) => app.log.warn({ signal }, 'second signal: exiting at once'),
      onTimeout: (delay) => app.log.error(`shutdown took more than ${delay} ms: exiting`),
    },
    async ({ signal, err }) => {
      if (err) app.log.error({ err }, 'uncaught error: shutting down');
      const state = app.inferenceServer;
      app.log.info({ signal, inFlight: state.inFlight, gracePeriodMs }, 'shutting down: draining');
      // The listener keeps accepting while draining, only to answer 503, so probes see readiness turn.
      const drained = await state.drain(gracePeriodMs);
      if (drained) app.log.info('requests in flight answered');
      else app.log.warn({ inFlight: state.inFlight }, 'grace period over with requests in flight');
      await app.close();
      app.log.info('closed');
    },
  );
}

async function serve(options: CreateServerOptions): Promise<void> {
  // Imported here, so that --help and a bad configuration never need the native addon.
  const { createServer } = await import('../lib/server/index.js');
  const server = options.server ?? {};
  // Listening before the models have loaded lets probes see readiness 503, then 200.
  const app = await createServer({ ...options, waitForModels: false });
  shutdownOnSignals(app, server.gracePeriodMs ?? CLI_DEFAULTS.gracePeriodMs);
  app.inferenceServer.loaded.then(
    () => app.log.info({ models: app.inferencePool.models.map((m) => m.id) }, 'models loaded: ready'),
    (error: unknown) => {
      // A server that will never be ready is a failed start: let the supervisor see it.
      app.log.fatal({ err: error }, 'a model failed to load: exiting');
      process.exit(1);
    },
  );
  try {
    // Fastify logs "Server listening at http://<host>:<port>" (the bound port with --port 0).
    // A deep accept queue: 1000 clients connecting at once overflow Node's default of 511 (measured:
    // thousands of listen-queue overflows and connection resets in bench:http); the kernel caps it at somaxconn.
    await app.listen({
      host: server.host ?? CLI_DEFAULTS.host,
      port: server.port ?? CLI_DEFAULTS.port,
      backlog: 4096,
    });
  } catch (error) {
    app.log.fatal({ err: error }, 'cannot listen');
    process.exit(1);
  }
}

async function main(argv: string[]): Promise<void> {
  const args = parseCliArgs(argv, process.env);
  if (args.command === 'help') process.stdout.write(formatHelp());
  else if (args.command === 'version') process.stdout.write(`${packageVersion()}\n`);
  else if (args.command === 'worker') {
    // Imported here too: the queue's libraries and the addon only for the worker.
    const { runWorker } = await import('./worker.js');
    await runWorker(args.options, args.worker!, args.options.server?.gracePeriodMs ?? CLI_DEFAULTS.gracePeriodMs);
  } else await serve(args.options);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) fail(error.message);
  // createServer refused the options (the pool's or the server's own checks) or the pool could not start.
  fail(error instanceof Error ? error.message : String(error));
});
