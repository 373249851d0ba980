// An Eden box: EVE run in QEMU by lf-edge/eden, driven only through the `eden` command line, the way an Eden user
// does it: `eden config add` / `eden config set` (ports into Eden's own config), `eden setup`, `eden start`,
// `eden eve onboard`, `eden status`, `eden stop`, `eden clean`. The console is Eden's telnet port (QEMU's serial
// chardev, `eve.telnet-port`, default 17777) through a TcpSerialLink, SSH is Eden's host forward (`eve.hostfwd`,
// default 2222 → 22).
//
// How the Box seam maps onto Eden:
//   power.on     `eden start`, then waits for `eden status` to say "EVE on Qemu status: running" and for the telnet
//                console to accept a connection. Eden runs the installer inside `eden start` (in the foreground,
//                until that VM powers off) and only then boots the disk, so on() returns after the installation.
//   power.off    the console link is closed (QEMU's telnet server goes with QEMU), `eden stop`, then waits for
//                `eden status` to say EVE is not running.
//   power.state  parsed from `eden status`.
//   attachInstaller(image)  sets Eden's own knob for it, `eve.custom-installer.path` (format raw): the installer
//                Eden runs inside the next `eden start`. detachInstaller() clears it.
//   poweredOff() null: Eden does not report a guest power-off (the installer's own power-off happens inside
//                `eden start`), and the installer's lines reach eden's stdout, not the telnet console. So the
//                console-watching install flow (lib/install) does not apply: use setup() + power.on() + onboard().
// Every eden call has a deadline; a failed or overrun call raises an error that carries the call's last output lines.
import type { InstallerMedia } from '../media/boot-media.ts';
import { execa } from 'execa';
import path from 'node:path';
import { Console, type ConsoleOptions } from '../console/console.ts';
import { BoxError, ConfigError, DeadlineError, EveQualError, LabError } from '../errors.ts';
import { TcpSerialLink } from '../link/tcp-serial-link.ts';
import type { Power, PowerState } from '../power/power.ts';
import { Deadline, pause } from '../util/deadline.ts';
import type { Box, SshEndpoint } from './box.ts';

/** Eden's documented defaults. */
export const EDEN_TELNET_PORT = 17777;
export const EDEN_SSH_PORT = 2222;
export const EDEN_MONITOR_PORT = 7788;

/** Deadlines of the eden calls and waits, ms. */
export interface EdenTimeouts {
  /** `eden config ...` (default 30 s). */
  config: number;
  /** `eden setup` (default 30 min: real Eden downloads EVE and builds images). */
  setup: number;
  /** `eden start`, installer included (default 30 min). */
  start: number;
  /** `eden stop` (default 2 min). */
  stop: number;
  /** `eden status` (default 30 s). */
  status: number;
  /** `eden eve onboard` (default 15 min). */
  onboard: number;
  /** After `eden start`: status running and the console connectable; after `eden stop`: status stopped (60 s). */
  settle: number;
}

const DEFAULT_TIMEOUTS: EdenTimeouts = {
  config: 30_000,
  setup: 1_800_000,
  start: 1_800_000,
  stop: 120_000,
  status: 30_000,
  onboard: 900_000,
  settle: 60_000,
};

export interface EdenBoxOptions {
  name: string;
  /** The eden executable (default `eden` on PATH). */
  eden?: string;
  /** Eden's working directory: where it keeps dist/ (pid file, images, certs). */
  cwd: string;
  /** Environment for every eden call, on top of ours. */
  env?: Record<string, string>;
  /** Eden's config context (default `default`), passed as `--config`. */
  context?: string;
  /** Where Eden's forwarded ports listen (default 127.0.0.1). */
  host?: string;
  /** Eden's telnet console port, `eve.telnet-port` (default 17777). */
  telnetPort?: number;
  /** The host port Eden forwards to EVE's SSH, `eve.hostfwd` (default 2222). */
  sshPort?: number;
  /** The QEMU monitor port, `eve.qemu.monitor-port` (default 7788). */
  monitorPort?: number;
  /**
   * Whether setup() writes the ports (and `config`) into Eden's config with `eden config add` and `eden config set`
   * (default true). With false, Eden's config is the operator's and the ports given here must match it.
   */
  configure?: boolean;
  /** More Eden config keys for setup() to set, e.g. `{ 'eve.ram': 2048 }`. */
  config?: Record<string, string | number | boolean>;
  /** The private key matching the key EVE authorises (default `<cwd>/dist/certs/id_rsa`, Eden's). */
  sshKey?: string;
  timeouts?: Partial<EdenTimeouts>;
  consoleLog?: string;
  console?: Partial<Omit<ConsoleOptions, 'boxName' | 'logFile'>>;
  /** Every line eden prints, as it prints it (the installer's console during `eden start`). */
  onOutput?: (line: string) => void;
}

