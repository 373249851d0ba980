// A QEMU VM set up the way a real box sits on a lab bench, for the real-box tests: eve-qual reaches it only through
// what a profile of a real box names.
//   power    this file as a command (`tsx lab-box.ts on|off|status STATE`): starts QEMU detached, kills it, reads it;
//   console  a terminal server that stays up while the box is off (LabBench.consolePort: TCP, raw), bridging to the
//            VM's serial port, which connects to it each time the VM starts (a cable that is always plugged in);
//   media    a USB stick as a file: STATE/stick.raw, seen by the box only while STATE/stick.attached exists (a mux);
//   SSH      a forwarded loopback port to the VM's port 22.
// The VM belongs to the test, not to eve-qual (real boxes outlive runs): LabBench.stop() kills it.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { accelFor, findFirmware, qemuCommand, type QemuDisk } from '../../lib/box/qemu-machine.ts';
import { freePort } from './net.ts';
import { alive } from './procs.ts';
import { repoRoot } from './fixture-release.ts';

interface BenchConfig {
  consoleSocket: string;
  sshPort: number;
  memoryMb: number;
}

const cfgFile = (state: string) => path.join(state, 'box.json');
const pidFile = (state: string) => path.join(state, 'qemu.pid');

function pidOf(state: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile(state), 'utf8').trim());
    return pid > 0 && alive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Poll a condition (a process appearing or going): QEMU gives no event a separate process could wait on. */
async function until(what: string, ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`lab box: ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function powerOn(state: string): Promise<void> {
  if (pidOf(state)) return;
  const cfg = JSON.parse(fs.readFileSync(cfgFile(state), 'utf8')) as BenchConfig;
  const fw = findFirmware('amd64')!;
  const vars = path.join(state, 'vars.fd');
  if (!fs.existsSync(vars)) fs.copyFileSync(fw.vars, vars);
  const disks: QemuDisk[] = [{ id: 'target', file: path.join(state, 'target.raw'), bus: 'virtio', serial: 'target', bootIndex: 1 }];
  if (fs.existsSync(path.join(state, 'stick.attached'))) disks.unshift({ id: 'stick', file: path.join(state, 'stick.raw'), bus: 'usb', serial: 'STICK', bootIndex: 0 });
  const { file, args } = qemuCommand({
    arch: 'amd64',
    memoryMb: cfg.memoryMb,
    cpus: 1,
    accel: accelFor('amd64'),
    firmware: { code: fw.code, vars },
    disks,
    nics: [{ id: 'net0', model: 'virtio-net-pci', forwards: [{ hostPort: cfg.sshPort, guestPort: 22 }] }],
    consoleSocket: cfg.consoleSocket,
    qmpSocket: path.join(state, 'qmp.sock'),
  });
  // A box runs when powered: no paused start (-S is for eve-qual's own QMP-driven boxes).
  const argv = [...args.filter((a) => a !== '-S'), '-pidfile', pidFile(state)];
  fs.rmSync(pidFile(state), { force: true });
  const log = fs.openSync(path.join(state, 'qemu.log'), 'a');
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await until('QEMU did not write its pid file', () => pidOf(state) !== undefined, 20_000);
}

async function powerOff(state: string): Promise<void> {
  const pid = pidOf(state);
  if (!pid) return;
  process.kill(pid, 'SIGKILL'); // pulling the plug
  await until(`QEMU ${pid} did not exit`, () => !alive(pid), 10_000);
}

export interface LabBench {
  state: string;
  consolePort: number;
  sshPort: number;
  /** argv of the power command for an action, for the profile. */
  powerCommand(action: 'on' | 'off' | 'status'): string[];
  stickAttached(): boolean;
  /** Resolve when the box's serial line prints `re` from now on (the bench's own view of the cable). */
  waitForOutput(re: RegExp, ms: number): Promise<void>;
  stop(): Promise<void>;
}

function outputOf(seen: EventEmitter<{ data: [Buffer] }>, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (b: Buffer) => {
      text = (text + b.toString('latin1')).slice(-65536);
      if (!re.test(text)) return;
      clearTimeout(timer);
      seen.off('data', onData);
      resolve();
    };
    const timer = setTimeout(() => {
      seen.off('data', onData);
      reject(new Error(`the bench's serial line did not print ${re} within ${ms} ms; last: ${JSON.stringify(text.slice(-300))}`));
    }, ms);
    seen.on('data', onData);
  });
}

/** Set up a bench in `state` (an empty folder): the target disk, the terminal server, the power script's config. */
export async function startLabBench(state: string, opts: { diskMb?: number; memoryMb?: number } = {}): Promise<LabBench> {
  fs.mkdirSync(state, { recursive: true });
  const fd = fs.openSync(path.join(state, 'target.raw'), 'w');
  fs.ftruncateSync(fd, (opts.diskMb ?? 2048) * 1024 * 1024);
  fs.closeSync(fd);
  const consoleSocket = path.join(state, 'serial.sock');
  const consolePort = await freePort();
  const sshPort = await freePort();
  fs.writeFileSync(cfgFile(state), JSON.stringify({ consoleSocket, sshPort, memoryMb: opts.memoryMb ?? 1024 } satisfies BenchConfig));

  // The terminal server: the newest client and the box's serial line, bridged; bytes nobody listens to are lost,
  // as on a real UART.
  let box: net.Socket | undefined;
  let client: net.Socket | undefined;
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  };
  const seen = new EventEmitter<{ data: [Buffer] }>();
  const serial = net.createServer((s) => {
    track(s);
    box = s;
    s.on('data', (b) => {
      client?.write(b);
      seen.emit('data', b);
    });
    s.on('close', () => box === s && (box = undefined));
  });
  const server = net.createServer((s) => {
    track(s);
    client = s;
    s.on('data', (b) => box?.write(b));
    s.on('close', () => client === s && (client = undefined));
  });
  await new Promise<void>((r) => serial.listen(consoleSocket, r));
  await new Promise<void>((r) => server.listen(consolePort, '127.0.0.1', r));
  const tsx = path.join(repoRoot, 'node_modules', '.bin', 'tsx');
  const self = path.join(repoRoot, 'test', 'helpers', 'lab-box.ts');
  return {
    state,
    consolePort,
    sshPort,
    powerCommand: (action) => [tsx, self, action, state],
    stickAttached: () => fs.existsSync(path.join(state, 'stick.attached')),
    waitForOutput: (re, ms) => outputOf(seen, re, ms),
    async stop() {
      await powerOff(state);
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => serial.close(r)), new Promise((r) => server.close(r))]);
    },
  };
}

// As the power command of a profile.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [action, state] = process.argv.slice(2);
  if (!state || !fs.existsSync(cfgFile(state))) {
    console.error('usage: lab-box.ts on|off|status STATE (a folder set up by startLabBench)');
    process.exit(2);
  }
  if (action === 'on') await powerOn(state);
  else if (action === 'off') await powerOff(state);
  else if (action === 'status') console.log(pidOf(state) ? 'on' : 'off');
  else {
    console.error(`lab-box.ts: unknown action ${action}`);
    process.exit(2);
  }
}
