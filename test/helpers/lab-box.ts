// A QEMU VM set up the way a real box sits on a lab bench, for the real-box tests: eve-qual reaches it only through
// what a profile of a real box names.
//   power    this file as a command (`tsx lab-box.ts on|off|status STATE`): starts QEMU detached, kills it, reads it;
//   console  a terminal server that stays up while the box is off (LabBench.consolePort: TCP, raw), bridging to the
//            VM's serial port, which connects to it each time the VM starts (a cable that is always plugged in);
//   media    a USB stick as a file: STATE/stick.raw, seen by the box only while STATE/stick.attached exists (a mux);
//   SSH      a forwarded loopback port to the VM's port 22.
// Its hardware (BenchHardware) is the bench's, not a profile's: a test rewires it between power cycles (a NIC pulled,
// a cable unplugged, another stick, no TPM...) and boots the installed disk through a copy-on-write overlay (QEMU's
// snapshot=on: a qcow2 overlay in $TMPDIR, dropped when the VM is powered off), so one install serves every case,
// none sees another's writes, and the profile eve-qual reads stays the same.
// The VM belongs to the test, not to eve-qual (real boxes outlive runs): LabBench.stop() kills it.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { accelFor, findFirmware, qemuCommand, type QemuDisk, type QemuNic } from '../../lib/box/qemu-machine.ts';
import { QmpClient } from '../../lib/box/qmp.ts';
import { unixSocketListening } from '../../lib/util/unix-socket.ts';
import { freePort } from './net.ts';
import { alive } from './procs.ts';
import { repoRoot } from './fixture-release.ts';

/** What is plugged into the bench's VM, one part at a time. eth0 (virtio, carrying SSH) is always there. */
export interface BenchHardware {
  /** A second port (e1000): cabled, present with its cable unplugged (link down from power-on), or not fitted. */
  eth1: 'cabled' | 'unplugged' | 'absent';
  /** A data stick on xhci root port 1 (the guest's 2-1 at USB 3 speed), or none. */
  stick: { sizeMb: number; readOnly: boolean } | null;
  /** A QEMU usb-kbd (0627:0001) on xhci root port 2. */
  keyboard: boolean;
  /** A second virtio disk (vdb) of this many MiB, or none. */
  dataDiskMb: number | null;
  /** swtpm and a TPM 2.0 (tpm-tis) in the VM; the TPM's state stays with the bench (the install's keys live in it). */
  tpm: boolean;
  /** The CPU's virtualization extensions (vmx/svm) offered to the guest. */
  vtx: boolean;
  /** An i6300esb watchdog: resetting the box when it fires, or doing nothing (-action watchdog=none); null: none fitted. */
  watchdog: 'resets' | 'does-nothing' | null;
}

/** The bench of the first real-box tests: one NIC and nothing else. */
export const BARE_BENCH: BenchHardware = { eth1: 'absent', stick: null, keyboard: false, dataDiskMb: null, tpm: false, vtx: true, watchdog: null };

interface BenchConfig {
  consoleSocket: string;
  sshPort: number;
  memoryMb: number;
  hardware: BenchHardware;
  /** The VM boots the install target through a throwaway overlay: the target itself is never written. */
  overlay: boolean;
}

const cfgFile = (state: string) => path.join(state, 'box.json');
const pidFile = (state: string) => path.join(state, 'qemu.pid');
const swtpmPidFile = (state: string) => path.join(state, 'swtpm.pid');

function pidOf(state: string, file = pidFile(state)): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
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

/** A sparse image of `sizeMb` MiB in the bench's folder, made once per size. */
function sparseImage(state: string, name: string, sizeMb: number): string {
  const file = path.join(state, `${name}-${sizeMb}m.raw`);
  if (!fs.existsSync(file)) {
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, sizeMb * 1024 * 1024);
    fs.closeSync(fd);
  }
  return file;
}