export interface EdenResult {
  args: string[];
  /** stdout and stderr, interleaved as printed. */
  output: string;
  exitCode: number;
  durationMs: number;
}

export type EdenEveState = 'running' | 'stopped' | 'unknown';

export interface EdenStatus {
  /** From `EVE on Qemu status: ...` (or VBox/Parallels); unknown when eden printed no such line (remote EVE). */
  eve: EdenEveState;
  pid?: number;
  /** Eden's words: `running with pid 123`, `process doesn't exist`... */
  detail?: string;
  /** From `EVE state: ...`. */
  onboarding?: 'not onboarded' | 'onboarding' | 'registered';
  output: string;
}

export interface EdenOnboarded {
  /** From `device UUID: ...`, when eden printed it. */
  deviceUuid?: string;
  output: string;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const OUTPUT_LINES = 40;

/** The last lines of an eden call's output, for an error message. */
function lastLines(output: string, n = OUTPUT_LINES): string {
  const lines = output.replace(ANSI, '').trimEnd().split('\n');
  return (lines.length > n ? ['…', ...lines.slice(-n)] : lines).join('\n');
}

/** Parse `eden status` / `eden eve status` output. */
export function parseEdenStatus(output: string): EdenStatus {
  const text = output.replace(ANSI, '');
  const st: EdenStatus = { eve: 'unknown', output };
  const m = /EVE on (?:Qemu|VBox|Parallels) status: (.*)$/m.exec(text);
  if (m) {
    st.detail = m[1]!.trim();
    st.eve = st.detail.startsWith('running') ? 'running' : 'stopped';
    const pid = /running with pid (\d+)/.exec(st.detail);
    if (pid) st.pid = Number(pid[1]);
  }
  const o = /EVE state: (not onboarded|onboarding|registered)/.exec(text);
  if (o) st.onboarding = o[1] as EdenStatus['onboarding'];
  return st;
}

export class EdenBox implements Box {
  readonly name: string;
  readonly console: Console;
  readonly host: string;
  readonly telnetPort: number;
  readonly sshPort: number;
  readonly monitorPort: number;
  readonly context: string;
  readonly timeouts: EdenTimeouts;
  private readonly link: TcpSerialLink;
  private readonly edenFile: string;
  private everStarted = false;
  private closed = false;
  /** eden calls still running: close() ends them first (an `eden start` killed mid-install stops its installer). */
  private readonly inFlight = new Set<ReturnType<typeof execa>>();

  constructor(readonly opts: EdenBoxOptions) {
    this.name = opts.name;
    this.host = opts.host ?? '127.0.0.1';
    this.telnetPort = opts.telnetPort ?? EDEN_TELNET_PORT;
    this.sshPort = opts.sshPort ?? EDEN_SSH_PORT;
    this.monitorPort = opts.monitorPort ?? EDEN_MONITOR_PORT;
    this.context = opts.context ?? 'default';
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.edenFile = opts.eden ?? 'eden';
    for (const [what, port] of [['telnetPort', this.telnetPort], ['sshPort', this.sshPort], ['monitorPort', this.monitorPort]] as const) {
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`Eden box ${opts.name}: ${what} is not a port number: ${port}`);
    }
    // QEMU's telnet server is there only while EVE runs: a gap (eden stop/start) is bridged by reconnecting within
    // the settle deadline; power.off closes the link deliberately, power.on reopens it.
    this.link = new TcpSerialLink({
      host: this.host,
      port: this.telnetPort,
      protocol: 'telnet',
      // QEMU's telnet chardev offers BINARY itself and never answers a telnet request.
      confirmOpen: false,
      connectTimeoutMs: 10_000,
      reconnectDeadlineMs: this.timeouts.settle,
    });
    this.console = new Console(this.link, { boxName: opts.name, ...(opts.consoleLog ? { logFile: opts.consoleLog } : {}), ...opts.console });
  }

  get where(): string {
    return `eden:${this.name}`;
  }

  /** The private key for SSH to EVE: the one Eden made at setup unless given. */
  get sshKey(): string {
    return this.opts.sshKey ?? path.join(this.opts.cwd, 'dist', 'certs', 'id_rsa');
  }

