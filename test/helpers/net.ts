// Test helpers for real peers: free loopback ports and waiting until a peer listens.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { Peer } from './peer.ts';
import { freeLoopbackPort } from '../../lib/util/ports.ts';
import { Deadline, pause } from '../../lib/util/deadline.ts';

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export const freePort = freeLoopbackPort;

/** Resolve once something accepts TCP connections on 127.0.0.1:port (polling with backoff, bounded). */
export async function waitForPort(port: number, timeoutMs = 10_000, host = '127.0.0.1'): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  let delay = 10;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (deadline.expired()) throw new Error(`nothing listening on ${host}:${port} after ${timeoutMs} ms`);
    await pause(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Wait until something listens on 127.0.0.1:port, without connecting to it. */
export async function waitForListen(port: number, peer?: Peer, timeoutMs = 10_000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let delay = 5;
  for (;;) {
    const table = await readFile('/proc/net/tcp', 'utf8');
    // Columns: sl local_address rem_address st …; st 0A is LISTEN.
    if (table.split('\n').some((l) => { const f = l.trim().split(/\s+/); return f[1] === local && f[3] === '0A'; })) return;
    if (peer && peer.proc.exitCode !== null) throw new Error(`${peer.name} exited before listening on ${port}:\n${peer.output()}`);
    if (deadline.expired()) throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms${peer ? `:\n${peer.output()}` : ''}`);
    await pause(delay);
    delay = Math.min(delay * 2, 100);
  }
}
