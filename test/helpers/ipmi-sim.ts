// OpenIPMI's ipmi_sim as a real BMC for IPMI tests: IPMI v2 (RMCP+) on a loopback UDP port, chassis power driving a
// fixture QEMU box (UEFI firmware only, 256 MiB) through `startcmd`, and Serial over LAN wired to the box's serial
// port. Facts this relies on (OpenIPMI 2.0.33):
// - chassis power control needs a system interface channel with power capability: `serial 15 ... codec VM` gives
//   one, and QEMU's ipmi-bmc-extern device connects to it, so power off is a clean quit and reset a real reset;
// - without `mc_setbmc` in the command file ipmi_sim exits at start;
// - `sol "tcp:HOST:PORT"` connects (and reconnects) to the box's serial port as a client; QEMU's serial is a
//   server with wait=on, so the firmware does not run before the BMC listens and no console byte is lost;
// - `startcmd` runs under `sh -c exec`; the box runs under `setpriv --pdeathsig KILL`, so it dies with ipmi_sim,
//   which itself dies with the test process.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { accelFor, findFirmware } from '../../lib/box/qemu-machine.ts';
import { Deadline, pause } from '../../lib/util/deadline.ts';
import { freePort } from './net.ts';
import { startPeer, type Peer } from './peer.ts';
import { waitForListen } from './ser2net.ts';

export interface IpmiSimOptions {
  dir: string;
  user?: string;
  password: string;
  /**
   * The box's serial port: 'sol' (default) wired to the BMC's Serial over LAN; 'tcp' a raw TCP server on loopback
   * (`serialPort`), as a terminal server would export it; 'none' discarded.
   */
  serial?: 'sol' | 'tcp' | 'none';
}

