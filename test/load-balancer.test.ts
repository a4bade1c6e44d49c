// Replicas behind a load balancer: Debian's HAProxy running the shipped examples/haproxy/haproxy.cfg
// (loopback addresses and ports substituted, every other setting as shipped) in front of two
// `inference-pool serve` processes, under continuous load from 16 clients. A rolling restart (SIGTERM
// one replica, wait until it is back in rotation, then the other) fails no request; a replica killed
// with SIGKILL fails at most the requests it held, traffic moves to the other, and once restarted it
// is back in rotation. Every 200 body is checked against the replica's own answer for that image.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ROOT } from './helpers/child.ts';
import { runCli } from './helpers/cli.ts';
import type { CliRun } from './helpers/cli.ts';
import { haproxyBinary, loopbackConfig, shippedConfig, startHaproxy } from './helpers/haproxy.ts';
import { freePort } from './helpers/ports.ts';
import type { Haproxy } from './helpers/haproxy.ts';
import { sleep, waitFor } from './helpers/models.ts';
import { TRAINED, postJson, shapesImage, withoutIds } from './helpers/server.ts';

const TMP = join(ROOT, 'test', '.tmp', 'load-balancer');
const CLIENTS = 16;
const IMAGES = 8;
// One thread per stage: two replicas, HAProxy and 16 clients share two cores here.
const REPLICA_ARGS = [
  'serve',
  '--host',
  '127.0.0.1',
  '--model',
  `det=${TRAINED}shapes-det.onnx:det`,
  '--preprocess-threads',
  '1',
  '--postprocess-threads',
  '1',
  '--intra-op-threads',
  '1',
];
const bodies = Array.from({ length: IMAGES }, (_, i) => ({
  model_id: 'det',
  image: { type: 'base64', value: shapesImage(i).toString('base64') },
}));

interface Replica {
  name: string;
  port: number;
  run: CliRun;
}

/** `inference-pool serve` on `port` (0: any), resolved once its models have loaded. */
async function startReplica(name: string, port = 0): Promise<Replica> {
  const run = runCli([...REPLICA_ARGS, '--port', String(port)], {}, 300_000);
  const base = await run.listening(60_000);
  await run.waitForLog((l) => l.msg === 'models loaded: ready', `${name}: models loaded`, 60_000);
  return { name, port: Number(new URL(base).port), run };
}

interface Outcome {
  start: number;
  end: number;
  status: number;
  /** A 200 whose predictions are the replica's own for that image. */
  correct: boolean;
  error?: string;
}

/** CLIENTS loops, each sending its next request as soon as the last one is answered. */
class Load {
  readonly outcomes: Outcome[] = [];
  inFlight = 0;
  #running = true;
  readonly #loops: Promise<void>[];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

  constructor(base: string, expected: string[]) {
    this.#loops = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = client; this.#running; i += CLIENTS) {
        const image = i % IMAGES;
        const start = Date.now();
        this.inFlight++;
        try {
          const answer = await postJson(base, '/infer/object_detection', bodies[image], this.#agent);
          let correct = false;
          if (answer.status === 200) {
            const json = answer.json<{ predictions: { detection_id?: string }[] }>();
            correct = JSON.stringify(withoutIds(json.predictions)) === expected[image];
          }
          this.outcomes.push({ start, end: Date.now(), status: answer.status, correct });
        } catch (error) {
          this.outcomes.push({ start, end: Date.now(), status: 0, correct: false, error: String(error) });
        } finally {
          this.inFlight--;
        }
      }
    });
  }

  async stop(): Promise<Outcome[]> {
    this.#running = false;
    await Promise.all(this.#loops);
    this.#agent.destroy();
    return this.outcomes;
  }
}

const failed = (outcomes: Outcome[]) => outcomes.filter((o) => o.status !== 200);
const describe = (outcomes: Outcome[]) =>
  outcomes
    .slice(0, 10)
    .map((o) => `${o.status}${o.error ? ` ${o.error}` : ''}`)
    .join('; ');

let haproxy: Haproxy | undefined;
let load: Load | undefined;
const replicas: Replica[] = [];
let expected: string[] = [];

const statNumber = async (name: string, field: string) => Number((await haproxy!.server(name))[field]);
const status = async (name: string) => (await haproxy!.server(name)).status ?? '';

/** Polls `show stat` until replica `name` has status `want` ('UP', 'DOWN'); returns the ms it took. */
async function waitForStatus(name: string, want: string, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  let last = '';
  for (;;) {
    last = await status(name);
    if (last === want) return Date.now() - started;
    if (Date.now() - started > timeoutMs)
      assert.unreachable(`${name}: ${want} in HAProxy within ${timeoutMs} ms (${last})`);
    await sleep(25);
  }
}

