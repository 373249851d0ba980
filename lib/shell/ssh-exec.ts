// An isolated command: its own exec channel, hence its own login shell on the box, as `ssh box CMD` runs it. The
// command's shell reports its pid first (on stderr, behind a random marker, stripped again here) because OpenSSH
// refuses "signal" requests for root sessions ("session signalling requires privilege separation"): killing an
// overrun command means killing its process group from another shell, and that needs the group's id.
import { constants as osConstants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import { LabError } from '../errors.ts';
import type { RawResult } from './ssh-command-channel.ts';
import { short } from './ssh-command-channel.ts';
import type { SshConnection } from './ssh-connection.ts';
import { newMarker } from './ssh-framing.ts';

export class IsolatedExec {
  /** The command's process group (its login shell's pid: sshd starts each session with setsid), once reported. */
  pgid = 0;
  /** Resolves with pgid once reported, or 0 when the channel closed before it was. */
  readonly pgidReported: Promise<number>;
  #reported!: (pgid: number) => void;
  readonly result: Promise<RawResult>;

  private constructor(
    readonly conn: SshConnection,
    private readonly ch: ClientChannel,
    cmd: string,
    marker: Buffer,
  ) {
    this.pgidReported = new Promise((resolve) => (this.#reported = resolve));
    this.result = new Promise((resolve, reject) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let head: Buffer | undefined = Buffer.alloc(0);
      let exit: { code: number | null; signal?: string } | undefined;
      ch.on('data', (d: Buffer) => out.push(d));
      ch.stderr.on('data', (d: Buffer) => {
        if (!head) return void err.push(d);
        // Until the pid line has been seen, hold stderr back: it may arrive split across chunks.
        head = Buffer.concat([head, d]);
        const at = head.indexOf(marker);
        const nl = at < 0 ? -1 : head.indexOf(0x0a, at);
        if (nl < 0) return;
        this.pgid = Number(head.toString('latin1', at + marker.length, nl)) || 0;
        this.#reported(this.pgid);
        // Whatever the login shell printed before the pid line stays: `ssh box CMD` would show it too.
        err.push(head.subarray(0, at), head.subarray(nl + 1));
        head = undefined;
      });
      ch.on('exit', (code: number | null, signal?: string) => {
        exit = { code, ...(signal !== undefined ? { signal } : {}) };
      });
      ch.on('error', () => {});
      // ssh2 hands the exit status to 'close' as well (as child processes do): the fallback if 'exit' was missed.
      ch.on('close', (code?: number | null, signal?: string) => {
        if (!exit && (typeof code === 'number' || signal)) exit = { code: code ?? null, ...(signal ? { signal } : {}) };
        this.#reported(this.pgid);
        if (head) err.push(head);
        if (exit && (exit.code !== null || exit.signal)) {
          const code = exit.code ?? 128 + (osConstants.signals[exit.signal as NodeJS.Signals] ?? 0);
          resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err), code });
        } else {
          const cause = conn.closed ? `connection lost: ${conn.lostCause}` : 'the channel closed without an exit status';
          reject(new LabError(`SSH to ${conn.hostPort} failed while running \`${short(cmd)}\`: ${cause}`, { where: conn.hostPort }));
        }
      });
    });
    // Rejections are for whoever awaits `result`; one abandoned after a timeout must not be reported as unhandled.
    this.result.catch(() => {});
  }

  static async start(conn: SshConnection, cmd: string): Promise<IsolatedExec> {
    const { a, b, marker } = newMarker();
    // stdin comes from /dev/null on the box, not from closing the channel's input: ssh2 sends no signal request on
    // a channel whose input is closed, and for non-root users the signal is the quicker kill.
    const wrapped = `exec </dev/null; printf '%s%s%d\\n' ${a} ${b} $$ >&2\n${cmd}`;
    // Listeners go on inside the callback, synchronously: ssh2 parses the rest of the packet batch right after it, and
    // a quick command's exit-status may be in that batch (an 'exit' nobody listened to is gone; seen under load).
    return new Promise<IsolatedExec>((resolve, reject) =>
      conn.client.exec(wrapped, (err, c) =>
        err ? reject(new LabError(`cannot start \`${short(cmd)}\` on ${conn.hostPort}: ${err.message}`, { where: conn.hostPort, cause: err })) : resolve(new IsolatedExec(conn, c, cmd, marker)),
      ),
    );
  }

  /**
   * Give up on the command: signal it (works for non-root users; OpenSSH refuses it for root), then `kill` its
   * process group through `kill` (another shell on the box), and only then close the channel. The order matters:
   * OpenSSH reuses a closed session's channel number at once, and the runaway's exit, when it comes, closes whichever
   * channel holds that number by then: the next command's (seen under load).
   */
  async abandon(kill: (pgid: number) => Promise<void>, waitMs: number): Promise<void> {
    try {
      this.ch.signal('KILL');
    } catch {
      /* already closed */
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<number>((r) => (timer = setTimeout(() => r(0), waitMs)));
    try {
      const pgid = await Promise.race([this.pgidReported, late]);
      if (pgid > 0) await kill(pgid).catch(() => undefined);
      await Promise.race([this.result.then(() => 0, () => 0), late]);
    } finally {
      clearTimeout(timer);
      this.ch.close();
    }
  }
}