  /**
   * Run `eden ARGS` in Eden's directory with a deadline. Rejects with a DeadlineError when it overruns (eden is
   * killed), a ConfigError when eden cannot be run at all, a LabError when it exits non-zero or is killed (a
   * BoxError with `failure: 'box'`, for calls whose failure is EVE's); each with the last lines eden printed.
   */
  async eden(args: string[], opts: { timeout: number; awaited?: string; failure?: 'lab' | 'box' }): Promise<EdenResult> {
    const line = `eden ${args.join(' ')}`;
    this.console.note(line);
    const t0 = Date.now();
    let output = '';
    let partial = '';
    const proc = execa(this.edenFile, args, {
      cwd: this.opts.cwd,
      env: this.opts.env,
      reject: false,
      all: true,
      stdin: 'ignore',
      timeout: opts.timeout,
      forceKillAfterDelay: 5000,
      cleanup: true,
    });
    proc.all?.on('data', (d: Buffer) => {
      const s = d.toString();
      output += s;
      if (output.length > 4_000_000) output = output.slice(-2_000_000);
      if (!this.opts.onOutput) return;
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) this.opts.onOutput(l.replace(/\r$/, ''));
    });
    this.inFlight.add(proc);
    const r = await proc.finally(() => this.inFlight.delete(proc));
    if (partial && this.opts.onOutput) this.opts.onOutput(partial);
    const durationMs = Date.now() - t0;
    const shown = lastLines(output);
    if (r.timedOut) {
      this.console.note(`${line}: no answer within ${opts.timeout} ms, killed`);
      throw new DeadlineError(`${opts.awaited ?? line} (${line}, killed; what it printed:\n${shown}\n)`, opts.timeout, {
        where: this.where,
        tail: this.console.tail(),
      });
    }
    if (r.exitCode === undefined && r.signal) {
      throw new LabError(`${line} was killed (${r.signal}) in ${this.opts.cwd}:\n${shown}`, { where: this.where });
    }
    if (r.failed && r.exitCode === undefined) {
      const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
      if (code === 'ENOENT' || code === 'EACCES') {
        throw new ConfigError(`cannot run eden (${this.edenFile}) in ${this.opts.cwd}: ${r.shortMessage}`, { where: this.where, cause: r.cause });
      }
      throw new LabError(`${line} did not run: ${r.shortMessage}\n${shown}`, { where: this.where, cause: r.cause });
    }
    const exitCode = r.exitCode ?? -1;
    this.console.note(`${line}: exit ${exitCode} after ${(durationMs / 1000).toFixed(1)} s`);
    if (exitCode !== 0) {
      const msg = `${line} failed (exit ${exitCode}) in ${this.opts.cwd}:\n${shown}`;
      throw opts.failure === 'box' ? new BoxError(msg, { where: this.where }) : new LabError(msg, { where: this.where });
    }
    return { args, output, exitCode, durationMs };
  }

  private withContext(args: string[]): string[] {
    return [...args, '--config', this.context];
  }

  /** Write the ports and the extra config keys into Eden's config context (creating it if needed). */
  async configure(): Promise<void> {
    const t = { timeout: this.timeouts.config };
    await this.eden(['config', 'add', this.context], t);
    const keys: Record<string, string> = {
      'eve.telnet-port': String(this.telnetPort),
      // A JSON map: Eden decodes this key so (its only map-typed key).
      'eve.hostfwd': JSON.stringify({ [String(this.sshPort)]: '22' }),
      'eve.qemu.monitor-port': String(this.monitorPort),
    };
    for (const [k, v] of Object.entries(this.opts.config ?? {})) keys[k] = String(v);
    for (const [key, value] of Object.entries(keys)) {
      await this.eden(['config', 'set', this.context, '--key', key, '--value', value], t);
    }
  }

  /** `eden setup` (after configure() unless `configure: false`). */
  async setup(): Promise<EdenResult> {
    if (this.opts.configure !== false) await this.configure();
    return this.eden(this.withContext(['setup']), { timeout: this.timeouts.setup, awaited: 'eden setup' });
  }

  async status(): Promise<EdenStatus> {
    const r = await this.eden(this.withContext(['status']), { timeout: this.timeouts.status, awaited: 'eden status' });
    return parseEdenStatus(r.output);
  }

  /** Poll `eden status` (eden has no way to wait) until EVE is `want`, within `timeout`. */
  private async waitEve(want: 'running' | 'stopped', timeout: number): Promise<EdenStatus> {
    const deadline = new Deadline(timeout);
    let delay = 200;
    let last: EdenStatus | undefined;
    for (;;) {
      last = await this.status();
      if (last.eve === want) return last;
      if (deadline.expired()) break;
      await pause(Math.min(delay, deadline.remaining()));
      delay = Math.min(delay * 2, 2000);
    }
    throw new DeadlineError(`eden status to report EVE ${want} (last: ${last.detail ?? 'no EVE status line'})`, timeout, {
      where: this.where,
      tail: lastLines(last.output).split('\n'),
    });
  }

  /** Connect the console to Eden's telnet port, retrying while QEMU's telnet server comes up. */
  private async openConsole(timeout: number): Promise<void> {
    const deadline = new Deadline(timeout);
    let delay = 100;
    for (;;) {
      try {
        await this.console.open();
        return;
      } catch (e) {
        if (deadline.expired()) {
          throw new LabError(`Eden's telnet console ${this.host}:${this.telnetPort} of ${this.name} did not accept a connection within ${timeout / 1000} s: ${(e as Error).message}`, {
            where: this.where,
            cause: e,
          });
        }
      }
      await pause(Math.min(delay, deadline.remaining()));
      delay = Math.min(delay * 2, 2000);
    }
  }

  /** `eden start` (the installer first, when Eden has one to run), then EVE running and its console connected. */
  async start(): Promise<EdenResult> {
    this.everStarted = true;
    const r = await this.eden(this.withContext(['start']), { timeout: this.timeouts.start, awaited: 'eden start (the installer, then EVE from its disk)' });
    const deadline = new Deadline(this.timeouts.settle);
    await this.waitEve('running', deadline.remaining());
    await this.openConsole(Math.max(deadline.remaining(), 1000));
    return r;
  }

  /** Close the console link, `eden stop`, and wait until Eden reports EVE stopped. */
  async stop(): Promise<EdenResult> {
    await this.link.close();
    const r = await this.eden(this.withContext(['stop']), { timeout: this.timeouts.stop, awaited: 'eden stop' });
    await this.waitEve('stopped', this.timeouts.settle);
    return r;
  }

  /**
   * `eden eve onboard`, which succeeds with Eden's `onboarded` line (logged as `msg=onboarded`). A non-zero exit or
   * no such line is a BoxError (EVE did not register; the error carries eden's output).
   */
  async onboard(opts: { timeout?: number } = {}): Promise<EdenOnboarded> {
    const r = await this.eden(this.withContext(['eve', 'onboard']), {
      timeout: opts.timeout ?? this.timeouts.onboard,
      awaited: 'EVE to onboard (eden eve onboard)',
      failure: 'box',
    });
    const text = r.output.replace(ANSI, '');
    if (!/(?:^|[\s=":])onboarded(?:["\s]|$)/m.test(text)) {
      throw new BoxError(`eden eve onboard exited 0 but did not print "onboarded" for ${this.name}:\n${lastLines(r.output)}`, { where: this.where });
    }
    const uuid = /device UUID: ([0-9a-fA-F-]{8,})/.exec(text)?.[1];
    return { ...(uuid ? { deviceUuid: uuid } : {}), output: r.output };
  }

  /** `eden clean`: Eden removes its dist/ and state. */
  async clean(): Promise<EdenResult> {
    await this.link.close();
    return this.eden(this.withContext(['clean']), { timeout: this.timeouts.stop, awaited: 'eden clean' });
  }

  get power(): Power {
    return {
      where: this.where,
      on: async () => {
        await this.start();
      },
      off: async () => {
        await this.stop();
      },
      cycle: async () => {
        await this.stop();
        await this.start();
      },
      state: async (): Promise<PowerState> => {
        const s = await this.status();
        return s.eve === 'running' ? 'on' : s.eve === 'stopped' ? 'off' : 'unknown';
      },
    };
  }

  /** Eden's own installer knob: the next `eden start` runs this (raw) installer before booting the disk. */
  async attachInstaller(media: InstallerMedia): Promise<void> {
    const image = media.image;
    const t = { timeout: this.timeouts.config };
    await this.eden(['config', 'set', this.context, '--key', 'eve.custom-installer.path', '--value', path.resolve(image)], t);
    await this.eden(['config', 'set', this.context, '--key', 'eve.custom-installer.format', '--value', 'raw'], t);
  }

  /** Clear `eve.custom-installer.path`: the next `eden start` boots what is installed. */
  async detachInstaller(): Promise<void> {
    await this.eden(['config', 'set', this.context, '--key', 'eve.custom-installer.path', '--value', ''], { timeout: this.timeouts.config });
  }

  /** Eden does not report a guest power-off: see the header. */
  poweredOff(): Promise<string> | null {
    return null;
  }

  sshEndpoint(): SshEndpoint {
    return { host: this.host, port: this.sshPort };
  }

  /**
   * Ends eden calls still running (SIGTERM, then SIGKILL after 5 s), `eden stop` if this box started EVE, then the
   * console (and its log) closes. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let failure: unknown;
    try {
      for (const p of this.inFlight) p.kill();
      await Promise.allSettled([...this.inFlight]);
      if (this.everStarted) await this.stop();
    } catch (e) {
      failure = e;
    }
    await this.console.close();
    if (failure) throw failure instanceof EveQualError ? failure : new LabError(`closing ${this.name}: ${String(failure)}`, { where: this.where, cause: failure });
  }
}
