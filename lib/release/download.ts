// One file over HTTP(S) to disk, made for multi-gigabyte release images on lab networks: the body is streamed to
// `<dest>.part` (never held in memory) and renamed to `<dest>` only when complete, so a file that exists is a whole
// download; a dropped or stalled connection resumes with a Range request from what the .part holds; network errors
// and 5xx are retried with backoff; redirects are followed (GitHub sends release assets to
// objects.githubusercontent.com with a signed URL). A 404 is not an error here: the caller tries the next name.
// Node's own http/https is enough for this; no dependency.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { ConfigError, LabError, describeSystemError } from '../errors.ts';
import { credentialsHint, describeProxy, ProxyError, proxyFor, tunnel, viaProxy, type HttpProxy } from './http-proxy.ts';
import { pause } from '../util/deadline.ts';

/** bytes received so far (a resumed download counts what the .part already held) of total, when the server says. */
export type ByteProgress = (bytes: number, total: number | undefined) => void;

export interface DownloadOptions {
  onProgress?: ByteProgress;
  /** One line per retry or resume, for the operator. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Attempts in a row that make no progress before giving up (an attempt that received bytes resets the count). */
  attempts?: number;
  /** First backoff; doubled after each failed attempt. */
  backoffMs?: number;
  /** A connection that delivers nothing for this long is dropped and resumed (a stalled CDN connection). */
  idleTimeoutMs?: number;
}

export type DownloadResult = { found: true; bytes: number } | { found: false; status: number };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;

/** A failure worth another attempt (network error, 5xx, truncated body). */
class Transient extends Error {}

/** The URL as it may be shown: no password, no signed query string (GitHub's redirect targets carry tokens). */
export function displayUrl(u: string | URL): string {
  try {
    const url = new URL(String(u));
    if (url.password) url.password = '***';
    url.search = url.search ? '?…' : '';
    return url.toString();
  } catch {
    return String(u);
  }
}

/**
 * Download `url` to `dest` (through `<dest>.part`). Resolves {found: false} on 404/410 (nothing written), throws
 * ConfigError for other 4xx and when every attempt failed (naming the URL), or the signal's reason on abort (the
 * .part stays, the next call resumes it).
 */
export async function downloadFile(url: string, dest: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const attempts = opts.attempts ?? 4;
  const firstBackoff = opts.backoffMs ?? 1000;
  let backoff = firstBackoff;
  const part = `${dest}.part`;
  // The validator of the first response: a resume sends it as If-Range, so a file replaced on the server in between
  // comes back whole (200) instead of being spliced onto the old bytes.
  let validator: string | undefined;
  let failures = 0;
  const proxy = proxyFor(new URL(url));
  if (proxy) opts.log?.(`${displayUrl(url)}: through ${describeProxy(proxy)}`);
  for (;;) {
    opts.signal?.throwIfAborted();
    const offset = sizeOf(part);
    let received = 0;
    try {
      const r = await attempt(url, part, offset, validator, opts, (n) => (received = n), (v) => (validator ??= v));
      if (r.found) fs.renameSync(part, dest);
      else fs.rmSync(part, { force: true });
      return r;
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (!(e instanceof Transient)) throw e;
      // A connection that delivered something was worth having: long downloads over a flaky link keep going.
      if (received > 0) {
        failures = 1;
        backoff = firstBackoff;
      } else failures++;
      if (failures >= attempts) {
        throw new ConfigError(`${displayUrl(url)}: ${e.message} (gave up after ${attempts} attempts${sizeOf(part) ? `; ${sizeOf(part)} bytes kept in ${part}, the next fetch resumes` : ''})`, {
          where: displayUrl(url),
          cause: e,
        });
      }
      opts.log?.(`${displayUrl(url)}: ${e.message}; ${sizeOf(part) ? `resuming from byte ${sizeOf(part)}` : 'retrying'} in ${backoff} ms`);
      await pause(backoff, opts.signal);
      backoff *= 2;
    }
  }
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** One GET (following redirects), its body appended to the .part. */
async function attempt(
  url: string,
  part: string,
  offset: number,
  validator: string | undefined,
  opts: DownloadOptions,
  onReceived: (n: number) => void,
  onValidator: (v: string) => void,
): Promise<DownloadResult> {
  const headers: Record<string, string> = { 'user-agent': 'eve-qual', 'accept-encoding': 'identity' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    if (validator) headers['if-range'] = validator;
  }
  const res = await get(url, headers, opts);
  try {
    const status = res.statusCode ?? 0;
    if (status === 404 || status === 410) return { found: false, status };
    if (status === 416 && offset > 0) {
      // The .part already holds everything (a previous run died between the last byte and the rename), or the file
      // shrank on the server: either way the Content-Range says the real size.
      const total = Number(/\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''))?.[1]);
      if (total === offset) return { found: true, bytes: offset };
      fs.truncateSync(part, 0);
      throw new Transient(`HTTP 416 for a resume at byte ${offset}: starting again from 0`);
    }
    if (status >= 500 || status === 408 || status === 429) throw new Transient(`HTTP ${status} ${res.statusMessage ?? ''}`.trim());
    if (status !== 200 && status !== 206) {
      throw new ConfigError(`${displayUrl(url)}: HTTP ${status} ${res.statusMessage ?? ''}`.trim(), { where: displayUrl(url) });
    }
    const v = res.headers.etag ?? res.headers['last-modified'];
    if (v && !String(v).startsWith('W/')) onValidator(String(v));
    let start = 0;
    let total: number | undefined;
    const length = res.headers['content-length'] !== undefined ? Number(res.headers['content-length']) : undefined;
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!m || Number(m[1]) !== offset) {
        // Not the part we asked for: throw the .part away rather than splice a wrong range onto it.
        fs.truncateSync(part, 0);
        throw new Transient(`the server answered a resume at byte ${offset} with Content-Range '${res.headers['content-range'] ?? ''}': starting again from 0`);
      }
      start = offset;
      total = m[3] === '*' ? undefined : Number(m[3]);
    } else {
      // 200 to a Range request: the server ignores Range (or the file changed, If-Range); the body is the whole file.
      if (offset > 0) opts.log?.(`${displayUrl(url)}: the server sent the whole file instead of resuming at byte ${offset}; starting again from 0`);
      total = length;
    }
    return { found: true, bytes: await writeBody(res, part, start, total, length, opts, onReceived) };
  } finally {
    res.destroy();
  }
}