test('the shipped haproxy.cfg passes haproxy -c; the loopback variant changes only addresses and the socket', () => {
  const binary = haproxyBinary();
  assert.ok(binary, "haproxy is installed (node scripts/setup.mjs installs Debian's haproxy)");
  const shipped = shippedConfig();
  const variant = loopbackConfig(shipped, { frontend: 1, stats: 2, replicas: [3, 4] }, '/tmp/x.sock');
  const a = shipped.split('\n');
  const b = variant.split('\n');
  assert.is(b.length, a.length);
  const changed = a.flatMap((line, i) => (line === b[i] ? [] : [b[i]!.trim()]));
  assert.equal(changed, [
    'stats socket /tmp/x.sock mode 660 level admin',
    'bind 127.0.0.1:1',
    'server replica1 127.0.0.1:3',
    'server replica2 127.0.0.1:4',
    'bind 127.0.0.1:2',
  ]);
});

test('two replicas behind HAProxy: a rolling restart under continuous load fails no request', async () => {
  mkdirSync(TMP, { recursive: true });
  replicas.push(...(await Promise.all([startReplica('replica1'), startReplica('replica2')])));
  const [frontend, statsPort] = [await freePort(), await freePort()];
  const socket = join(TMP, 'admin.sock');
  const config = loopbackConfig(
    shippedConfig(),
    { frontend, stats: statsPort, replicas: replicas.map((r) => r.port) },
    socket,
  );
  haproxy = await startHaproxy(config, TMP, frontend, socket);
  for (const r of replicas) await waitForStatus(r.name, 'UP');

  // The answer for each image, from a replica directly: every 200 through HAProxy must carry the same.
  const direct = `http://127.0.0.1:${replicas[0]!.port}`;
  expected = await Promise.all(
    bodies.map(async (body) => {
      const answer = await postJson(direct, '/infer/object_detection', body);
      assert.is(answer.status, 200);
      const predictions = answer.json<{ predictions: { detection_id?: string }[] }>().predictions;
      assert.ok(predictions.length > 0, 'the shapes are detected');
      return JSON.stringify(withoutIds(predictions));
    }),
  );

  const backendBefore = (await haproxy.stats()).find((r) => r.pxname === 'replicas' && r.svname === 'BACKEND')!;
  load = new Load(haproxy.base, expected);
  await sleep(2000);
  const report: string[] = [];
  for (const [i, old] of replicas.entries()) {
    await waitFor(() => load!.inFlight >= CLIENTS / 2, 'clients in flight', 10_000);
    old.run.child.kill('SIGTERM');
    const signalled = Date.now();
    const draining = await old.run.waitForLog((l) => l.msg === 'shutting down: draining', `${old.name}: draining`);
    const outOfRotationMs = await waitForStatus(old.name, 'DOWN', 10_000);
    const { code } = await old.run.exit;
    assert.is(code, 0, `${old.name} exits 0 after its drain`);
    assert.ok(
      old.run.logs.some((l) => l.msg === 'requests in flight answered'),
      `${old.name}: every request in flight answered`,
    );
    const exitedMs = Date.now() - signalled;
    // The same port: HAProxy's server line does not change.
    const fresh = await startReplica(old.name, old.port);
    assert.is(fresh.port, old.port);
    replicas[i] = fresh;
    const before = await statNumber(old.name, 'hrsp_2xx');
    const backInMs = await waitForStatus(old.name, 'UP');
    await sleep(1500);
    const served = (await statNumber(old.name, 'hrsp_2xx')) - before;
    assert.ok(served > 0, `${old.name} back in rotation: ${served} answers since it came back`);
    report.push(
      `${old.name}: ${String(draining.inFlight)} in flight at SIGTERM, out of rotation after ${outOfRotationMs} ms, ` +
        `exited after ${exitedMs} ms, back in rotation ${backInMs} ms after it was ready, then ${served} answers in 1.5 s`,
    );
    assert.ok((draining.inFlight as number) > 0, `${old.name} held requests at SIGTERM`);
  }
  await sleep(1000);
  const outcomes = await load.stop();
  load = undefined;
  const backend = (await haproxy.stats()).find((r) => r.pxname === 'replicas' && r.svname === 'BACKEND')!;
  const retried = Number(backend.wretr) - Number(backendBefore.wretr);
  const redispatched = Number(backend.wredis) - Number(backendBefore.wredis);
  const bad = failed(outcomes);
  console.log(
    `rolling restart: ${outcomes.length} requests from ${CLIENTS} clients, ${bad.length} failed, ` +
      `${outcomes.filter((o) => o.correct).length} correct 200s; HAProxy retried ${retried}, redispatched ${redispatched}\n  ` +
      report.join('\n  '),
  );
  assert.equal(bad.length, 0, `failed requests: ${describe(bad)}`);
  assert.ok(
    outcomes.every((o) => o.correct),
    'every 200 carries the right predictions',
  );
  assert.ok(outcomes.length > 100, `requests answered: ${outcomes.length}`);
});

