// URL input (lib/server/url-input.ts) against local servers on 127.0.0.1: which URLs and addresses
// are refused (and that nothing was connected to when they are), redirects, size limits, timeouts,
// aborts and upstream failures; every failure leaves no connection open. Plus the default address
// policy, isPublicAddress, over a table of addresses.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, RequestListener, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { fetchImageUrl, isPublicAddress, UrlInputError } from '../lib/server/url-input.ts';
import type { UrlInputOptions } from '../lib/server/options.ts';

interface Local {
  port: number;
  url(path?: string): string;
  /** Connections open now. */
  open: Set<Socket>;
  /** Headers of every request received. */
  requests: IncomingHttpHeaders[];
}

const servers: Server[] = [];

async function serve(handler: RequestListener): Promise<Local> {
  const open = new Set<Socket>();
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    // The client hangs up on purpose in several tests; writes after that are dropped.
    res.on('error', () => {});
    handler(req, res);
  });
  server.on('connection', (socket) => {
    open.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => open.delete(socket));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { port, url: (path = '/') => `http://127.0.0.1:${port}${path}`, open, requests };
}

/** Fails when `promise` has not settled within `ms`: no test can hang the file. */
function bounded<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function rejects(promise: Promise<unknown>, status: number, message: RegExp): Promise<UrlInputError> {
  const error = await bounded(promise).then(
    () => assert.unreachable('expected a rejection'),
    (e: unknown) => e,
  );
  assert.instance(error, UrlInputError);
  const e = error as UrlInputError;
  assert.is(e.status, status, e.message);
  assert.match(e.message, message);
  return e;
}

/** Waits until `local` has no connection open (the client destroyed its socket). */
async function drained(local: Local): Promise<void> {
  await bounded(
    (async () => {
      while (local.open.size > 0) await new Promise((r) => setTimeout(r, 5));
    })(),
    2000,
  );
}

const loopbackOnly: UrlInputOptions = { allowHttp: true, isAllowedAddress: (a) => a === '127.0.0.1' };
const png = randomBytes(5000);
const site = await serve((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const hops = Number(url.searchParams.get('hops') ?? 0);
  if (url.pathname === '/image') return res.end(png);
  if (url.pathname === '/chain') {
    // Relative Locations, resolved against the URL of the hop that sent them.
    res.writeHead(hops % 2 ? 302 : 307, { location: hops > 1 ? `chain?hops=${hops - 1}` : '/image' });
    return res.end('moving');
  }
  if (url.pathname === '/to') {
    res.writeHead(301, { location: url.searchParams.get('location') ?? '' });
    return res.end();
  }
  if (url.pathname === '/no-location') return res.writeHead(302).end();
  if (url.pathname === '/status') return res.writeHead(Number(url.searchParams.get('code'))).end('SECRET-BODY');
  if (url.pathname === '/sized') {
    res.writeHead(200, { 'content-length': url.searchParams.get('n') ?? '0' });
    return res.end(Buffer.alloc(Number(url.searchParams.get('n'))));
  }
  if (url.pathname === '/endless') {
    // Chunked, no Content-Length: only the streaming count can stop it.
    const chunk = Buffer.alloc(16 * 1024);
    const pump = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', pump);
    };
    return pump();
  }
  if (url.pathname === '/hang') return; // never answers
  if (url.pathname === '/trickle') {
    res.writeHead(200, { 'content-length': '1000' });
    const timer = setInterval(() => res.write('x'), 50);
    return res.on('close', () => clearInterval(timer));
  }
  if (url.pathname === '/slow-redirect') {
    setTimeout(() => res.writeHead(302, { location: `/slow-redirect?hops=${hops + 1}` }).end(), 150);
    return;
  }
  res.writeHead(404).end();
});

