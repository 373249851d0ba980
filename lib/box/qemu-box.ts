// A virtual box: QEMU (q35 + OVMF, or virt + AAVMF) with its serial console on a ListenLink, power through QMP, SSH
// through a host forward, a TPM through swtpm started and stopped with it. Powering off ends the QEMU process and
// powering on starts a new one; the console (and its log) spans them all. No qemu or swtpm outlives the box:
// they run under pdeathsig, and close() (also run from SIGINT/SIGTERM through the run's Scope) stops them.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Console, type ConsoleOptions } from '../console/console.ts';
import { ConfigError, DeadlineError, LabError } from '../errors.ts';
import { ListenLink } from '../link/listen-link.ts';
import type { InstallerMedia } from '../media/boot-media.ts';
import type { Power, PowerState } from '../power/power.ts';
import { spawnManaged, type ManagedChild } from '../util/child.ts';
import { Deadline, pause } from '../util/deadline.ts';
import type { Box, SshEndpoint } from './box.ts';
import { QmpClient, type QmpEvent } from './qmp.ts';
import { withInstaller, withoutInstaller } from './installer-disks.ts';
import { accelFor, findFirmware, qemuCommand, slirpGuestUrl, type Arch, type QemuDisk, type QemuMachine, type QemuNic, type QemuWatchdog } from './qemu-machine.ts';
import { unixSocketListening } from '../util/unix-socket.ts';

export interface QemuBoxOptions {
  name: string;
  arch: Arch;
  memoryMb?: number;
  cpus?: number;
  disks?: QemuDisk[];
  nics?: QemuNic[];
  watchdog?: QemuWatchdog;
  tpm?: boolean;
  smbiosSerial?: string;
  /** Where the firmware variables and TPM state live (kept across power cycles). */
  stateDir: string;
  consoleLog?: string;
  console?: Partial<Omit<ConsoleOptions, 'boxName' | 'logFile'>>;
  extraArgs?: string[];
}

export type QemuRunState = 'off' | 'running' | 'paused';

export class QemuBox extends EventEmitter<{ off: [reason: string]; qmp: [QmpEvent] }> implements Box {
  readonly name: string;
  readonly console: Console;
  private readonly sockDir: string;
  private readonly link: ListenLink;
  private readonly varsFile: string;
  private readonly firmware: { code: string; vars: string };
  private qemu: ManagedChild | null = null;
  private swtpm: ManagedChild | null = null;
  private qmp: QmpClient | null = null;
  private lastExit = '';
  private opened = false;

  constructor(readonly opts: QemuBoxOptions) {
    super();
    this.name = opts.name;
    const fw = findFirmware(opts.arch);
    if (!fw) throw new ConfigError(`no UEFI firmware for ${opts.arch} on this machine (install ${opts.arch === 'amd64' ? 'ovmf' : 'qemu-efi-aarch64'})`);
    this.firmware = fw;
    fs.mkdirSync(opts.stateDir, { recursive: true });
    this.varsFile = path.join(opts.stateDir, 'efivars.fd');
    // Unix socket paths are limited to 108 bytes: keep them short, apart from the (possibly deep) run directory.
    this.sockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-box-'));
    this.link = new ListenLink({ path: path.join(this.sockDir, 'console.sock') });
    this.console = new Console(this.link, { boxName: opts.name, logFile: opts.consoleLog, ...opts.console });
  }

  get where(): string {
    return `qemu:${this.name}`;
  }

  /** The disks as currently attached (change between power cycles, e.g. to remove the installer stick). */
  get disks(): QemuDisk[] {
    return this.opts.disks ?? [];
  }
  setDisks(disks: QemuDisk[]): void {
    this.opts.disks = disks;
  }

  /** The host port forwarded to guest port `guestPort` (SSH: 22), if any. */
  forwardedPort(guestPort = 22): number | undefined {
    for (const n of this.opts.nics ?? []) for (const f of n.forwards ?? []) if (f.guestPort === guestPort) return f.hostPort;
    return undefined;
  }

  private async ensureConsole(): Promise<void> {
    if (this.opened) return;
    await this.console.open();
    this.opened = true;
  }

  async runState(): Promise<QemuRunState> {
    if (!this.qemu?.running() || !this.qmp?.connected) return 'off';
    try {
      const s = await this.qmp.execute<{ running: boolean; status: string }>('query-status', undefined, 5000);
      return s.running ? 'running' : 'paused';
    } catch {
      return this.qemu?.running() ? 'running' : 'off';
    }
  }

