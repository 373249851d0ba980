// pdudaemon (Debian package) as the lab's PDU service for tests: its HTTP listener on a loopback port only, one PDU
// with the `localcmdline` driver whose on/off commands reach the test's fixture outlets: a unix socket served by the
// test process, where outlet N switches a fixture box (a real QEMU VM the test owns, so it never outlives the test).
// Outlets the test did not wire answer "no such outlet", which pdudaemon ignores (it cannot tell), like a real PDU
// asked for an outlet nobody plugged a box into.
// Facts this relies on (pdudaemon 0.0.8): the HTTP API runs the driver command before it answers 200; an unknown
// PDU hostname answers 500 "Invalid request"; localcmdline runs `cmd_on % port` through sh and ignores its exit code.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from './net.ts';
import { startPeer, type Peer } from './peer.ts';
import { waitForOutput } from './socat.ts';

export interface Outlet {
  on(): Promise<void>;
  off(): Promise<void>;
}

export interface Pdudaemon {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The PDU's name in pdudaemon's config. */
  readonly pdu: string;
  readonly peer: Peer;
  /** Every outlet command received, in order: `on 1`, `off 7`... */
  readonly switched: string[];
  stop(): Promise<void>;
}

export async function startPdudaemon(opts: { dir: string; outlets: Record<number, Outlet> }): Promise<Pdudaemon> {
  const sock = path.join(opts.dir, 'outlets.sock');
  const switched: string[] = [];
  // Half-open: socat shuts its write side after the request and must still get the answer once the outlet switched.
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    let buf = '';
    c.on('data', (d) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const [what, n] = buf.slice(0, nl).trim().split(/\s+/);
      switched.push(`${what} ${n}`);
      const outlet = opts.outlets[Number(n)];
      const act = !outlet ? Promise.reject(new Error(`no such outlet ${n}`)) : what === 'on' ? outlet.on() : what === 'off' ? outlet.off() : Promise.reject(new Error(`unknown request ${what}`));
      act.then(
        () => c.end('ok\n'),
        (e: Error) => c.end(`error: ${e.message}\n`),
      );
    });
    c.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const port = await freePort();
  const conf = path.join(opts.dir, 'pdudaemon.conf');
  const cmd = (what: string) => `echo ${what} %s | socat -t60 - UNIX-CONNECT:${sock}`;
  fs.writeFileSync(
    conf,
    JSON.stringify({
      daemon: { hostname: '127.0.0.1', port, logging_level: 'DEBUG', listener: 'http' },
      pdus: { 'fixture-pdu': { driver: 'localcmdline', cmd_on: cmd('on'), cmd_off: cmd('off'), retries: 1 } },
    }),
  );
  const args = ['--conf', conf, '--logfile', '-'];
  const peer = fs.existsSync('/usr/bin/setpriv')
    ? startPeer('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', 'pdudaemon', ...args], { name: 'pdudaemon' })
    : startPeer('pdudaemon', args, { name: 'pdudaemon' });
  await waitForOutput(peer, new RegExp(`Listening on 127\\.0\\.0\\.1:${port}`), 15_000);
  return {
    url: `http://127.0.0.1:${port}`,
    pdu: 'fixture-pdu',
    peer,
    switched,
    async stop() {
      await peer.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(sock, { force: true });
    },
  };
}