test('isPublicAddress: a table of addresses', () => {
  const table: [string, 4 | 6, boolean][] = [
    ['93.184.216.34', 4, true],
    ['8.8.8.8', 4, true],
    ['1.1.1.1', 4, true],
    ['0.0.0.0', 4, false],
    ['0.1.2.3', 4, false],
    ['10.0.0.1', 4, false],
    ['100.64.0.1', 4, false],
    ['100.127.255.255', 4, false],
    ['100.128.0.1', 4, true],
    ['127.0.0.1', 4, false],
    ['127.255.255.254', 4, false],
    ['169.254.169.254', 4, false],
    ['169.254.0.1', 4, false],
    ['172.16.0.1', 4, false],
    ['172.31.255.255', 4, false],
    ['172.32.0.1', 4, true],
    ['192.0.0.8', 4, false],
    ['192.0.2.1', 4, false],
    ['192.168.1.1', 4, false],
    ['198.18.0.1', 4, false],
    ['198.19.255.255', 4, false],
    ['198.51.100.7', 4, false],
    ['203.0.113.9', 4, false],
    ['224.0.0.1', 4, false],
    ['239.255.255.250', 4, false],
    ['240.0.0.1', 4, false],
    ['255.255.255.255', 4, false],
    ['2606:4700:4700::1111', 6, true],
    ['2001:4860:4860::8888', 6, true],
    ['::', 6, false],
    ['::1', 6, false],
    ['0:0:0:0:0:0:0:1', 6, false],
    ['::ffff:127.0.0.1', 6, false],
    ['::ffff:7f00:1', 6, false],
    ['::ffff:169.254.169.254', 6, false],
    ['::ffff:10.0.0.1', 6, false],
    ['::ffff:8.8.8.8', 6, true],
    ['::127.0.0.1', 6, false],
    ['64:ff9b::127.0.0.1', 6, false],
    ['64:ff9b::a9fe:a9fe', 6, false],
    ['64:ff9b::8.8.8.8', 6, true],
    ['2002:7f00:1::1', 6, false],
    ['2002:808:808::1', 6, true],
    ['fc00::1', 6, false],
    ['fd00:ec2::254', 6, false],
    ['fe80::1', 6, false],
    ['fe80::1%eth0', 6, false],
    ['ff02::1', 6, false],
    ['2001:db8::1', 6, false],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 6, false],
    ['100::1', 6, false],
    ['not an address', 4, false],
    ['', 4, false],
  ];
  const wrong = table.filter(([address, family, expected]) => isPublicAddress(address, family) !== expected);
  assert.equal(wrong, []);
});

test('the default policy refuses loopback before connecting: literal v4, literal v6, https, and a name', async () => {
  const before = site.requests.length;
  await rejects(
    fetchImageUrl(site.url('/image'), { allowHttp: true }),
    400,
    /^URL input: address 127\.0\.0\.1 is not allowed \(loopback\)$/,
  );
  await rejects(
    fetchImageUrl(`http://[::1]:${site.port}/image`, { allowHttp: true }),
    400,
    /^URL input: address ::1 is not allowed \(loopback\)$/,
  );
  await rejects(fetchImageUrl(`https://127.0.0.1:${site.port}/image`), 400, /loopback/);
  await rejects(fetchImageUrl(`http://127.1:${site.port}/image`, { allowHttp: true }), 400, /127\.0\.0\.1/);
  // A name goes through the checked lookup: its resolved address is refused.
  await rejects(
    fetchImageUrl(`http://localhost:${site.port}/image`, { allowHttp: true }),
    400,
    /^URL input: address (127\.0\.0\.1|::1) \(localhost\) is not allowed \(loopback\)$/,
  );
  await rejects(fetchImageUrl('https://169.254.169.254/latest/meta-data/'), 400, /cloud metadata/);
  await rejects(fetchImageUrl('https://[::ffff:169.254.169.254]/'), 400, /IPv4-mapped link-local/);
  await rejects(fetchImageUrl('https://[fd00:ec2::254]/'), 400, /unique local/);
  assert.is(site.requests.length, before, 'nothing reached the server');
});

test('an allowed address is fetched byte-exact, with our User-Agent and no credentials', async () => {
  const body = await bounded(fetchImageUrl(site.url('/image'), loopbackOnly));
  assert.ok(body.equals(png));
  const headers = site.requests.at(-1)!;
  assert.is(headers['user-agent'], 'inference-pool');
  assert.is(headers.cookie, undefined);
  assert.is(headers.authorization, undefined);
  await drained(site);
});