test('a replica killed with SIGKILL under load: at most the requests it held fail; traffic moves, and comes back after a restart', async () => {
  assert.ok(haproxy, 'the previous test started HAProxy');
  const [victim, other] = replicas as [Replica, Replica];
  load = new Load(haproxy.base, expected);
  await sleep(2000);
  await waitFor(() => load!.inFlight >= CLIENTS / 2, 'clients in flight', 10_000);
  const heldByVictim = await statNumber(victim.name, 'scur');
  const clientsInFlight = load.inFlight;
  const killedAt = Date.now();
  victim.run.child.kill('SIGKILL');
  const { signal } = await victim.run.exit;
  assert.is(signal, 'SIGKILL');
  const downMs = await waitForStatus(victim.name, 'DOWN', 10_000);
  const victimAnswers = await statNumber(victim.name, 'hrsp_2xx');
  const otherAnswers = await statNumber(other.name, 'hrsp_2xx');
  await sleep(2000);
  const victimAnswersAfter = await statNumber(victim.name, 'hrsp_2xx');
  const otherServed = (await statNumber(other.name, 'hrsp_2xx')) - otherAnswers;
  assert.is(victimAnswersAfter, victimAnswers, 'no answers from the killed replica');
  assert.ok(otherServed > 0, `the other replica took the traffic: ${otherServed} answers`);

  const restarted = await startReplica(victim.name, victim.port);
  replicas[0] = restarted;
  const backInMs = await waitForStatus(victim.name, 'UP');
  const before = await statNumber(victim.name, 'hrsp_2xx');
  await sleep(1500);
  const servedAgain = (await statNumber(victim.name, 'hrsp_2xx')) - before;
  const outcomes = await load.stop();
  load = undefined;

  const bad = failed(outcomes);
  const afterKill = outcomes.filter((o) => o.start > killedAt);
  console.log(
    `SIGKILL: ${outcomes.length} requests, ${bad.length} failed (${describe(bad) || 'none'}); ` +
      `${victim.name} held ${heldByVictim} (HAProxy's scur) of ${clientsInFlight} in flight at the kill; ` +
      `DOWN in HAProxy after ${downMs} ms; ${otherServed} answers from ${other.name} in the next 2 s; ` +
      `${victim.name} back in rotation ${backInMs} ms after it was ready, then ${servedAgain} answers in 1.5 s`,
  );
  assert.ok(bad.length <= clientsInFlight, `failures (${bad.length}) bounded by the requests in flight at the kill`);
  assert.ok(
    bad.every((o) => o.start <= killedAt),
    'only requests sent before the kill failed',
  );
  assert.ok(
    afterKill.every((o) => o.status === 200),
    'every request sent after the kill answered 200',
  );
  assert.ok(
    outcomes.filter((o) => o.status === 200).every((o) => o.correct),
    'every 200 carries the right predictions',
  );
  assert.ok(servedAgain > 0, `${victim.name} back in rotation: ${servedAgain} answers`);
});

test('a request larger than tune.bufsize is still served (it just cannot be retried)', async () => {
  assert.ok(haproxy, 'HAProxy running');
  const bufsize = Number(/^\s*tune\.bufsize (\d+)/m.exec(shippedConfig())?.[1]);
  const image = readFileSync(join(ROOT, 'examples', 'images', 'astronaut.png'));
  const body = { model_id: 'det', image: { type: 'base64', value: image.toString('base64') } };
  assert.ok(JSON.stringify(body).length > 2 * bufsize, 'the body is larger than two buffers');
  const answer = await postJson(haproxy.base, '/infer/object_detection', body);
  assert.is(answer.status, 200);
  assert.equal(answer.json<{ image: unknown }>().image, { width: 512, height: 512 });
});

test.after(async () => {
  await load?.stop();
  await haproxy?.stop();
  for (const r of replicas) if (!r.run.exited()) r.run.child.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.run.exit));
  rmSync(TMP, { recursive: true, force: true });
});

test.run();
