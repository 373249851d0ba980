// Serve one file over HTTP for a box's BMC to fetch (virtual media, iPXE): bound to the address the profile names
// (the runner's address on the lab network that the BMC reaches), at an unguessable path, for as long as the caller
// keeps it (a run), and nothing else: any other path is 404, no directory listing, no other file. GET and HEAD with
// single byte ranges, as BMCs stream virtual media in ranges rather than downloading it whole.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ConfigError, LabError, describeSystemError } from '../errors.ts';
import { byteRange, rangeHeaders } from './http-range.ts';

export interface ServedFile {
  /** The URL the box fetches. */
  readonly url: string;
  readonly file: string;
  /** Requests answered and bytes sent so far (for the step log). */
  stats(): { requests: number; bytes: number; refused: number };
  stop(): Promise<void>;
}

/** Parse `HOST[:PORT]` (IPv6 in brackets); port 0 or absent = any free port. */
export function parseListen(listen: string, field = 'media.listen'): { host: string; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(listen.trim());
  if (!m) throw new ConfigError(`${field}: ${JSON.stringify(listen)} is not HOST[:PORT]`, { where: field });
  const host = (m[1] ?? m[2])!;
  const port = m[3] ? Number(m[3]) : 0;
  if (port > 65535) throw new ConfigError(`${field}: port ${port} is not a TCP port`, { where: field });
  if (host === '0.0.0.0' || host === '::')
    throw new ConfigError(`${field}: name the runner's address that the box's BMC reaches, not ${host} (it goes into the URL the BMC fetches)`, { where: field });
  return { host, port };
}

export async function serveFile(file: string, listen: string): Promise<ServedFile> {
  const { host, port } = parseListen(listen);
  const st = fs.statSync(file);
  if (!st.isFile()) throw new ConfigError(`${file} is not a file`);
  const size = st.size;
  const urlPath = `/${randomBytes(12).toString('hex')}/${encodeURIComponent(path.basename(file))}`;
  const stats = { requests: 0, bytes: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    const method = req.method ?? 'GET';
    if ((req.url ?? '').split('?')[0] !== urlPath || (method !== 'GET' && method !== 'HEAD')) {
      stats.refused++;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    stats.requests++;
    const range = byteRange(req.headers.range, size);
    if (!range) {
      res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    const { start, end } = range;
    res.writeHead(range.status, rangeHeaders(range, size, st.mtime));
    if (method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    const stream = fs.createReadStream(file, { start, end });
    stream.on('data', (c) => (stats.bytes += c.length));
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new LabError(`cannot serve the installer on ${listen}: ${describeSystemError(e)} (is ${host} an address of this runner?)`, { where: listen, cause: e })),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  const url = `http://${net.isIPv6(host) ? `[${host}]` : host}:${bound}${urlPath}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    file,
    stats: () => ({ ...stats }),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      })),
  };
}

/** Check that `listen` can be bound here (for the lab health check); the port is released at once. */
export async function checkListen(listen: string): Promise<string> {
  const { host, port } = parseListen(listen);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new LabError(`cannot listen on ${listen}: ${describeSystemError(e)} (is ${host} an address of this runner?)`, { where: listen, cause: e })));
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port || bound}`;
}
