// ser2net 4 (YAML config) as a lab terminal server for link tests: it exports a serial device (one end of a socat pty
// pair) on a loopback TCP port, raw, telnet, or telnet with RFC 2217. Facts this relies on (ser2net 4.3):
// - it opens the device only when a client connects, and hangs up on the client when the device goes away; a client
//   connecting while the device is missing gets "Device open failure: …" and a hang-up;
// - it prints nothing when it starts listening, so readiness is read from /proc/net/tcp (a probe connection would be
//   a session of its own and could kick or be refused);
// - on SIGTERM it hangs up on its clients first and still accepts for a few milliseconds: a client that reconnects at
//   once can be accepted by the dying server and reset right after;
// - `-u` disables UUCP lock files (they would go to /var/lock), `-P` keeps the pid file out of /run.
import { waitForListen } from './net.ts';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startPeer, type Peer } from './peer.ts';

export type Ser2netAccepter = 'raw' | 'telnet' | 'rfc2217';

export interface Ser2netOptions {
  dir: string;
  device: string;
  port: number;
  accepter: Ser2netAccepter;
  /** ser2net's own line settings for the device, e.g. 115200n81. */
  line?: string;
}

export interface Ser2net {
  readonly port: number;
  readonly peer: Peer;
  stop(): Promise<void>;
  /** Start again after stop(), same config and port. */
  start(): Promise<void>;
}

export async function startSer2net(opts: Ser2netOptions): Promise<Ser2net> {
  const accepter = { raw: 'tcp', telnet: 'telnet,tcp', rfc2217: 'telnet(rfc2217),tcp' }[opts.accepter];
  const config = path.join(opts.dir, `ser2net-${opts.port}.yaml`);
  await writeFile(
    config,
    [
      '%YAML 1.1',
      '---',
      'connection: &box',
      `  accepter: ${accepter},127.0.0.1,${opts.port}`,
      `  connector: serialdev,${opts.device},${opts.line ?? '115200n81'},local`,
      '  options:',
      // A reconnecting client must not be refused because ser2net has not noticed the old session died yet.
      '    kickolduser: true',
      '',
    ].join('\n'),
  );
  const start = async () => {
    const p = startPeer('ser2net', ['-n', '-u', '-c', config, '-P', path.join(opts.dir, `ser2net-${opts.port}.pid`)], { name: 'ser2net' });
    await waitForListen(opts.port, p);
    return p;
  };
  let peer = await start();
  return {
    port: opts.port,
    get peer() {
      return peer;
    },
    stop: () => peer.stop(),
    start: async () => {
      peer = await start();
    },
  };
}

export { waitForListen };