/** Append (or write from 0) the body to the .part, chunk by chunk, so what is on disk is always a prefix of the file. */
async function writeBody(
  res: http.IncomingMessage,
  part: string,
  start: number,
  total: number | undefined,
  length: number | undefined,
  opts: DownloadOptions,
  onReceived: (n: number) => void,
): Promise<number> {
  const fh = await fs.promises.open(part, start > 0 ? 'a' : 'w');
  let got = 0;
  try {
    opts.onProgress?.(start, total);
    const body = (res as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await body.next();
      } catch (e) {
        throw opts.signal?.aborted ? opts.signal.reason : new Transient(`connection lost after ${start + got} bytes (${describeSystemError(e)})`);
      }
      if (next.done) break;
      try {
        await fh.write(next.value);
      } catch (e) {
        // Our disk, not the network: no retry, and not the input's fault either.
        throw new LabError(`writing ${part}: ${describeSystemError(e)}`, { where: part, cause: e });
      }
      got += next.value.length;
      onReceived(got);
      opts.onProgress?.(start + got, total);
    }
    if (length !== undefined && got < length) throw new Transient(`connection closed after ${start + got} of ${start + length} bytes`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return start + got;
}

/** A GET that follows redirects; resolves with the final response (body unread). */
async function get(url: string, headers: Record<string, string>, opts: DownloadOptions): Promise<http.IncomingMessage> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(current, headers, opts);
    const status = res.statusCode ?? 0;
    if (!REDIRECTS.has(status)) return res;
    res.destroy();
    const location = res.headers.location;
    if (!location) throw new ConfigError(`${displayUrl(current)}: HTTP ${status} without a Location`, { where: displayUrl(url) });
    if (hop >= MAX_REDIRECTS) throw new ConfigError(`${displayUrl(url)}: more than ${MAX_REDIRECTS} redirects`, { where: displayUrl(url) });
    const next = new URL(location, current);
    // Credentials in the URL stay with the host they were given for.
    if (next.host !== current.host) {
      next.username = '';
      next.password = '';
    }
    current = next;
  }
}

