// The Kubernetes example (examples/kubernetes/, not run here: no cluster) kept consistent with the
// server: its arguments and variables are accepted by the CLI's parser, the probes name the health
// routes, the termination grace period covers preStop + drain + the CLI's close margin, and the HPA's
// metric is one the server exports.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseCliArgs } from '../lib/server/config.ts';
import { ROOT } from './helpers/child.ts';

const DIR = join(ROOT, 'examples', 'kubernetes');
const read = (file: string) => readFileSync(join(DIR, file), 'utf8');
const unquote = (s: string) => s.trim().replace(/^'(.*)'$/, '$1');

function one(text: string, pattern: RegExp, what: string): string {
  const m = pattern.exec(text);
  assert.ok(m?.[1], `${what} in the example`);
  return m[1];
}

const deployment = read('deployment.yaml');
const args = one(deployment, /^ {10}args:\n((?: {12}- .*\n)+)/m, 'args')
  .split('\n')
  .filter(Boolean)
  .map((l) => unquote(l.replace(/^\s*- /, '')));
const env = Object.fromEntries(
  [...deployment.matchAll(/- name: (\w+)\n\s+value: (.+)/g)].map((m) => [m[1]!, unquote(m[2]!)]),
);

test('the container arguments and variables are accepted by the CLI', () => {
  assert.is(args[0], 'serve');
  const parsed = parseCliArgs(args, env, '/');
  assert.is(parsed.command, 'serve');
  const server = parsed.options.server!;
  const port = Number(one(deployment, /containerPort: (\d+)/, 'containerPort'));
  assert.is(server.port, port);
  assert.is(server.host, '0.0.0.0');
  assert.is(one(deployment, /prometheus\.io\/port: '(\d+)'/, 'scrape port'), String(port));
  assert.ok((parsed.options.models ?? []).length > 0, 'a model');
});

test('probes: readiness on /readiness, liveness on /healthz', () => {
  assert.is(one(deployment, /readinessProbe:\n\s+httpGet:\n\s+path: (\S+)/, 'readinessProbe'), '/readiness');
  assert.is(one(deployment, /livenessProbe:\n\s+httpGet:\n\s+path: (\S+)/, 'livenessProbe'), '/healthz');
});

test('terminationGracePeriodSeconds covers preStop + the drain + the CLI close margin', () => {
  const termination = Number(one(deployment, /terminationGracePeriodSeconds: (\d+)/, 'terminationGracePeriodSeconds'));
  const preStop = Number(one(deployment, /command: \['sleep', '(\d+)'\]/, 'preStop sleep'));
  const server = parseCliArgs(args, env, '/').options.server!;
  const cli = readFileSync(join(ROOT, 'bin', 'inference-pool.ts'), 'utf8');
  const marginMs = Number(one(cli, /CLOSE_MARGIN_MS = ([\d_]+);/, 'CLOSE_MARGIN_MS').replace(/_/g, ''));
  const needed = preStop + (server.gracePeriodMs! + marginMs) / 1000;
  assert.ok(termination > needed, `terminationGracePeriodSeconds ${termination} > ${needed}`);
});

test("the HPA's metric is a gauge the server exports, and the adapter rule serves it", () => {
  const metric = one(read('hpa.yaml'), /metric:\n\s+name: (\w+)/, 'HPA metric');
  const metrics = readFileSync(join(ROOT, 'lib', 'server', 'metrics.ts'), 'utf8');
  assert.match(
    metrics,
    new RegExp(`'${metric}',\\s+'[^']*',\\s+'gauge'`),
    `${metric}: a gauge in lib/server/metrics.ts`,
  );
  const adapter = read('prometheus-adapter.yaml');
  assert.ok(adapter.includes(`seriesQuery: '${metric}{`), 'the adapter rule selects it');
  assert.ok(adapter.includes(`as: ${metric}`), 'and serves it under the same name');
});

test.run();
