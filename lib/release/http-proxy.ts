// The lab's HTTP proxy, from the environment as curl reads it, for release downloads: labs that fetch EVE releases
// from GitHub often reach the Internet only through one.
//   https_proxy / HTTPS_PROXY   for https:// URLs (a CONNECT tunnel; TLS stays end to end, so the server's
//                               certificate is checked as without a proxy; a proxy that re-signs needs its CA in
//                               NODE_EXTRA_CA_CERTS)
//   http_proxy / HTTP_PROXY     for http:// URLs (the proxy fetches the absolute URL)
//   all_proxy / ALL_PROXY       for either, when the one above is not set
//   no_proxy / NO_PROXY         hosts reached directly: `*`, names that match themselves and their subdomains
//                               (`example.com`, `.example.com`), IP addresses, each optionally with `:port`, and
//                               address ranges (`10.0.0.0/8`, `fd00::/8`)
// The lower-case name wins, as in curl. A proxy without a scheme is http://; without a port, 1080 (curl's default).
// Credentials in the proxy URL are sent as Basic Proxy-Authorization and never shown.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError, describeSystemError } from '../errors.ts';

export interface HttpProxy {
  url: URL;
  /** The variable it came from, for messages. */
  variable: string;
}

type Env = Record<string, string | undefined>;

function fromEnv(env: Env, name: string): { variable: string; value: string } | undefined {
  for (const variable of [name.toLowerCase(), name.toUpperCase()]) {
    const value = env[variable]?.trim();
    if (value) return { variable, value };
  }
  return undefined;
}

/** The proxy `url` goes through, or undefined for a direct connection. A malformed variable is a ConfigError. */
export function proxyFor(url: URL, env: Env = process.env): HttpProxy | undefined {
  const found = fromEnv(env, url.protocol === 'https:' ? 'https_proxy' : 'http_proxy') ?? fromEnv(env, 'all_proxy');
  if (!found || bypassed(url, fromEnv(env, 'no_proxy')?.value ?? '')) return undefined;
  return { url: parseProxy(found.variable, found.value), variable: found.variable };
}

function parseProxy(variable: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new ConfigError(`${variable}: not a proxy URL (expected http://host:port)`, { where: variable });
  }
  if (url.protocol !== 'http:') {
    throw new ConfigError(`${variable}: ${url.protocol}// proxies are not supported, only http:// (CONNECT for https URLs)`, { where: variable });
  }
  if (!url.port) url.port = '1080';
  return url;
}

/** A URL's host without the brackets of an IPv6 literal, as sockets and comparisons want it. */
function bareHost(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** no_proxy matching, curl's rules. */
function bypassed(url: URL, noProxy: string): boolean {
  const host = bareHost(url).toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) {
      if (inCidr(host, entry)) return true;
      continue;
    }
    const { name, port: only } = splitEntry(entry);
    if (only && only !== port) continue;
    const bare = name.replace(/^\*?\./, '');
    if (host === bare || (!net.isIP(host) && host.endsWith(`.${bare}`))) return true;
  }
  return false;
}

/** `10.0.0.0/8`, `fd00::/8`: whether the IP address `host` is in it (a host name never is, as in curl). */
function inCidr(host: string, entry: string): boolean {
  const [addr = '', bits = ''] = entry.replace(/^\[|\](?=\/)/g, '').split('/');
  const family = net.isIP(addr);
  const prefix = Number(bits);
  if (!family || net.isIP(host) !== family || !/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return false;
  const list = new net.BlockList();
  list.addSubnet(addr, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address. */
function splitEntry(entry: string): { name: string; port?: string } {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (v6) return { name: v6[1]!, ...(v6[2] ? { port: v6[2] } : {}) };
  if (entry.split(':').length > 2) return { name: entry };
  const [name, port] = entry.split(':');
  return { name: name!, ...(port ? { port } : {}) };
}

/** `http://proxy:3128 (from HTTPS_PROXY)`, without credentials. */
export function describeProxy(p: HttpProxy): string {
  return `proxy ${p.url.protocol}//${p.url.host} (from ${p.variable})`;
}

function proxyAuthorization(p: HttpProxy): Record<string, string> {
  if (!p.url.username) return {};
  const creds = `${decodeURIComponent(p.url.username)}:${decodeURIComponent(p.url.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(creds).toString('base64')}` };
}

/** What to do about a proxy that refused the request for want of (the right) credentials. */
export function credentialsHint(p: HttpProxy): string {
  return p.url.username
    ? `check the credentials in ${p.variable} (http://user:password@host:port, percent-encoded)`
    : `give credentials as http://user:password@host:port in ${p.variable}`;
}

/** Request options that send a plain-HTTP request for `url` to the proxy, which fetches the absolute URL. */
export function viaProxy(url: URL, p: HttpProxy, headers: Record<string, string>): http.RequestOptions {
  const target = new URL(url.href);
  target.username = '';
  target.password = '';
  return {
    host: bareHost(p.url),
    port: Number(p.url.port),
    path: target.href,
    headers: { ...headers, host: url.host, ...proxyAuthorization(p) },
  };
}

/** What went wrong on the way through the proxy: `retry` for faults worth another attempt. */
export class ProxyError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
}

/**
 * A TLS connection to `url`'s host through a CONNECT tunnel, for https.request's createConnection. Certificate and
 * name are checked against the server, not the proxy.
 */
export function tunnel(url: URL, p: HttpProxy, opts: { signal?: AbortSignal; idleMs: number }): Promise<tls.TLSSocket> {
  const host = bareHost(url);
  const port = url.port || '443';
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: bareHost(p.url),
      port: Number(p.url.port),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...proxyAuthorization(p) },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    req.setTimeout(opts.idleMs, () => req.destroy(new ProxyError(`${describeProxy(p)}: no answer to CONNECT ${authority} for ${opts.idleMs} ms`, true)));
    req.once('connect', (res, socket, head) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        socket.destroy();
        const why = `${describeProxy(p)} answered CONNECT ${authority} with HTTP ${status} ${res.statusMessage ?? ''}`.trim();
        // 407: credentials missing or wrong (tinyproxy answers wrong ones with 401); 403: the proxy's policy. Neither
        // gets better by asking again.
        return reject(new ProxyError(status === 407 || status === 401 ? `${why}: ${credentialsHint(p)}` : why, status >= 500));
      }
      if (head.length > 0) socket.unshift(head);
      const secure = tls.connect({ socket, ...(net.isIP(host) ? { host } : { servername: host, host }) });
      // The handshake gets the same idle bound as everything else: a server behind the tunnel that never answers
      // must not hang the download.
      secure.setTimeout(opts.idleMs, () => secure.destroy(new ProxyError(`TLS with ${authority} through ${describeProxy(p)}: no answer for ${opts.idleMs} ms`, true)));
      const onAbort = () => secure.destroy(opts.signal?.reason as Error);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const fail = (e: Error) => {
        opts.signal?.removeEventListener('abort', onAbort);
        reject(opts.signal?.aborted ? opts.signal.reason : e);
      };
      secure.once('error', fail);
      secure.once('secureConnect', () => {
        secure.off('error', fail);
        secure.setTimeout(0);
        opts.signal?.removeEventListener('abort', onAbort);
        resolve(secure);
      });
    });
    req.once('error', (e) => {
      if (opts.signal?.aborted) return reject(opts.signal.reason);
      reject(e instanceof ProxyError ? e : new ProxyError(`${describeProxy(p)}: ${describeSystemError(e)}`, true));
    });
    req.end();
  });
}