async function requestOnce(url: URL, headers: Record<string, string>, opts: DownloadOptions): Promise<http.IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${displayUrl(url)}: only http and https are supported`, { where: displayUrl(url) });
  }
  const auth = url.username ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {};
  const idleMs = opts.idleTimeoutMs ?? 60_000;
  // Per request, not per download: a redirect can lead to a host that no_proxy lets through directly.
  const proxy = proxyFor(url);
  const signal = opts.signal ? { signal: opts.signal } : {};
  let send: (cb: (res: http.IncomingMessage) => void) => http.ClientRequest;
  if (!proxy) {
    send = (cb) => (url.protocol === 'https:' ? https : http).get(url, { headers, ...auth, ...signal }, cb);
  } else if (url.protocol === 'http:') {
    send = (cb) => http.get({ ...viaProxy(url, proxy, headers), ...auth, ...signal }, cb);
  } else {
    const socket = await openTunnel(url, proxy, idleMs, opts);
    send = (cb) => https.get(url, { headers, ...auth, ...signal, createConnection: () => socket }, cb);
  }
  return new Promise((resolve, reject) => {
    let response: http.IncomingMessage | undefined;
    const req = send((res) => {
      // 407 is the proxy's; a 401 can be the server's or the proxy's (tinyproxy answers wrong credentials so).
      if (proxy && url.protocol === 'http:' && (res.statusCode === 407 || (res.statusCode === 401 && proxy.url.username))) {
        res.destroy();
        const from = res.statusCode === 407 ? `${describeProxy(proxy)} answered` : `through ${describeProxy(proxy)}, the server or the proxy answered`;
        return reject(
          new ConfigError(`${displayUrl(url)}: ${from} HTTP ${res.statusCode} ${res.statusMessage ?? ''}: ${credentialsHint(proxy)}`, { where: displayUrl(url) }),
        );
      }
      response = res;
      resolve(res);
    });
    // Socket inactivity, before and during the body: a stalled connection is dropped and resumed, never waited on
    // forever. The body is ended with this error first, so the reader says why rather than "connection reset".
    req.setTimeout(idleMs, () => {
      const e = new Transient(`no data for ${idleMs} ms`);
      response?.destroy(e);
      req.destroy(e);
    });
    req.on('error', (e) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      if (e instanceof Transient) return reject(e);
      reject(new Transient(proxy ? `${describeProxy(proxy)}: ${describeSystemError(e)}` : describeSystemError(e)));
    });
  });
}

/** The TLS connection through the proxy; its faults sorted into retry (Transient) and not (ConfigError). */
async function openTunnel(url: URL, proxy: HttpProxy, idleMs: number, opts: DownloadOptions): Promise<TLSSocket> {
  try {
    return await tunnel(url, proxy, { idleMs, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    if (opts.signal?.aborted) throw opts.signal.reason;
    if (e instanceof ProxyError && !e.retry) throw new ConfigError(`${displayUrl(url)}: ${e.message}`, { where: displayUrl(url), cause: e });
    // A certificate the server should not have is retried like any TLS failure without a proxy, then reported.
    throw new Transient(e instanceof ProxyError ? e.message : `${describeSystemError(e)} (through ${describeProxy(proxy)})`);
  }
}

/**
 * A progress callback that calls `emit` at each `stepPercent` (or every 100 MiB when the total is unknown): for
 * logs and CI output, where a rewriting line would be noise.
 */
export function progressSteps(
  emit: (line: string) => void,
  stepPercent = 10,
  now: () => number = Date.now,
): (bytes: number, total: number | undefined) => void {
  let next = 0;
  // The rate counts from the first report, so bytes a resume started with do not inflate it.
  let first: { at: number; bytes: number } | undefined;
  const rate = (bytes: number, total: number | undefined): string => {
    const seconds = (now() - first!.at) / 1000;
    if (seconds < 1 || bytes <= first!.bytes) return '';
    const perSecond = (bytes - first!.bytes) / seconds;
    const left = total && bytes < total ? (total - bytes) / perSecond : 0;
    return `${formatBytes(Math.round(perSecond))}/s${left >= 1 ? `, about ${left < 90 ? `${Math.ceil(left)} s` : `${Math.ceil(left / 60)} min`} left` : ''}`;
  };
  return (bytes, total) => {
    first ??= { at: now(), bytes };
    if (total) {
      const pct = Math.floor((bytes / total) * 100);
      if (pct >= next) {
        const speed = rate(bytes, total);
        emit(`${pct}% (${formatBytes(bytes)} of ${formatBytes(total)}${speed ? `, ${speed}` : ''})`);
        next = (Math.floor(pct / stepPercent) + 1) * stepPercent;
      }
    } else if (bytes >= next * (100 << 20) && bytes > 0) {
      const speed = rate(bytes, total);
      emit(`${formatBytes(bytes)}${speed ? ` (${speed})` : ''}`);
      next = Math.floor(bytes / (100 << 20)) + 1;
    }
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}
