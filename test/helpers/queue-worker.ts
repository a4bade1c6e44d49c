// A queue worker in a process of its own, for the tests that kill or signal one: startWorker with
// the settings given as JSON in argv[2] (connection, name, concurrency, lock and stall intervals)
// over the queue tests' models. JSON lines on stdout: 'ready', 'holding' (once `holdAt` jobs are in
// its pool at once), and on SIGTERM 'finished' with the pool's stats, after which it exits 0.
import { InferencePool } from '../../lib/index.ts';
import { startWorker } from '../../lib/queue/index.ts';
import { QUEUE_MODELS } from './queue.ts';

const settings = JSON.parse(process.argv[2]!) as Record<string, unknown> & { holdAt?: number };
const say = (msg: string, fields: object = {}) => process.stdout.write(`${JSON.stringify({ msg, ...fields })}\n`);

const pool = await InferencePool.create({ models: QUEUE_MODELS, ...(settings.poolOptions as object) });
const worker = await startWorker({ ...settings, pool, connection: settings.connection as string });
say('ready', { pid: process.pid });

const holdAt = settings.holdAt ?? Infinity;
const timer = setInterval(() => {
  if (worker.active >= holdAt) {
    say('holding', { active: worker.active });
    clearInterval(timer);
  }
}, 5);

process.once('SIGTERM', () => {
  clearInterval(timer);
  void (async () => {
    await worker.close();
    const stats = Object.fromEntries(
      Object.entries(pool.stats()).map(([id, s]) => [id, { completed: s.completed, batches: s.batches }]),
    );
    await pool.close();
    say('finished', { stats });
    process.exit(0);
  })();
});