  async powerOn(): Promise<void> {
    if (this.qemu?.running()) {
      if ((await this.runState()) === 'paused') await this.qmp!.execute('cont');
      return;
    }
    await this.ensureConsole();
    if (!fs.existsSync(this.varsFile)) fs.copyFileSync(this.firmware.vars, this.varsFile);
    let tpmSocket: string | undefined;
    if (this.opts.tpm) tpmSocket = await this.startSwtpm();
    const machine: QemuMachine = {
      arch: this.opts.arch,
      memoryMb: this.opts.memoryMb ?? 512,
      cpus: this.opts.cpus ?? 1,
      accel: accelFor(this.opts.arch),
      firmware: { code: this.firmware.code, vars: this.varsFile },
      disks: this.opts.disks ?? [],
      nics: this.opts.nics ?? [],
      ...(this.opts.watchdog ? { watchdog: this.opts.watchdog } : {}),
      ...(tpmSocket ? { tpmSocket } : {}),
      consoleSocket: path.join(this.sockDir, 'console.sock'),
      qmpSocket: path.join(this.sockDir, 'qmp.sock'),
      ...(this.opts.smbiosSerial ? { smbiosSerial: this.opts.smbiosSerial } : {}),
      extraArgs: this.opts.extraArgs ?? [],
    };
    fs.rmSync(machine.qmpSocket, { force: true });
    const { file, args } = qemuCommand(machine);
    this.console.note(`power on: ${file} ${args.join(' ')}`, { cut: true });
    const qemu = spawnManaged(`qemu ${this.name}`, file, args);
    this.qemu = qemu;
    void qemu.exited.then((how) => this.onQemuExit(qemu, how));
    const qmp = new QmpClient(machine.qmpSocket);
    try {
      await Promise.race([
        qmp.connect(30_000),
        qemu.exited.then(() => {
          throw new LabError(`QEMU for ${this.name} exited at start: ${qemu.output().trim().slice(-1000)}`, { where: this.where });
        }),
      ]);
    } catch (e) {
      await qemu.stop();
      await this.stopSwtpm();
      throw e;
    }
    this.qmp = qmp;
    qmp.on('event', (ev) => {
      this.console.note(`qemu event ${ev.event}${ev.data ? ' ' + JSON.stringify(ev.data) : ''}`);
      this.emit('qmp', ev);
    });
    for (const n of this.opts.nics ?? []) if (n.linkUp === false) await qmp.execute('set_link', { name: n.id, up: false });
    await qmp.execute('cont');
  }

  private onQemuExit(qemu: ManagedChild, how: string): void {
    if (this.qemu !== qemu) return;
    this.lastExit = how;
    this.qmp?.close();
    this.qmp = null;
    this.qemu = null;
    void this.stopSwtpm();
    this.console.note(`power off: QEMU exited (${how})`, { cut: true });
    this.emit('off', how);
  }

  private async startSwtpm(): Promise<string> {
    const dir = path.join(this.opts.stateDir, 'tpm');
    fs.mkdirSync(dir, { recursive: true });
    const sock = path.join(this.sockDir, 'swtpm.sock');
    fs.rmSync(sock, { force: true });
    const swtpm = spawnManaged(`swtpm ${this.name}`, 'swtpm', [
      'socket', '--tpm2', '--tpmstate', `dir=${dir}`, '--ctrl', `type=unixio,path=${sock}`, '--terminate',
    ]);
    this.swtpm = swtpm;
    const deadline = new Deadline(10_000);
    let delay = 5;
    // Listening, not just bound: QEMU is started on it next and gives up on a refused connect.
    while (!unixSocketListening(sock)) {
      if (!swtpm.running()) throw new LabError(`swtpm for ${this.name} exited at start: ${swtpm.output().trim()}`, { where: this.where });
      if (deadline.expired()) {
        await swtpm.stop();
        throw new DeadlineError(`swtpm's socket ${sock}`, 10_000, { where: this.where });
      }
      await pause(delay);
      delay = Math.min(delay * 2, 100);
    }
    return sock;
  }

  private async stopSwtpm(): Promise<void> {
    const s = this.swtpm;
    this.swtpm = null;
    await s?.stop();
  }

