// The lab health check (`eve-qual check`), LAVA-style: before any run, in seconds, is every path to the box
// working? Console (the link opens and shows traffic, or answers a newline), power (state readable, or the service
// that switches it answering), SSH (the port answers with an SSH banner when the box is up), media (the method is
// ready). Each path is ok / failed (with the cause) / skipped (with why). Virtual boxes exist only inside a run, so
// for them the check says what it can: QEMU, firmware, acceleration, swtpm, and that the box is off.
import { execa } from 'execa';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { accelFor, findFirmware } from '../box/qemu-machine.ts';
import { ConsoleLog } from '../console/console-log.ts';
import { ConfigError, EveQualError, formatMs } from '../errors.ts';
import type { Link } from '../link/link.ts';
import { checkListen } from '../media/listen-address.ts';
import { createRedfishVirtualMedia } from '../media/redfish-virtual-media.ts';
import { createPower } from '../power/create-power.ts';
import type { Power, PowerState } from '../power/power.ts';
import type { LoadedProfile } from '../profile/load.ts';
import { consoleLinkFor } from './console-link.ts';

export type PathStatus = 'ok' | 'failed' | 'skipped';

export interface PathResult {
  path: string;
  status: PathStatus;
  detail: string;
  ms: number;
}

export interface CheckReport {
  box: string;
  profile: string;
  kind: 'real' | 'virtual';
  at: string;
  results: PathResult[];
  /** No path failed. */
  ok: boolean;
}

export interface CheckOptions {
  /** How long the console may stay silent before a newline is sent, and again after it, ms (default 3 s each). */
  consoleQuietMs?: number;
  /** Deadline for each of power, SSH and media, ms (default 15 s). */
  pathTimeoutMs?: number;
  /** Where console bytes seen during the check are logged. */
  consoleLog?: string;
  /** Overrides for tests: how the console link and power driver are made. */
  link?: () => Link;
  power?: () => Power;
}

const message = (e: unknown) => (e instanceof EveQualError ? e.message : e instanceof Error ? e.message : String(e));

