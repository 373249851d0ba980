// The box's life, watched while the suites run. Each wait of a test has its own deadline, which is right for a box
// that is alive but slow and wrong for one that is gone: a killed VM made every remaining test wait out its 30 s and
// the run read as a hardware failure. So a run is told at once when its box dies or stops answering:
// - the box powered off by itself (a virtual box: QEMU exited): at once;
// - the SSH connection was lost (keepalives unanswered, reset), no new connection is accepted, and the console has
//   been silent for `silenceMs`: a hang (a box that reboots talks on its console; one that only dropped SSH lets us
//   back in). A real box whose power driver reads its state back and says off is lost, whatever else is seen;
// - the console shows the box starting again (firmware, boot loader or kernel banner) when no reset was asked for:
//   at once. A box that resets itself (a hardware watchdog, a brownout, a panic with EVE's panic=120) comes back with
//   SSH and a new host key, and would otherwise read as a box that stopped answering, or not at all.
// A suite that resets the box on purpose (the watchdog test) says so with expectReboot(): the hang judgement then
// waits for the next arm(), when the shell is back; a VM that exits is never a reboot.
import type { Box } from '../box/box.ts';
import type { Console } from '../console/console.ts';
import type { SshShell } from '../shell/ssh-shell.ts';

/** How the box was lost; `panic`: the console showed a kernel panic or oops first (then it is the box's failure).
 * `since` (epoch ms): from when what a check saw may have been the loss (a check that failed since then failed on a
 * box that was going, which is no evidence against the hardware). */
export interface BoxLoss {
  message: string;
  since: number;
  panic?: string;
}

/** A frozen box is noticed by SSH keepalives up to this long after it stopped (3 × 5 s, and some). */
const KEEPALIVE_WINDOW_MS = 20_000;
/** A killed VM's SSH connection may break a moment before its process exit is seen. */
const EXIT_WINDOW_MS = 1000;

type WatchedShell = Pick<SshShell, 'on' | 'off' | 'connect' | 'hostPort'>;

export interface WatchedParts {
  box: Pick<Box, 'name' | 'poweredOff' | 'power'>;
  console: Pick<Console, 'silentForMs' | 'tail' | 'tap'>;
  /** The shell in use now (a recovery replaces it). */
  ssh(): WatchedShell;
  /** What the box's own power-off is called in messages ("QEMU exited"). */
  poweredOffIs: string;
}

