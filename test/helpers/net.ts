// Test helpers for real peers: free loopback ports and waiting until a peer listens.
import net from 'node:net';
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
