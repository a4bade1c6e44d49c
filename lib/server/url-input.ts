// Fetches an image a client names by URL (`image: { type: 'url' }`, `?image=URL`). The URL comes
// from the client, so this is where server-side request forgery is stopped: only https (or http when
// allowed), no credentials, and every address actually connected to must pass `isAllowedAddress` —
// checked inside the socket's own DNS lookup, so there is no window between check and connect for
// DNS rebinding to use. Redirects are followed by hand and each hop is checked again.
//
// Status codes: 400 for a URL refused or invalid, an address not allowed, too many redirects, a
// fetch that failed or an upstream answer other than 2xx; 413 for a body over maxBytes; 504 when the
// whole fetch takes longer than timeoutMs. An aborted external signal rejects with its reason.
import { lookup as dnsLookup } from 'node:dns';
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';

import type { UrlInputOptions } from './options.js';
import { addressRefusal, isPublicAddress } from './public-address.js';

export { isPublicAddress } from './public-address.js';

export type UrlInputStatus = 400 | 413 | 504;

/** Why a URL input could not be fetched; `status` is the HTTP status the server answers with. */
export class UrlInputError extends Error {
  override readonly name = 'UrlInputError';
  readonly status: UrlInputStatus;

  constructor(status: UrlInputStatus, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

// Sent to every host: nothing that identifies or authenticates (no cookies, no Authorization), and
// identity encoding because the body is handed on as it came.
const HEADERS = { 'user-agent': 'inference-pool', accept: 'image/*, */*;q=0.8', 'accept-encoding': 'identity' };

interface Settings {
  allowHttp: boolean;
  maxRedirects: number;
  maxBytes: number;
  timeoutMs: number;
  isAllowedAddress: (address: string, family: 4 | 6) => boolean;
  /** The predicate is the caller's: a refusal cannot say more than that it refused. */
  customPredicate: boolean;
}

function resolveOptions(options: UrlInputOptions): Settings {
  const settings: Settings = {
    allowHttp: options.allowHttp ?? false,
    maxRedirects: options.maxRedirects ?? 3,
    maxBytes: options.maxBytes ?? 20 * 1024 * 1024,
    timeoutMs: options.timeoutMs ?? 10_000,
    isAllowedAddress: options.isAllowedAddress ?? isPublicAddress,
    customPredicate: options.isAllowedAddress !== undefined,
  };
  for (const key of ['maxRedirects', 'maxBytes', 'timeoutMs'] as const) {
    const value = settings[key];
    if (!Number.isInteger(value) || value < 0) {
      throw new RangeError(`urlInput.${key} must be a non-negative integer, got ${String(value)}`);
    }
  }
  return settings;
}

/** Refuses an address the predicate does not allow (a predicate that throws refuses too). */
function addressError(
  settings: Settings,
  address: string,
  family: number,
  host: string,
  what = 'address',
): UrlInputError | null {
  let allowed = false;
  let reason: string | null = 'refused by isAllowedAddress';
  try {
    allowed = (family === 4 || family === 6) && settings.isAllowedAddress(address, family) === true;
  } catch (error) {
    reason = `isAllowedAddress threw: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (allowed) return null;
  if (!settings.customPredicate) reason = addressRefusal(address) ?? reason;
  const from = host === address ? '' : ` (${host})`;
  return new UrlInputError(400, `URL input: ${what} ${address}${from} is not allowed (${reason})`);
}

/**
 * The socket's DNS lookup: resolves every address, refuses the connection if any of them is not
 * allowed (so neither Happy Eyeballs nor a mixed answer can reach a refused one), and hands the
 * checked addresses to the connect that follows.
 */
function checkedLookup(settings: Settings): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      if (addresses.length === 0) {
        return callback(new UrlInputError(400, `URL input: ${hostname} resolved to no address`), '');
      }
      for (const { address, family } of addresses) {
        const refused = addressError(settings, address, family, hostname);
        if (refused) return callback(refused, '');
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Parses and checks one hop's URL: scheme, credentials, and the host when it is an IP literal. */
function checkUrl(target: string | URL, base: URL | undefined, settings: Settings): URL {
  const what = base ? 'redirect' : 'URL';
  let url: URL;
  try {
    url = new URL(target, base);
  } catch {
    throw new UrlInputError(400, `URL input: the ${what} is not a valid URL`);
  }
  const schemes = settings.allowHttp ? 'http or https' : 'https only';
  if (url.protocol !== 'https:' && !(settings.allowHttp && url.protocol === 'http:')) {
    throw new UrlInputError(400, `URL input: the ${what}'s scheme ${url.protocol} is not allowed (${schemes})`);
  }
  if (url.username || url.password) {
    throw new UrlInputError(400, `URL input: the ${what} has credentials (user:password@), which are not allowed`);
  }
  // Node connects to an IP literal without calling `lookup`, so the literal is checked here.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family !== 0) {
    const refused = addressError(settings, host, family, host);
    if (refused) throw refused;
  }
  return url;
}

type Hop = { location: string } | { body: Buffer };

/** One request: the body of a 2xx answer, or the Location of a redirect. Destroys its socket on any failure. */
function fetchOnce(url: URL, settings: Settings, signal: AbortSignal): Promise<Hop> {
  return new Promise<Hop>((resolve, reject) => {
    // The deadline's or the caller's reason, as it is (the caller may be waiting for its own error).
    if (signal.aborted) return reject(signal.reason);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'GET',
      headers: HEADERS,
      agent: false, // a fresh socket per request: a pooled one would skip the checked lookup
      lookup: checkedLookup(settings),
      rejectUnauthorized: true,
      insecureHTTPParser: false,
    });
    let settled = false;
    let res: IncomingMessage | undefined;
    const finish = (failed: boolean, outcome: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (failed) {
        res?.destroy();
        req.destroy();
        reject(outcome);
      } else {
        resolve(outcome as Hop);
      }
    };
    const fail = (error: unknown) => finish(true, error);
    const succeed = (hop: Hop) => finish(false, hop);
    const onAbort = () => fail(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    req.on('error', (error) => {
      const cause = error instanceof UrlInputError ? error : null;
      fail(
        cause ??
          new UrlInputError(400, `URL input: fetching from ${url.host} failed: ${error.message}`, { cause: error }),
      );
    });
    req.on('close', () => {
      if (!res) fail(new UrlInputError(400, `URL input: ${url.host} closed the connection without answering`));
    });
    // A backstop: the socket's peer must be an allowed address whatever path led to it.
    req.on('socket', (socket) => {
      socket.once('connect', () => {
        const address = socket.remoteAddress ?? '';
        const family = socket.remoteFamily === 'IPv6' ? 6 : 4;
        const refused = addressError(settings, address, family, url.hostname, 'connected address');
        if (refused) fail(refused);
      });
    });
    req.on('response', (response) => {
      res = response;
      const incomplete = () => new UrlInputError(400, `URL input: ${url.host} closed the connection mid-body`);
      response.on('error', () => fail(incomplete()));
      response.on('close', () => fail(incomplete()));
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        const location = response.headers.location;
        if (!location)
          return fail(new UrlInputError(400, `URL input: ${url.host} redirected (${status}) without a Location`));
        succeed({ location });
        response.destroy();
        req.destroy();
        return;
      }
      if (status < 200 || status > 299) {
        return fail(new UrlInputError(400, `URL input: ${url.host} answered ${status}, not 2xx`));
      }
      const declared = Number(response.headers['content-length']);
      if (declared > settings.maxBytes) {
        return fail(tooLarge(`is ${declared} bytes`, settings.maxBytes));
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > settings.maxBytes) return fail(tooLarge('has more bytes than', settings.maxBytes, true));
        chunks.push(chunk);
      });
      response.on('end', () => {
        if (!response.complete) return fail(incomplete());
        if (received === 0) return fail(new UrlInputError(400, `URL input: ${url.host} answered with an empty body`));
        succeed({ body: Buffer.concat(chunks, received) });
      });
    });
    req.end();
  });
}