function disksOf(state: string, cfg: BenchConfig): QemuDisk[] {
  const hw = cfg.hardware;
  const disks: QemuDisk[] = [{ id: 'target', file: path.join(state, 'target.raw'), bus: 'virtio', serial: 'target', bootIndex: 1 }];
  if (hw.dataDiskMb !== null) disks.push({ id: 'data', file: sparseImage(state, 'data', hw.dataDiskMb), bus: 'virtio', serial: 'data' });
  if (hw.stick) disks.push({ id: 'stick0', file: sparseImage(state, 'stick0', hw.stick.sizeMb), bus: 'usb', usbPort: 1, serial: 'STICK0', readonly: hw.stick.readOnly });
  if (fs.existsSync(path.join(state, 'stick.attached'))) disks.push({ id: 'stick', file: path.join(state, 'stick.raw'), bus: 'usb', usbPort: 4, serial: 'STICK', bootIndex: 0 });
  return disks;
}

/** End the last boot's swtpm and wait for it: exiting, it unlinks its socket, which may by then be the next one's. */
async function stopSwtpm(state: string): Promise<void> {
  const pid = pidOf(state, swtpmPidFile(state));
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  await until(`swtpm ${pid} did not exit`, () => !alive(pid), 10_000);
}

/** swtpm for the VM, detached like QEMU; it ends when QEMU lets go of it (--terminate) or at power off. */
async function startSwtpm(state: string): Promise<string> {
  await stopSwtpm(state);
  const dir = path.join(state, 'tpm');
  fs.mkdirSync(dir, { recursive: true });
  const sock = path.join(state, 'swtpm.sock');
  fs.rmSync(sock, { force: true });
  const log = fs.openSync(path.join(state, 'swtpm.log'), 'a');
  const child = spawn('swtpm', ['socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--ctrl', `type=unixio,path=${sock}`, '--terminate'], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  fs.writeFileSync(swtpmPidFile(state), String(child.pid));
  await until(`swtpm did not listen on ${sock}`, () => unixSocketListening(sock), 10_000);
  return sock;
}

function machineArgs(state: string, cfg: BenchConfig, tpmSocket: string | undefined): { file: string; args: string[] } {
  const hw = cfg.hardware;
  const fw = findFirmware('amd64')!;
  const vars = path.join(state, 'vars.fd');
  if (!fs.existsSync(vars)) fs.copyFileSync(fw.vars, vars);
  const disks = disksOf(state, cfg);
  const nics: QemuNic[] = [{ id: 'net0', model: 'virtio-net-pci', forwards: [{ hostPort: cfg.sshPort, guestPort: 22 }] }];
  if (hw.eth1 !== 'absent') nics.push({ id: 'net1', model: 'e1000' });
  const extra: string[] = [];
  if (hw.keyboard) {
    if (!disks.some((d) => d.bus === 'usb')) extra.push('-device', 'qemu-xhci,id=xhci');
    extra.push('-device', 'usb-kbd,bus=xhci.0,port=2');
  }
  const { file, args } = qemuCommand({
    arch: 'amd64',
    memoryMb: cfg.memoryMb,
    cpus: 1,
    accel: accelFor('amd64'),
    firmware: { code: fw.code, vars },
    disks,
    nics,
    ...(hw.watchdog ? { watchdog: { model: 'i6300esb' as const, action: hw.watchdog === 'resets' ? ('reset' as const) : ('none' as const) } } : {}),
    ...(tpmSocket ? { tpmSocket } : {}),
    consoleSocket: cfg.consoleSocket,
    qmpSocket: path.join(state, 'qmp.sock'),
    extraArgs: extra,
  });
  // Under TCG QEMU's max CPU offers svm (not vmx), KVM's host CPU what the host has. A CPU without either: under KVM
  // the host's with both off (as firmware turns them off); under TCG the baseline qemu64 without svm, because max
  // with svm removed breaks the guest's userspace (QEMU 7.2: glibc's dl-origin asserts, init dies of a GP fault).
  const cpu = args.indexOf('-cpu') + 1;
  if (!hw.vtx) args[cpu] = `${args[cpu] === 'host' ? 'host' : 'qemu64'},-vmx,-svm`;
  if (cfg.overlay) {
    const target = args.findIndex((a) => a.startsWith('if=none,id=target,'));
    args[target] += ',snapshot=on';
  }
  return { file, args };
}

async function powerOn(state: string): Promise<void> {
  if (pidOf(state)) return;
  const cfg = JSON.parse(fs.readFileSync(cfgFile(state), 'utf8')) as BenchConfig;
  const tpmSocket = cfg.hardware.tpm ? await startSwtpm(state) : undefined;
  const { file, args } = machineArgs(state, cfg, tpmSocket);
  // Started paused (-S) so a cable can be unplugged before the first instruction; then it runs, as a box does.
  const argv = [...args, '-pidfile', pidFile(state)];
  fs.rmSync(pidFile(state), { force: true });
  const log = fs.openSync(path.join(state, 'qemu.log'), 'a');
  const child = spawn(file, argv, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await until('QEMU did not write its pid file', () => pidOf(state) !== undefined, 20_000);
  await onMonitor(state, async (qmp) => {
    if (cfg.hardware.eth1 === 'unplugged') await qmp.execute('set_link', { name: 'net1', up: false });
    await qmp.execute('cont');
  });
}

/** Commands on the running VM's QMP monitor (one client at a time: connected for these, then closed). */
async function onMonitor(state: string, commands: (qmp: QmpClient) => Promise<void>): Promise<void> {
  const qmp = new QmpClient(path.join(state, 'qmp.sock'));
  await qmp.connect(20_000);
  try {
    await commands(qmp);
  } finally {
    qmp.close();
  }
}

async function powerOff(state: string): Promise<void> {
  const pid = pidOf(state);
  if (!pid) return;
  process.kill(pid, 'SIGKILL'); // pulling the plug
  await until(`QEMU ${pid} did not exit`, () => !alive(pid), 10_000);
  await stopSwtpm(state);
}

export interface LabBench {
  state: string;
  consolePort: number;
  sshPort: number;
  /** argv of the power command for an action, for the profile. */
  powerCommand(action: 'on' | 'off' | 'status'): string[];
  stickAttached(): boolean;
  /**
   * The hardware the VM gets at its next power-on (the box must be off: a bench is rewired unplugged), booting the
   * install target as it is (installing onto it) or through an overlay (every boot after the install).
   */
  rewire(hardware: BenchHardware, opts?: { overlay?: boolean }): void;
  /** The power command run as the profile runs it. */
  power(action: 'on' | 'off'): Promise<void>;
  /** Reset the running VM as its reset line would (a hardware watchdog, a brownout): no power command, no warning. */
  reset(): Promise<void>;
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
export async function startLabBench(state: string, opts: { diskMb?: number; memoryMb?: number; hardware?: BenchHardware } = {}): Promise<LabBench> {
  fs.mkdirSync(state, { recursive: true });
  const target = path.join(state, 'target.raw');
  const fd = fs.openSync(target, 'w');
  fs.ftruncateSync(fd, (opts.diskMb ?? 2048) * 1024 * 1024);
  fs.closeSync(fd);
  const consoleSocket = path.join(state, 'serial.sock');
  const consolePort = await freePort();
  const sshPort = await freePort();
  const base = { consoleSocket, sshPort, memoryMb: opts.memoryMb ?? 1024 };
  const configure = (hardware: BenchHardware, overlay: boolean) => fs.writeFileSync(cfgFile(state), JSON.stringify({ ...base, hardware, overlay } satisfies BenchConfig));
  configure(opts.hardware ?? BARE_BENCH, false);

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
    rewire(hardware, o = {}) {
      if (pidOf(state)) throw new Error(`lab box: rewiring ${state} while it runs`);
      configure(hardware, o.overlay ?? false);
    },
    power: (action) => (action === 'on' ? powerOn(state) : powerOff(state)),
    reset: () => onMonitor(state, async (qmp) => void (await qmp.execute('system_reset'))),
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
