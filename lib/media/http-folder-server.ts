// Serve a fixed set of paths over HTTP for a box to fetch while it netboots (iPXE): files of an unpacked netboot set,
// and documents made per request (the iPXE script, which names the address the box reached us on). Only the paths
// registered are answered (no listing, no other file, symlinks never followed); GET and HEAD, with single byte
// ranges. Paths are fixed (no random prefix, unlike http-file-server.ts): a lab's DHCP server names the script's URL
// once, for every run. The listen address is the profile's, so a port in use or an address this runner lacks is a
// configuration error naming it.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { ConfigError, LabError, describeSystemError } from '../errors.ts';
import { parseListen } from './listen-address.ts';
import { byteRange, rangeHeaders } from './http-range.ts';

/** What one path answers: a file (read at request time), or a document made for each request. */
export type Route = { file: string } | { body: (req: http.IncomingMessage) => string; contentType?: string };

export interface FolderRequest {
  path: string;
  status: number;
  bytes: number;
  remote: string;
}

export interface FolderServer {
  /** `http://HOST:PORT/` as the runner listens (the address the profile names, with the bound port). */
  readonly base: string;
  readonly host: string;
  readonly port: number;
  /** Answer `urlPath` (leading `/`, as requested) with `route`; null removes it. */
  set(urlPath: string, route: Route | null): void;
  has(urlPath: string): boolean;
  stats(): { requests: number; bytes: number; refused: number };
  stop(): Promise<void>;
}

export interface FolderServerOptions {
  /** The profile field the listen address comes from, for error messages. */
  field?: string;
  /** Every answered or refused request, once its response has ended. */
  onRequest?: (r: FolderRequest) => void;
}

/** The Host header when it is a plain host[:port] (it goes into URLs we hand out), else undefined. */
export function requestHost(req: http.IncomingMessage): string | undefined {
  const h = req.headers.host?.trim();
  if (!h) return undefined;
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(h) ? h : undefined;
}

export async function serveFolder(listen: string, opts: FolderServerOptions = {}): Promise<FolderServer> {
  const field = opts.field ?? 'media.listen';
  const { host, port } = parseListen(listen, field);
  const routes = new Map<string, Route>();
  const stats = { requests: 0, bytes: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    let urlPath = (req.url ?? '').split('?')[0]!;
    try {
      urlPath = decodeURIComponent(urlPath);
    } catch {
      // not a path we serve
    }
    const remote = `${req.socket.remoteAddress ?? '?'}`;
    let sent = 0;
    const done = (status: number) => opts.onRequest?.({ path: urlPath, status, bytes: sent, remote });
    const route = routes.get(urlPath);
    if (!route || (method !== 'GET' && method !== 'HEAD')) {
      stats.refused++;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      done(404);
      return;
    }
    stats.requests++;
    if ('body' in route) {
      const body = Buffer.from(route.body(req), 'utf8');
      res.writeHead(200, { 'Content-Type': route.contentType ?? 'text/plain; charset=utf-8', 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
      if (method === 'HEAD') res.end();
      else {
        res.end(body);
        sent = body.length;
        stats.bytes += body.length;
      }
      done(200);
      return;
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(route.file);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      stats.refused++;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      done(404);
      return;
    }
    const size = st.size;
    const range = byteRange(req.headers.range, size);
    if (!range) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      done(416);
      return;
    }
    const { start, end, status } = range;
    res.writeHead(status, rangeHeaders(range, size, st.mtime));
    if (method === 'HEAD' || size === 0) {
      res.end();
      done(status);
      return;
    }
    const stream = fs.createReadStream(route.file, { start, end });
    stream.on('data', (c) => {
      sent += c.length;
      stats.bytes += c.length;
    });
    stream.on('error', () => res.destroy());
    res.on('close', () => done(status));
    stream.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      const why = describeSystemError(e);
      if (e.code === 'EADDRINUSE') {
        reject(new ConfigError(`${field}: ${listen} is already in use on this runner (${why}): another server or another run listens there; pick a free port`, { where: field, cause: e }));
      } else if (e.code === 'EACCES') {
        reject(new ConfigError(`${field}: cannot listen on ${listen} (${why}): ports below 1024 need root; pick a higher port`, { where: field, cause: e }));
      } else if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') {
        reject(new ConfigError(`${field}: cannot listen on ${listen} (${why}): is ${host} an address of this runner?`, { where: field, cause: e }));
      } else reject(new LabError(`cannot listen on ${listen} for ${field}: ${why}`, { where: field, cause: e }));
    });
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  const hostInUrl = net.isIPv6(host) ? `[${host}]` : host;
  let stopped: Promise<void> | undefined;
  return {
    base: `http://${hostInUrl}:${bound}/`,
    host,
    port: bound,
    set(urlPath, route) {
      if (route) routes.set(urlPath, route);
      else routes.delete(urlPath);
    },
    has: (urlPath) => routes.has(urlPath),
    stats: () => ({ ...stats }),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}