export interface IpmiSim {
  readonly host: string;
  /** UDP port of the RMCP+ service. */
  readonly port: number;
  readonly user: string;
  /** A token in the box's QEMU command line: finds its process. */
  readonly vmToken: string;
  /** With serial 'tcp': the loopback port of the box's serial console. */
  readonly serialPort: number;
  readonly peer: Peer;
  /** pid of the fixture box's QEMU, if running. */
  vmPid(): Promise<number | undefined>;
  /** Resolve once the box's QEMU is running (true) or gone (false); rejects at the deadline. */
  waitVm(running: boolean, timeoutMs?: number): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** A UDP port that was free on 127.0.0.1 a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Running processes whose command line contains `token` (zombies excluded). */
export async function pidsWithToken(token: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = await readFile(`/proc/${d}/cmdline`, 'utf8');
      if (!cmd.includes(token) || cmd.startsWith('/bin/sh')) continue;
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      if (/ [ZX] /.test(stat.slice(stat.lastIndexOf(')')))) continue;
      if (cmd.split('\0')[0]!.endsWith('qemu-system-x86_64') || cmd.includes('\0qemu-system-x86_64\0')) out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

async function waitUdp(port: number, peer: Peer, timeoutMs = 10_000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    const table = await readFile('/proc/net/udp', 'utf8');
    if (table.split('\n').some((l) => l.trim().split(/\s+/)[1] === local)) return;
    if (peer.proc.exitCode !== null) throw new Error(`ipmi_sim exited at start:\n${peer.output()}`);
    if (deadline.expired()) throw new Error(`ipmi_sim not listening on udp ${port} after ${timeoutMs} ms:\n${peer.output()}`);
    await pause(delay);
  }
}

export async function startIpmiSim(opts: IpmiSimOptions): Promise<IpmiSim> {
  const user = opts.user ?? 'admin';
  const port = await freeUdpPort();
  const vmPort = await freePort();
  const solPort = await freePort();
  const vmToken = `eqfix-${randomBytes(4).toString('hex')}`;
  const serial = opts.serial ?? 'sol';
  const fw = findFirmware('amd64');
  if (!fw) throw new Error('OVMF firmware is missing (Debian package ovmf)');
  const vars = path.join(opts.dir, 'vars.fd');
  await copyFile(fw.vars, vars);
  const setpriv = fs.existsSync('/usr/bin/setpriv') ? 'setpriv --pdeathsig KILL -- ' : '';
  const accel = accelFor('amd64');
  const qemu = [
    `${setpriv}qemu-system-x86_64 -name ${vmToken} -nodefaults -no-user-config -display none`,
    `-machine q35,accel=${accel} -cpu ${accel === 'kvm' ? 'host' : 'max'} -m 256`,
    `-drive if=pflash,format=raw,unit=0,readonly=on,file=${fw.code} -drive if=pflash,format=raw,unit=1,file=${vars}`,
    // The box's serial port: a server the BMC's SOL connects to (QEMU waits for it: no byte lost), a terminal-server
    // like TCP port (not waiting: a console nobody watches must not stop the box), or a sink.
    serial === 'sol'
      ? `-chardev socket,id=c0,host=127.0.0.1,port=${solPort},server=on,wait=on -serial chardev:c0`
      : serial === 'tcp'
        ? `-chardev socket,id=c0,host=127.0.0.1,port=${solPort},server=on,wait=off -serial chardev:c0`
        : '-serial null',
    `-chardev socket,id=ipmi0,host=127.0.0.1,port=${vmPort},reconnect=1 -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0`,
  ].join(' ');
  const conf = path.join(opts.dir, 'lan.conf');
  await writeFile(
    conf,
    [
      'name "eqbmc"',
      'set_working_mc 0x20',
      'startlan 1',
      `  addr 127.0.0.1 ${port}`,
      '  priv_limit admin',
      '  allowed_auths_callback none md2 md5 straight',
      '  allowed_auths_user none md2 md5 straight',
      '  allowed_auths_operator none md2 md5 straight',
      '  allowed_auths_admin none md2 md5 straight',
      '  guid a123456789abcdefa123456789abcdef',
      'endlan',
      `serial 15 127.0.0.1 ${vmPort} codec VM`,
      ...(serial === 'sol' ? [`sol "tcp:127.0.0.1:${solPort}" 115200`] : []),
      `startcmd "${qemu}"`,
      'startnow false',
      'poweroff_wait 5',
      'kill_wait 5',
      `user 2 true "${user}" "${opts.password}" admin 10 none md2 md5 straight`,
      '',
    ].join('\n'),
  );
  const cmds = path.join(opts.dir, 'ipmisim.emu');
  await writeFile(cmds, ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr', 'mc_enable 0x20', ''].join('\n'));
  const state = path.join(opts.dir, 'ipmi-state');
  fs.mkdirSync(state, { recursive: true });
  const args = ['-c', conf, '-f', cmds, '-s', state, '-n'];
  const peer = fs.existsSync('/usr/bin/setpriv')
    ? startPeer('/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', 'ipmi_sim', ...args], { name: 'ipmi_sim' })
    : startPeer('ipmi_sim', args, { name: 'ipmi_sim' });
  await waitUdp(port, peer);
  await waitForListen(vmPort, peer);

  const vmPid = async () => (await pidsWithToken(vmToken))[0];
  return {
    host: '127.0.0.1',
    port,
    user,
    vmToken,
    serialPort: solPort,
    peer,
    vmPid,
    async waitVm(running, timeoutMs = 20_000) {
      const deadline = new Deadline(timeoutMs);
      for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
        const pid = await vmPid();
        if (running === (pid !== undefined)) return pid;
        if (deadline.expired()) throw new Error(`fixture box ${vmToken} still ${running ? 'not running' : 'running'} after ${timeoutMs} ms`);
        await pause(delay);
      }
    },
    async stop() {
      await peer.stop();
      // The box dies with ipmi_sim (pdeathsig); wait until it is gone so no test leaves a VM behind.
      const deadline = new Deadline(10_000);
      for (let delay = 20; (await vmPid()) !== undefined && !deadline.expired(); delay = Math.min(delay * 2, 250)) await pause(delay);
      for (const pid of await pidsWithToken(vmToken)) process.kill(pid, 'SIGKILL');
    },
  };
}