async function timed(pathName: string, fn: () => Promise<{ status: PathStatus; detail: string }>): Promise<PathResult> {
  const t0 = Date.now();
  try {
    const r = await fn();
    return { path: pathName, ...r, ms: Date.now() - t0 };
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    return { path: pathName, status: 'failed', detail: message(e), ms: Date.now() - t0 };
  }
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${formatMs(ms)}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

export async function checkLab(loaded: LoadedProfile, opts: CheckOptions = {}): Promise<CheckReport> {
  const p = loaded.profile;
  const results = p.box.kind === 'virtual' ? await checkVirtual(loaded) : await checkReal(loaded, opts);
  return { box: p.box.name, profile: loaded.file, kind: p.box.kind, at: new Date().toISOString(), results, ok: results.every((r) => r.status !== 'failed') };
}

async function checkVirtual(loaded: LoadedProfile): Promise<PathResult[]> {
  const p = loaded.profile;
  const arch = p.box.arch;
  const qemuBin = arch === 'amd64' ? 'qemu-system-x86_64' : 'qemu-system-aarch64';
  const out: PathResult[] = [];
  out.push(
    await timed('qemu', async () => {
      const r = await execa(qemuBin, ['--version'], { reject: false, timeout: 10_000 });
      if (r.exitCode !== 0) return { status: 'failed', detail: `${qemuBin} not usable: ${r.exitCode === undefined ? 'not installed (Debian package ' + (arch === 'amd64' ? 'qemu-system-x86' : 'qemu-system-arm') + ')' : String(r.stderr).trim()}` };
      return { status: 'ok', detail: String(r.stdout).split('\n')[0]!.trim() };
    }),
  );
  out.push(
    await timed('firmware', async () => {
      const fw = findFirmware(arch);
      return fw ? { status: 'ok', detail: fw.code } : { status: 'failed', detail: `no UEFI firmware for ${arch} (Debian package ${arch === 'amd64' ? 'ovmf' : 'qemu-efi-aarch64'})` };
    }),
  );
  out.push(await timed('accel', async () => ({ status: 'ok', detail: accelFor(arch) === 'kvm' ? 'KVM' : 'TCG (no usable KVM for this architecture here: slower)' })));
  if (p.hardware.tpm) {
    out.push(
      await timed('tpm', async () => {
        const r = await execa('swtpm', ['--version'], { reject: false, timeout: 10_000 });
        return r.exitCode === 0 ? { status: 'ok', detail: String(r.stdout).trim() } : { status: 'failed', detail: 'swtpm not installed (Debian package swtpm)' };
      }),
    );
  }
  const during = 'a virtual box exists only inside eve-qual run/install';
  out.push({ path: 'console', status: 'skipped', detail: `QEMU serial socket, made by the run (${during})`, ms: 0 });
  out.push({ path: 'power', status: 'ok', detail: `off (${during})`, ms: 0 });
  out.push({ path: 'ssh', status: 'skipped', detail: `forwarded to loopback by the run (${during})`, ms: 0 });
  out.push({ path: 'media', status: 'ok', detail: `QEMU ${p.media.type === 'virtual' ? p.media.bus : ''} drive`.replace(/\s+/g, ' '), ms: 0 });
  return out;
}

async function checkReal(loaded: LoadedProfile, opts: CheckOptions): Promise<PathResult[]> {
  const p = loaded.profile;
  const limit = opts.pathTimeoutMs ?? 15_000;
  const quiet = opts.consoleQuietMs ?? 3000;
  // Made first: a missing secret or a malformed section is a config error before anything is touched.
  const power = opts.power ? opts.power() : createPower(p.power, { profileDir: loaded.dir, box: p.box.name });
  const link = opts.link ? opts.link() : consoleLinkFor(loaded);

  let state: PowerState | undefined;
  const powerCheck = timed('power', async () => {
    try {
      if (power.readsState === false) return await within(probeUnreadable(loaded, power), limit, power.where);
      state = await within(power.state(), limit, `${power.where} power state`);
      return { status: 'ok', detail: `${power.where}: ${state}` };
    } finally {
      await power.close?.().catch(() => undefined);
    }
  });
  const consoleCheck = timed('console', () => checkConsole(link, quiet, opts.consoleLog, powerCheck.then(() => state)));
  const mediaCheck = timed('media', () => within(checkMedia(loaded), limit, 'media'));
  const [powerR, consoleR, mediaR] = await Promise.all([powerCheck, consoleCheck, mediaCheck]);
  const sshR = await timed('ssh', () => checkSsh(p.ssh.host!, p.ssh.port, state, Math.min(limit, 5000)));
  return [consoleR, powerR, sshR, mediaR];
}

/** Drivers without read-back: is what switches the box there at all? */
async function probeUnreadable(loaded: LoadedProfile, power: Power): Promise<{ status: PathStatus; detail: string }> {
  const spec = loaded.profile.power;
  if (spec.type === 'pdu') {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.get(new URL('/', spec.daemon), { timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', (e) => reject(new Error(`cannot reach pdudaemon at ${spec.daemon}: ${message(e)}`)));
    });
    return { status: 'ok', detail: `${power.where}: pdudaemon answers (HTTP ${status}); outlet state cannot be read back (unknown)` };
  }
  if (spec.type === 'command') {
    for (const argv of [spec.on, spec.off]) await executable(argv[0]!, loaded.dir);
    return { status: 'ok', detail: `${power.where}: on/off commands present; no status command, state unknown` };
  }
  return { status: 'skipped', detail: `${power.where}: switched by an operator` };
}

async function executable(file: string, cwd: string): Promise<void> {
  if (file.includes('{')) return;
  const candidates = file.includes('/') ? [path.resolve(cwd, file)] : (process.env.PATH ?? '').split(':').map((d) => path.join(d, file));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return;
    } catch {
      /* next */
    }
  }
  throw new Error(`command not found or not executable: ${file}`);
}