test('a name is checked on the addresses it resolves to', async () => {
  const seen: string[] = [];
  const isAllowedAddress = (a: string) => {
    seen.push(a);
    return a === '127.0.0.1' || a === '::1';
  };
  const body = await bounded(
    fetchImageUrl(`http://localhost:${site.port}/image`, { allowHttp: true, isAllowedAddress }),
  );
  assert.ok(body.equals(png));
  assert.ok(seen.includes('127.0.0.1'), `predicate saw ${seen.join(', ')}`);
  // A predicate that throws refuses.
  await rejects(
    fetchImageUrl(site.url('/image'), {
      allowHttp: true,
      isAllowedAddress: () => {
        throw new Error('boom');
      },
    }),
    400,
    /isAllowedAddress threw: boom/,
  );
});

test('the peer actually connected to is checked again (a backstop behind the lookup check)', async () => {
  let calls = 0;
  // Allows the first look (the literal's check), refuses the connected socket's.
  const isAllowedAddress = () => ++calls === 1;
  await rejects(
    fetchImageUrl(site.url('/image'), { allowHttp: true, isAllowedAddress }),
    400,
    /^URL input: connected address 127\.0\.0\.1 is not allowed/,
  );
  await drained(site);
});

test('redirects: a chain within maxRedirects is followed, one more is refused', async () => {
  const body = await bounded(fetchImageUrl(site.url('/chain?hops=3'), { ...loopbackOnly, maxRedirects: 3 }));
  assert.ok(body.equals(png));
  await rejects(
    fetchImageUrl(site.url('/chain?hops=4'), { ...loopbackOnly, maxRedirects: 3 }),
    400,
    /more than 3 redirects/,
  );
  await rejects(
    fetchImageUrl(site.url('/chain?hops=1'), { ...loopbackOnly, maxRedirects: 0 }),
    400,
    /more than 0 redirects/,
  );
  // Default 3.
  await rejects(fetchImageUrl(site.url('/chain?hops=4'), loopbackOnly), 400, /more than 3 redirects/);
  await rejects(fetchImageUrl(site.url('/no-location'), loopbackOnly), 400, /without a Location/);
  await drained(site);
});

