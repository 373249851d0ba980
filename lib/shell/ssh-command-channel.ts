// The fast path: one long-lived `sh` on an exec channel, fed framed command lines on stdin (./ssh-framing.ts). A
// command then costs one SSH round trip and no process creation on the box, where an exec channel per command costs
// a channel open, an exec request and a fork/exec of the user's login shell.
import { constants as osConstants } from 'node:os';
import type { ClientChannel } from 'ssh2';
import { LabError } from '../errors.ts';
import { FAST, frame, parseSetup, SHELL_COMMAND, setupScript, type Framed, type Framing, type Reply } from './ssh-framing.ts';
import type { SshConnection } from './ssh-connection.ts';

export interface RawResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
}

interface Pending {
  cmd: string;
  reply: Reply;
  done: (err: Error | undefined, r?: RawResult) => void;
}

export class CommandChannel {
  /** The shell's pid, which is also its process group (sshd starts each session with setsid). */
  pid = 0;
  /** How commands are framed: settled by the setup line each new shell runs first (see ./ssh-framing.ts). */
  framing: Framing = FAST;
  private pending: Pending | undefined;
  private dead = false;
  private exit: { code: number | null; signal?: string } | undefined;
  private killed = false;

  private constructor(
    readonly conn: SshConnection,
    private readonly ch: ClientChannel,
  ) {
    ch.on('data', (chunk: Buffer) => this.onData(chunk, false));
    ch.stderr.on('data', (chunk: Buffer) => this.onData(chunk, true));
    ch.on('exit', (code: number | null, signal?: string) => {
      this.exit = { code, ...(signal !== undefined ? { signal } : {}) };
    });
    ch.on('close', () => this.onClose());
    ch.on('error', () => {
      /* reported through close */
    });
  }

  /**
   * Start `sh` on the connection. `reap` lists process groups of shells abandoned after a timeout: the new shell
   * kills them first, so a runaway command does not outlive its deadline on the box.
   */
  static async open(conn: SshConnection, reap: number[], timeoutMs: number): Promise<CommandChannel> {
    const hostPort = conn.hostPort;
    const ch = await new Promise<ClientChannel>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = setTimeout(() => {
        timer = undefined;
        reject(new LabError(`no shell channel from ${hostPort} within ${timeoutMs} ms`, { where: hostPort }));
      }, timeoutMs);
      // An exec request, not a shell request: no pty, so the streams stay apart and bytes stay raw.
      conn.client.exec(SHELL_COMMAND, (err, channel) => {
        if (timer === undefined) {
          channel?.close();
          return;
        }
        clearTimeout(timer);
        if (err) reject(new LabError(`cannot start a shell on ${hostPort}: ${err.message}`, { where: hostPort, cause: err }));
        else resolve(channel);
      });
    });
    const cc = new CommandChannel(conn, ch);
    let timer: NodeJS.Timeout | undefined;
    try {
      const setup = setupScript(reap);
      const r = await Promise.race([
        new Promise<RawResult>((resolve, reject) => cc.send('(shell setup)', setup, (err, res) => (err ? reject(err) : resolve(res!)))),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new LabError(`the shell on ${hostPort} did not answer within ${timeoutMs} ms`, { where: hostPort })), timeoutMs);
        }),
      ]);
      const setUp = parseSetup(r.stdout);
      if (!setUp) throw new LabError(`the shell on ${hostPort} did not report its pid (got ${JSON.stringify(r.stdout.toString().slice(-200))})`, { where: hostPort });
      cc.framing = setUp.framing;
      cc.pid = setUp.pid;
      return cc;
    } catch (err) {
      cc.kill(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** True while the shell can take another command. */
  get usable(): boolean {
    return !this.dead && !this.conn.closed;
  }

  /**
   * Run one command; at most one at a time (the caller queues). A callback, not a promise: on the hot path a promise
   * per command (and the microtask hop to settle it) is measurable next to a loopback round trip.
   */
  start(cmd: string, done: (err: Error | undefined, r?: RawResult) => void): void {
    this.send(cmd, frame(cmd, this.framing), done);
  }

  private send(cmd: string, framed: Framed, done: (err: Error | undefined, r?: RawResult) => void): void {
    if (this.pending) return done(new Error('bug: CommandChannel.start while a command is running'));
    if (!this.usable) return done(this.lostError(cmd));
    this.pending = { cmd, reply: framed.reply, done };
    this.ch.write(framed.script);
  }

  /**
   * Abandon the shell (the running command overran its deadline): signal it, close the channel. The signal is a
   * courtesy: OpenSSH refuses signal requests on root sessions and closing the channel does not stop a running
   * command, so the caller also kills the process group from the next shell (`reap` in open()).
   */
  kill(reason?: Error): void {
    const p = this.pending;
    this.pending = undefined;
    if (p) p.done(reason ?? new LabError(`the shell on ${this.conn.hostPort} was abandoned`, { where: this.conn.hostPort }));
    if (this.dead) return;
    this.dead = true;
    this.killed = true;
    try {
      this.ch.signal('KILL');
    } catch {
      /* the channel may already be gone */
    }
    this.ch.close();
  }

  private onData(chunk: Buffer, isStderr: boolean): void {
    const p = this.pending;
    // Output between commands comes from background processes of earlier ones: it belongs to nobody.
    if (!p || !p.reply.push(chunk, isStderr)) return;
    this.pending = undefined;
    if (p.reply.shellEnds) {
      // The command ran `exit` and the EXIT trap reported it: the shell is going, the next command needs another.
      this.dead = true;
      this.ch.close();
    }
    // Resolved from within the data event: no timer or extra tick between the last byte and the caller.
    p.done(undefined, p.reply.result());
  }

  private onClose(): void {
    this.dead = true;
    const p = this.pending;
    this.pending = undefined;
    if (!p || this.killed) return;
    const exit = this.exit;
    if (exit && (exit.code !== null || exit.signal)) {
      // The command ended the shell itself (`exit 3`, `kill $$`): that is its status, as sh -c would report it.
      const code = exit.code ?? 128 + (osConstants.signals[exit.signal as NodeJS.Signals] ?? 0);
      p.done(undefined, { ...p.reply.partial(), code });
      return;
    }
    // ssh2 reports the connection's loss before closing its channels, so the cause is known by now.
    p.done(this.lostError(p.cmd));
  }

  private lostError(cmd: string): LabError {
    const hostPort = this.conn.hostPort;
    const cause = this.conn.closed ? `connection lost: ${this.conn.lostCause ?? 'closed'}` : 'the shell channel closed';
    return new LabError(`SSH to ${hostPort} failed while running \`${short(cmd)}\`: ${cause}`, { where: hostPort });
  }
}

export function short(cmd: string, max = 80): string {
  const one = cmd.replace(/\s+/g, ' ').trim();
  return one.length > max ? one.slice(0, max - 1) + '…' : one;
}