async function checkConsole(link: Link, quietMs: number, logFile: string | undefined, powerState: Promise<PowerState | undefined>): Promise<{ status: PathStatus; detail: string }> {
  const log = logFile ? new ConsoleLog(logFile) : undefined;
  let bytes = 0;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    log?.write(chunk);
    wake?.();
  };
  link.on('data', onData);
  const waitTraffic = (ms: number) =>
    new Promise<boolean>((resolve) => {
      if (bytes > 0) return resolve(true);
      const t = setTimeout(() => resolve(bytes > 0), ms);
      wake = () => {
        clearTimeout(t);
        resolve(true);
      };
    });
  const t0 = Date.now();
  try {
    log?.note(`eve-qual check: opening ${link.name}`);
    await link.open();
    if (await waitTraffic(quietMs)) return { status: 'ok', detail: `${link.name}: open, traffic seen within ${formatMs(Date.now() - t0)}` };
    // A box at a prompt says nothing until spoken to.
    await link.write('\r');
    if (await waitTraffic(quietMs)) return { status: 'ok', detail: `${link.name}: open, answered a newline` };
    const state = await powerState;
    if (state === 'off') return { status: 'ok', detail: `${link.name}: open; silent, as a box that is off is` };
    if (state === 'on') return { status: 'failed', detail: `${link.name}: open but silent for ${formatMs(2 * quietMs)} and no answer to a newline while the box is on (wrong port or speed, cable, or console= setting)` };
    return { status: 'ok', detail: `${link.name}: open; silent (power state unknown: a box that is off is silent too)` };
  } finally {
    link.off('data', onData);
    await link.close().catch(() => undefined);
    log?.note('eve-qual check: console closed');
    log?.close();
  }
}

async function checkSsh(host: string, port: number, state: PowerState | undefined, ms: number): Promise<{ status: PathStatus; detail: string }> {
  if (state === 'off') return { status: 'skipped', detail: `${host}:${port}: not tried, the box is off` };
  try {
    const banner = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host, port });
      let got = '';
      const t = setTimeout(() => {
        s.destroy();
        reject(new Error(got ? `no SSH banner within ${formatMs(ms)}` : `no answer within ${formatMs(ms)}`));
      }, ms);
      s.on('data', (d) => {
        got += d.toString('latin1');
        const line = got.split('\n').find((l) => l.startsWith('SSH-'));
        if (line) {
          clearTimeout(t);
          s.destroy();
          resolve(line.trim());
        }
      });
      s.on('error', (e) => {
        clearTimeout(t);
        reject(new Error((e as NodeJS.ErrnoException).code === 'ECONNREFUSED' ? 'connection refused (ECONNREFUSED)' : message(e)));
      });
    });
    return { status: 'ok', detail: `${host}:${port} answers (${banner})` };
  } catch (e) {
    if (state === undefined || state === 'unknown')
      return { status: 'skipped', detail: `${host}:${port}: ${message(e)}; power state unknown, so the box may simply be off` };
    return { status: 'failed', detail: `${host}:${port}: ${message(e)} while the box is on` };
  }
}

async function checkMedia(loaded: LoadedProfile): Promise<{ status: PathStatus; detail: string }> {
  const m = loaded.profile.media;
  switch (m.type) {
    case 'redfish-virtual-media': {
      const vm = createRedfishVirtualMedia(loaded.profile, { profileDir: loaded.dir });
      try {
        return { status: 'ok', detail: `${vm.where} virtual media: ${await vm.check()}` };
      } finally {
        await vm.close();
      }
    }
    case 'ipxe-http':
      return { status: 'ok', detail: `iPXE over HTTP: can serve from ${await checkListen(m.listen)}` };
    case 'usb-sd-mux':
      for (const argv of [m.write, m.toBox, m.toHost]) await executable(argv[0]!, loaded.dir);
      return { status: 'ok', detail: 'USB/SD mux commands present' };
    case 'operator':
      return { status: 'skipped', detail: `an operator inserts the installer${m.port ? ` into ${m.port}` : ''}` };
    case 'virtual':
      return { status: 'ok', detail: 'QEMU drive' };
  }
}