test('each redirect target is checked again: address, scheme, credentials', async () => {
  const to = (location: string) => site.url(`/to?location=${encodeURIComponent(location)}`);
  const before = site.requests.length;
  await rejects(
    fetchImageUrl(to(`http://127.0.0.2:${site.port}/image`), loopbackOnly),
    400,
    /^URL input: address 127\.0\.0\.2 is not allowed \(refused by isAllowedAddress\)$/,
  );
  await rejects(
    fetchImageUrl(to(`http://[::1]:${site.port}/image`), loopbackOnly),
    400,
    /^URL input: address ::1 is not allowed/,
  );
  await rejects(fetchImageUrl(to(`http://[::ffff:127.0.0.1]:${site.port}/`), loopbackOnly), 400, /::ffff:7f00:1/);
  await rejects(fetchImageUrl(to('http://169.254.169.254/latest/meta-data/'), loopbackOnly), 400, /169\.254\.169\.254/);
  await rejects(fetchImageUrl(to('file:///etc/passwd'), loopbackOnly), 400, /redirect's scheme file: is not allowed/);
  await rejects(fetchImageUrl(to(`http://u:p@127.0.0.1:${site.port}/image`), loopbackOnly), 400, /credentials/);
  assert.is(site.requests.length, before + 6, 'only the redirecting hops reached the server');
  await drained(site);
});

test('schemes: https only by default; file:, data:, ftp: and the like never; credentials and junk refused', async () => {
  await rejects(fetchImageUrl(site.url('/image')), 400, /scheme http: is not allowed \(https only\)/);
  await rejects(fetchImageUrl(site.url('/image'), { isAllowedAddress: () => true }), 400, /https only/);
  for (const url of [
    'file:///etc/passwd',
    'data:image/png;base64,iVBORw0KGgo=',
    'ftp://example.com/a.png',
    'javascript:alert(1)',
    'gopher://127.0.0.1:70/',
  ]) {
    await rejects(fetchImageUrl(url, loopbackOnly), 400, /scheme .* is not allowed \(http or https\)/);
  }
  await rejects(fetchImageUrl('not a url', loopbackOnly), 400, /not a valid URL/);
  await rejects(fetchImageUrl(`http://user:pass@127.0.0.1:${site.port}/image`, loopbackOnly), 400, /credentials/);
  await rejects(fetchImageUrl(`http://user@127.0.0.1:${site.port}/image`, loopbackOnly), 400, /credentials/);
});

test('maxBytes: refused from Content-Length and while streaming a chunked body; the limit itself is fine', async () => {
  const exact = await bounded(fetchImageUrl(site.url('/sized?n=1000'), { ...loopbackOnly, maxBytes: 1000 }));
  assert.is(exact.length, 1000);
  await rejects(
    fetchImageUrl(site.url('/sized?n=1001'), { ...loopbackOnly, maxBytes: 1000 }),
    413,
    /is 1001 bytes, more than the limit of 1000/,
  );
  await rejects(
    fetchImageUrl(site.url('/endless'), { ...loopbackOnly, maxBytes: 100_000 }),
    413,
    /more bytes than the limit of 100000/,
  );
  await rejects(fetchImageUrl(site.url('/image'), { ...loopbackOnly, maxBytes: 4999 }), 413, /maxBytes/);
  await drained(site);
});

test('timeoutMs bounds the whole fetch: no answer, a trickling body, slow redirects', async () => {
  const options = { ...loopbackOnly, timeoutMs: 300 };
  let started = Date.now();
  await rejects(fetchImageUrl(site.url('/hang'), options), 504, /longer than 300 ms/);
  assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
  started = Date.now();
  await rejects(fetchImageUrl(site.url('/trickle'), options), 504, /timeoutMs/);
  // Each hop is within the limit (150 ms); together they are not.
  await rejects(fetchImageUrl(site.url('/slow-redirect'), { ...options, maxRedirects: 10 }), 504, /timeoutMs/);
  assert.ok(Date.now() - started < 2500);
  await drained(site);
});

test('upstream failures are 400s that never carry the body', async () => {
  for (const code of [404, 500, 304, 204]) {
    const error = await rejects(
      fetchImageUrl(site.url(`/status?code=${code}`), loopbackOnly),
      400,
      code === 204 ? /empty body/ : new RegExp(`answered ${code}, not 2xx`),
    );
    assert.not.match(error.message, /SECRET/);
  }
  // Nothing listening.
  const closed = await serve(() => {});
  servers.pop()!.close();
  await new Promise((r) => setTimeout(r, 20));
  await rejects(
    fetchImageUrl(closed.url('/'), loopbackOnly),
    400,
    /fetching from 127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/,
  );
  await drained(site);
});

test('an external signal aborts the fetch with its reason', async () => {
  const controller = new AbortController();
  const reason = new Error('client went away');
  setTimeout(() => controller.abort(reason), 50);
  const error = await bounded(
    fetchImageUrl(site.url('/hang'), loopbackOnly, controller.signal).catch((e: unknown) => e),
  );
  assert.is(error, reason);
  const already = await bounded(
    fetchImageUrl(site.url('/image'), loopbackOnly, controller.signal).catch((e: unknown) => e),
  );
  assert.is(already, reason);
  await drained(site);
});

test('options out of range are a RangeError', async () => {
  for (const bad of [{ maxBytes: -1 }, { timeoutMs: 1.5 }, { maxRedirects: Number.NaN }]) {
    const error = await fetchImageUrl(site.url('/image'), { ...loopbackOnly, ...bad }).catch((e: unknown) => e);
    assert.instance(error, RangeError);
  }
});

test.after(async () => {
  await Promise.all(
    servers.map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

test.run();
