// The runner's address a box (or its BMC) fetches media from: the profile's `media.listen`, HOST[:PORT]. It goes
// into the URLs handed to the box, so a wildcard address is refused.
import net from 'node:net';
import { ConfigError, LabError, describeSystemError } from '../errors.ts';

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