const PANIC = /Kernel panic - not syncing|\bOops(?:: |\[#)|\bBUG: (?:unable to handle|soft lockup)/;
/** Lines a box prints only while it starts: UEFI (OVMF/EDK II) boot manager, U-Boot, GRUB, the Linux banner. */
const STARTING = /\bBdsDxe: (?:loading|starting) Boot|\bU-Boot 20\d\d\.\d\d|\bGNU GRUB +version|\bLinux version \d+\.\d+/;
/** A console line longer than this is judged by its end (a box streaming without newlines). */
const MAX_LINE = 1024;
/** One new connection attempt before a hang is declared, ms. */
const PROBE_MS = 10_000;

export class BoxWatch {
  private generation = 0;
  private sshLost: { cause: string; at: number } | null = null;
  private suspended = false;
  private timer: NodeJS.Timeout | undefined;
  private done = false;
  private shell: WatchedShell | null = null;
  /** Callers of settled() waiting for the SSH loss in hand to be judged. */
  private waiting: ((lost: boolean) => void)[] = [];
  private untap: (() => void) | null = null;
  /** The console line being received (text after the last newline). */
  private partial = '';

  constructor(
    private readonly parts: WatchedParts,
    private readonly onLost: (loss: BoxLoss) => void,
    private readonly silenceMs = 20_000,
  ) {}

  /** Watch from now: the box is up and the shell reached (at the start of the suites, after a reconnect). */
  arm(): void {
    if (this.done) return;
    const gen = ++this.generation;
    this.suspended = false;
    this.sshLost = null;
    this.partial = '';
    this.untap ??= this.parts.console.tap({ text: this.onConsoleText });
    this.listen(this.parts.ssh());
    this.parts.box.poweredOff()?.then((how) => {
      if (gen !== this.generation || this.done) return;
      const since = Math.min(Date.now(), this.sshLost?.at ?? Infinity) - EXIT_WINDOW_MS;
      this.lose(`box lost: ${this.parts.poweredOffIs} ${exitText(how)}`, since);
    });
  }

  /**
   * Resolves once an SSH loss in hand is judged: true when the loss was told (onLost was called), false when the
   * shell came back, there was none, or `boundMs` passed: checks that end while the box may be gone must not close
   * the run before that is known.
   */
  settled(boundMs = 60_000): Promise<boolean> {
    if (!this.sshLost || this.suspended || this.done) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), boundMs);
      this.waiting.push((lost) => {
        clearTimeout(t);
        resolve(lost);
      });
    });
  }

  private wake(lost: boolean): void {
    for (const w of this.waiting.splice(0)) w(lost);
  }

  /** The box is about to reset on purpose: no hang judgement until arm() again (a VM exit still counts). */
  expectReboot(): void {
    this.suspended = true;
    clearTimeout(this.timer);
  }

  /** A check starts: a reboot expected by the one before that never came (a watchdog that did not reset) ends
   * there; the box is watched again. */
  checkStarts(): void {
    if (this.suspended && !this.done) this.arm();
  }

  /** Stop watching (before eve-qual itself powers the box off or closes the shell). */
  close(): void {
    this.done = true;
    this.generation++;
    clearTimeout(this.timer);
    this.listen(null);
    this.untap?.();
    this.untap = null;
  }

  private readonly onConsoleText = (text: string): void => {
    if (this.done || this.suspended) return;
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop()!.slice(-MAX_LINE);
    const line = lines.find((l) => STARTING.test(l));
    if (!line) return;
    // The reset came before its first line (firmware is slow to speak), and SSH may have seen it first.
    const since = Math.min(Date.now(), this.sshLost?.at ?? Infinity) - KEEPALIVE_WINDOW_MS;
    this.lose(`box rebooted by itself: the console showed "${line.trim().slice(0, 200)}" (no reset was asked for)`, since);
  };

  private listen(shell: WatchedShell | null): void {
    if (shell === this.shell) return;
    this.shell?.off('disconnect', this.onDisconnect);
    this.shell?.off('connect', this.onConnect);
    this.shell = shell;
    shell?.on('disconnect', this.onDisconnect);
    shell?.on('connect', this.onConnect);
  }

  private readonly onDisconnect = (cause: string): void => {
    this.sshLost = { cause, at: Date.now() };
    if (!this.suspended) this.judgeIn(this.silenceMs);
  };

  private readonly onConnect = (): void => {
    this.sshLost = null;
    clearTimeout(this.timer);
    this.wake(false);
  };

  private judgeIn(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.judge(), Math.max(0, ms));
    this.timer.unref();
  }

  /** SSH lost for silenceMs: lost when the console is silent too and a new connection is refused or unanswered. */
  private async judge(): Promise<void> {
    const lost = this.sshLost;
    if (!lost || this.suspended || this.done) return;
    const silent = this.parts.console.silentForMs;
    if (silent < this.silenceMs) return this.judgeIn(this.silenceMs - silent);
    const gen = this.generation;
    const power = await this.powerReadsOff();
    const probe = power ? null : await this.probe();
    if (gen !== this.generation || this.done || !this.sshLost || this.suspended) return;
    if (probe === null && !power) return this.wake(false);
    const seen = power ?? `SSH ${lost.cause}; a new connection to ${this.shell?.hostPort} failed (${probe}); console silent for ${Math.round(this.parts.console.silentForMs / 1000)} s`;
    this.lose(power ? `box lost: ${power}` : `box stopped answering: ${seen}`, lost.at - KEEPALIVE_WINDOW_MS);
  }

  /** null when a new connection is accepted (the box is alive), else why not. */
  private async probe(): Promise<string | null> {
    try {
      await this.shell?.connect({ timeout: PROBE_MS });
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  /** "its power reads off (ipmi:...)" when a driver that reads state back says so; else null. */
  private async powerReadsOff(): Promise<string | null> {
    const p = this.parts.box.power;
    if (p.readsState === false) return null;
    const state = await Promise.race([p.state().catch(() => 'unknown'), new Promise<'unknown'>((r) => setTimeout(() => r('unknown'), 5000).unref())]);
    return state === 'off' ? `its power reads off (${p.where})` : null;
  }

  /** Tell the loss once; the watch rests until arm() (after a recovery) or close(). */
  private lose(message: string, since: number): void {
    if (this.done) return;
    this.generation++;
    this.suspended = true;
    this.sshLost = null;
    clearTimeout(this.timer);
    const tail = this.parts.console.tail(60);
    const at = tail.findIndex((l) => PANIC.test(l));
    this.onLost({ message, since, ...(at >= 0 ? { panic: tail.slice(at).join('\n') } : {}) });
    this.wake(true);
  }
}

function exitText(how: string): string {
  return /^SIG/.test(how) ? `on signal ${how}` : `with code ${how}`;
}