  /** Hard power off (pulls the plug): QMP quit, then the process is gone. */
  async powerOff(): Promise<void> {
    const qemu = this.qemu;
    if (!qemu) return;
    try {
      await this.qmp?.execute('quit', undefined, 5000);
    } catch {
      // QEMU may close the socket before answering; the exit below is what counts.
    }
    const t = setTimeout(() => void qemu.stop(1000), 5000);
    await qemu.exited;
    clearTimeout(t);
  }

  /** The reset button. */
  async reset(): Promise<void> {
    if (!this.qmp) throw new LabError(`cannot reset ${this.name}: it is off`, { where: this.where });
    await this.qmp.execute('system_reset');
  }

  /** Freeze the CPUs (a hung box, for testing deadlines). */
  async hang(): Promise<void> {
    if (!this.qmp) throw new LabError(`cannot hang ${this.name}: it is off`, { where: this.where });
    await this.qmp.execute('stop');
  }

  /** ACPI power button: the guest decides to shut down. */
  async powerButton(): Promise<void> {
    if (!this.qmp) throw new LabError(`cannot press the power button of ${this.name}: it is off`, { where: this.where });
    await this.qmp.execute('system_powerdown');
  }

  /** Resolve when the box is off (the guest powered off or QEMU ended), or reject at the deadline. */
  async waitOff(timeout: number, awaited = `${this.name} to power off`): Promise<string> {
    const qemu = this.qemu;
    if (!qemu) return this.lastExit;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        qemu.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new DeadlineError(awaited, timeout, { where: this.console.where, tail: this.console.tail() })), timeout);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The Power view of this box, for code that only knows the Power seam. */
  get power(): Power {
    return {
      where: this.where,
      on: () => this.powerOn(),
      off: () => this.powerOff(),
      cycle: async () => {
        await this.powerOff();
        await this.powerOn();
      },
      state: async (): Promise<PowerState> => ((await this.runState()) === 'off' ? 'off' : 'on'),
    };
  }

  async attachInstaller(media: InstallerMedia): Promise<void> {
    this.setDisks(withInstaller(this.disks, media.image, this.installerBus));
  }

  async detachInstaller(): Promise<void> {
    this.setDisks(withoutInstaller(this.disks));
  }

  /** How the installer image is attached: a USB stick (default) or a virtio disk. */
  installerBus: 'usb' | 'virtio' = 'usb';

  /**
   * Network boot from the next power-on: the first NIC's user network hands out `url` (an iPXE script on the runner,
   * as the runner listens: loopback becomes 10.0.2.2 for the guest) as its DHCP boot file name, and the NIC boots
   * first, through QEMU's iPXE option ROM (Debian's ipxe-qemu, found by QEMU itself) under OVMF. null: no boot file,
   * and the NIC leaves the boot order (the disks boot). amd64 only: those ROMs carry x86 EFI drivers, which AAVMF
   * cannot run.
   */
  netbootFrom(url: string | null): void {
    const nic = this.opts.nics?.[0];
    if (url === null) {
      if (nic) {
        delete nic.bootFile;
        delete nic.bootIndex;
      }
      return;
    }
    if (this.opts.arch !== 'amd64') {
      throw new ConfigError(`${this.name}: network boot of a virtual ${this.opts.arch} box is not supported (QEMU's iPXE option ROMs are x86 EFI only); use media: {type: virtual}`, { where: 'media.type' });
    }
    if (!nic) throw new ConfigError(`${this.name}: network boot needs a NIC (declare one under hardware.ethernet, not omitted by a defect)`, { where: 'hardware.ethernet' });
    nic.bootFile = slirpGuestUrl(url);
    nic.bootIndex = 0;
  }

  /** The boot file URL the guest is handed now (null: no network boot). */
  get netbootUrl(): string | null {
    return this.opts.nics?.[0]?.bootFile ?? null;
  }

  poweredOff(): Promise<string> | null {
    const qemu = this.qemu;
    if (!qemu) return Promise.resolve(this.lastExit);
    return qemu.exited;
  }

  sshEndpoint(): SshEndpoint {
    const port = this.forwardedPort(22);
    if (!port) throw new LabError(`${this.name} has no SSH port forward (it needs at least one NIC)`, { where: this.where });
    return { host: '127.0.0.1', port };
  }

  /** Power off and release everything (console, sockets). Idempotent. */
  async close(): Promise<void> {
    await this.powerOff();
    await this.stopSwtpm();
    await this.console.close();
    fs.rmSync(this.sockDir, { recursive: true, force: true });
  }
}