function tooLarge(what: string, limit: number, streamed = false): UrlInputError {
  const sentence = streamed
    ? `the body ${what} the limit of ${limit}`
    : `the body ${what}, more than the limit of ${limit}`;
  return new UrlInputError(413, `URL input: ${sentence} (maxBytes)`);
}

/**
 * Fetches the body of `url` under `options` (defaults as UrlInputOptions documents). Rejects with a
 * UrlInputError (400, 413 or 504, see above), or with `signal.reason` when `signal` aborts.
 */
export async function fetchImageUrl(url: string, options: UrlInputOptions = {}, signal?: AbortSignal): Promise<Buffer> {
  const settings = resolveOptions(options);
  if (typeof url !== 'string') throw new UrlInputError(400, 'URL input: the URL must be a string');
  signal?.throwIfAborted();
  const deadline = new AbortController();
  const timer = setTimeout(() => {
    deadline.abort(
      new UrlInputError(504, `URL input: the fetch took longer than ${settings.timeoutMs} ms (timeoutMs)`),
    );
  }, settings.timeoutMs);
  const onAbort = () => deadline.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let current = checkUrl(url, undefined, settings);
    for (let redirects = 0; ; redirects += 1) {
      const hop = await fetchOnce(current, settings, deadline.signal);
      if ('body' in hop) return hop.body;
      if (redirects >= settings.maxRedirects) {
        throw new UrlInputError(400, `URL input: more than ${settings.maxRedirects} redirects (maxRedirects)`);
      }
      current = checkUrl(hop.location, current, settings);
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
