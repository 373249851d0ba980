// The Shell over SSH. Commands go through one long-lived `sh` on a persistent channel (./ssh-command-channel.ts), one
// at a time, because a qualification run issues thousands of small commands and a process per command on a small
// ARM box costs more than the check itself. Commands that must not share that shell run on an exec channel of their
// own ({ isolated: true }).
//
// Connection life: the first connection fails fast (a wrong address should not look like a slow box); once a box has
// been reached, a lost connection (the box rebooted) is re-established by the next command, retrying with backoff
// within that command's deadline. waitReady() is the explicit "the box has booted, wait for SSH": it trusts no
// connection from before the boot (behind a NAT port forward such as QEMU's hostfwd a reset box sends no FIN, and
// keepalives take 15 s to notice), and retries everything a booting box does (connections accepted and closed,
// sshd closing them right after the login while it restarts) until its deadline.
import { EventEmitter } from 'node:events';
import { readFile, unlink } from 'node:fs/promises';
import type { Client } from 'ssh2';
import { ConfigError, DeadlineError, EveQualError, LabError } from '../errors.ts';
import { Deadline, pause } from '../util/deadline.ts';
import { checkHostKeyPolicy, type HostKeyPolicy } from './host-key.ts';
import type { RunOptions, RunResult, Shell } from './shell.ts';
import { shellQuote } from './shell.ts';
import { CommandChannel, short, type RawResult } from './ssh-command-channel.ts';
import { SshConnectError, SshConnection } from './ssh-connection.ts';
import { IsolatedExec } from './ssh-exec.ts';
import { catTransfer, NoSftpError, sftpTransfer, sha256File, transferError, type Direction } from './ssh-transfer.ts';

export type { HostKeyPolicy } from './host-key.ts';

export interface SshShellOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /** Default root (EVE's only SSH user). */
  user?: string;
  /** The private key: a file path (read at each connection, never copied into logs) or the key's bytes. */
  privateKey: string | Buffer;
  /** For an encrypted key. */
  passphrase?: string;
  /** Required: how the box's host key is checked. There is no "accept anything". */
  hostKey: HostKeyPolicy;
  /** Default deadline of run/put/get, ms (60 s). */
  timeout?: number;
  /** Bound on one connection attempt (TCP + key exchange + authentication), ms (10 s). */
  connectTimeout?: number;
  /** SSH keepalive interval, ms (5 s); the connection is declared lost after keepaliveCountMax misses (3). */
  keepaliveInterval?: number;
  keepaliveCountMax?: number;
}

export interface SshRunOptions extends RunOptions {
  /**
   * Run on an exec channel of its own (a fresh login shell, as `ssh box CMD` would) instead of the shared persistent
   * shell: for commands that change shell state (cd, exec, set, traps) or must not be affected by it. Slower.
   */
  isolated?: boolean;
}

export interface SshRunResult extends RunResult {
  /** The exact bytes, for output that is not UTF-8 text. */
  stdoutBytes: Buffer;
  stderrBytes: Buffer;
}

export interface SshShellEvents {
  /** A connection was established (the first, or after a loss). */
  connect: [];
  /** The connection was lost (not by close()). */
  disconnect: [cause: string];
  /** A connection attempt failed and will be retried after delayMs. */
  retry: [info: { attempt: number; cause: string; delayMs: number }];
}

interface Job {
  cmd: string;
  timeoutMs: number;
  /** performance.now() at submission: the deadline runs from there, queueing included. */
  start: number;
  /** start + timeoutMs for callers' commands; internal jobs bound their own work (Infinity). */
  deadline: number;
  settled: boolean;
  channel?: CommandChannel;
  /** The work; internal jobs (reaping after a timeout) have no caller waiting. */
  work?: () => Promise<unknown>;
  resolve(r: SshRunResult): void;
  reject(e: Error): void;
}

const RETRY_FIRST_MS = 200;
const RETRY_MAX_MS = 2000;
const CHANNEL_OPEN_MAX_MS = 10_000;
const EMPTY_RESULT: RawResult = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), code: 0 };

export class SshShell extends EventEmitter<SshShellEvents> implements Shell {
  readonly where: string;
  /** `host:port`, as named in errors. */
  readonly hostPort: string;

  private readonly host: string;
  private readonly port: number;
  private readonly user: string;
  private readonly key: string | Buffer;
  private readonly passphrase: string | undefined;
  private hostKey: HostKeyPolicy;
  private readonly defaultTimeout: number;
  private readonly connectTimeout: number;
  private readonly keepaliveInterval: number;
  private readonly keepaliveCountMax: number;

  private conn: SshConnection | undefined;
  private connecting: Promise<SshConnection> | undefined;
  /** Until when (epoch ms) the shared attempt loop keeps trying, and whether anyone asked it to retry at all. */
  private connectUntil = 0;
  private connectRetry = false;
  private lastConnectError: SshConnectError | undefined;
  private attemptClient: Client | undefined;
  private everConnected = false;
  private channel: CommandChannel | undefined;
  /** Process groups of shells abandoned after a timeout, to be killed from the next shell on the same connection. */
  private reap: { conn: SshConnection; pgid: number }[] = [];
  private sftp: 'unknown' | 'present' | 'missing' = 'unknown';
  private readonly queue: Job[] = [];
  private active: Job | undefined;
  /**
   * One timer for the deadlines of all queued and running commands, set for the earliest: a timer per command,
   * created and cleared around each round trip, cost several µs of a ~90 µs loopback round trip.
   */
  private watchdog: NodeJS.Timeout | undefined;
  private watchdogAt = Infinity;
  private closed = false;
  private readonly abort = new AbortController();

  constructor(private readonly options: SshShellOptions) {
    super();
    const opts = options;
    if (!opts || typeof opts.host !== 'string' || opts.host === '') throw new ConfigError('SSH shell needs a host');
    this.host = opts.host;
    this.port = opts.port ?? 22;
    this.user = opts.user ?? 'root';
    this.hostPort = `${this.host}:${this.port}`;
    this.where = `ssh:${this.user}@${this.hostPort}`;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) {
      throw new ConfigError(`SSH port for ${this.host} is not a port number: ${opts.port}`, { where: this.where });
    }
    if (opts.privateKey === undefined || opts.privateKey === '') {
      throw new ConfigError(`no SSH private key for ${this.where} (EVE takes keys only)`, { where: this.where });
    }
    if (typeof opts.privateKey === 'string' && (opts.privateKey.includes('\n') || opts.privateKey.includes('PRIVATE KEY'))) {
      // Key material where a path was expected: say so without repeating it, since error messages end up in logs.
      throw new ConfigError(`SSH privateKey for ${this.where} looks like key material: give a file path or a Buffer`, { where: this.where });
    }
    this.key = opts.privateKey;
    this.passphrase = opts.passphrase;
    this.hostKey = checkHostKeyPolicy(opts.hostKey, this.hostPort);
    this.defaultTimeout = opts.timeout ?? 60_000;
    this.connectTimeout = opts.connectTimeout ?? 10_000;
    this.keepaliveInterval = opts.keepaliveInterval ?? 5000;
    this.keepaliveCountMax = opts.keepaliveCountMax ?? 3;
  }

  /**
   * A new shell to the same box with the same settings and the host key pinned now: for a box brought back after it
   * was lost, while this one (closed) fails whatever still waits on the lost box at once.
   */
  sibling(): SshShell {
    return new SshShell({ ...this.options, hostKey: this.hostKey });
  }

  /**
   * Pin another host key policy for the connections made from now on: after a reboot EVE offers a new host key,
   * learned through the console (HostKeyPolicy `trusted`). The connection that is up stays as it is.
   */
  pinHostKey(policy: HostKeyPolicy): void {
    this.hostKey = checkHostKeyPolicy(policy, this.hostPort);
  }

  /**
   * Let go of the connection that is up, at once and without waiting for the box: after a reset it is dead, though
   * nothing may say so for a while. Commands running on it fail with `cause`; no 'disconnect' is emitted (the loss is
   * no news about the box); the next command connects anew.
   */
  dropConnection(cause: string): void {
    if (this.conn) this.forget(this.conn, cause);
  }

  /** Connect now (one attempt, no retry); run() does this by itself. */
  async connect(opts: RunOptions = {}): Promise<void> {
    await this.connection(new Deadline(opts.timeout ?? this.connectTimeout), false);
  }

  /**
   * Wait until the box, which has just booted, accepts SSH and a shell answers. A connection still up is from before
   * the boot and is dropped unheard. Until the deadline, with backoff, everything a booting box does is retried:
   * refusals, resets, connections closed during the handshake or right after the login (sshd starting, or restarted
   * once while EVE's debug container sets up its keys), a login that gives no shell. A wrong host key or a refused
   * key fail at once: waiting does not fix them.
   */
  async waitReady(opts: { timeout: number }): Promise<void> {
    const deadline = new Deadline(opts.timeout);
    this.dropConnection('dropped: the box booted since (waitReady)');
    let delay = RETRY_FIRST_MS;
    let cause: string | undefined;
    for (let attempt = 1; ; attempt++) {
      cause = await this.tryShell(deadline, cause);
      if (cause === undefined) return;
      if (deadline.expired()) throw this.notReady(deadline, cause);
      const wait = Math.min(delay, deadline.remaining());
      this.emit('retry', { attempt, cause, delayMs: wait });
      await pause(wait, this.abort.signal).catch(() => {
        throw this.closedError();
      });
      delay = Math.min(delay * 2, RETRY_MAX_MS);
    }
  }

  /**
   * One try of waitReady(): undefined when a shell answered, else why not, to be tried again. Out of time, the
   * error names the last cause seen: this try's, else `before` (the previous try's).
   */
  private async tryShell(deadline: Deadline, before: string | undefined): Promise<string | undefined> {
    const unready = (err: unknown, otherwise: string) =>
      err instanceof DeadlineError ? this.notReady(deadline, this.lastConnectError?.message ?? otherwise, err) : err;
    // A wrong key or host key is thrown from here at once: the connect loop retries only what may pass later.
    const conn = await this.connection(deadline, true).catch((err: unknown) => {
      throw unready(err, before ?? 'no answer yet');
    });
    try {
      await this.run('true', { timeout: Math.max(1, deadline.remaining()) });
      return undefined;
    } catch (err) {
      if (err instanceof DeadlineError) throw unready(err, 'logged in, but no shell answered');
      if (this.closed || !(err instanceof LabError) || (err instanceof SshConnectError && !err.transient)) throw err;
      // Logged in, then no shell: sshd went away with its sessions, or this login is stuck. The next connection, then.
      const cause = conn.closed ? `the connection closed right after the login: ${conn.lostCause}` : `logged in, but no shell started: ${err.message}`;
      this.forget(conn, `dropped: ${cause}`);
      return cause;
    }
  }

  private notReady(deadline: Deadline, cause: string, err?: Error): DeadlineError {
    return new DeadlineError(`SSH on ${this.hostPort} to accept a connection and run a command (last attempt: ${cause})`, deadline.totalMs, {
      where: this.where,
      ...(err ? { cause: err } : {}),
    });
  }

  run(cmd: string, opts: SshRunOptions = {}): Promise<SshRunResult> {
    const timeoutMs = opts.timeout ?? this.defaultTimeout;
    if (this.closed) return Promise.reject(this.closedError());
    if (opts.isolated) return this.runIsolated(cmd, timeoutMs);
    return new Promise<SshRunResult>((resolve, reject) => {
      const start = performance.now();
      const job: Job = { cmd, timeoutMs, start, deadline: start + timeoutMs, settled: false, resolve, reject };
      this.queue.push(job);
      this.watch(job.deadline);
      this.pump();
    });
  }

  put(localPath: string, remotePath: string, opts: RunOptions = {}): Promise<void> {
    return this.transfer('put', localPath, remotePath, opts.timeout ?? this.defaultTimeout);
  }

  get(remotePath: string, localPath: string, opts: RunOptions = {}): Promise<void> {
    return this.transfer('get', localPath, remotePath, opts.timeout ?? this.defaultTimeout);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = this.closedError();
    this.abort.abort(err);
    for (const job of this.queue.splice(0)) this.settle(job, err);
    if (this.active) this.settle(this.active, err);
    clearTimeout(this.watchdog);
    this.attemptClient?.destroy();
    this.channel = undefined;
    await this.conn?.end();
    // A connection being set up concurrently has been destroyed above; let it finish failing.
    await this.connecting?.catch(() => {});
  }

  // --- the queue -----------------------------------------------------------------------------------------------

  private pump(): void {
    if (this.active) return;
    let job: Job | undefined;
    while ((job = this.queue.shift()) && job.settled);
    if (!job) {
      // Idle: the watchdog stays set for the next command, but must not keep the process alive.
      this.watchdog?.unref();
      return;
    }
    const j = job;
    this.active = j;
    const done = this.finisher(j);
    if (j.work) {
      j.work().then(() => done(undefined), done);
      return;
    }
    // The common case stays synchronous from the caller to the write: no promise, no microtask hop in between.
    const ch = this.channel;
    if (ch?.usable) {
      j.channel = ch;
      ch.start(j.cmd, done);
      return;
    }
    this.prepare(j).then((c) => {
      if (j.settled) return done(undefined); // timed out or closed while connecting; nobody is listening
      j.channel = c;
      c.start(j.cmd, done);
    }, done);
  }

  /**
   * What ends the active job. Returned from here rather than declared as a const arrow in pump(): under tsx
   * (esbuild's keepNames) a named closure gets a defineProperty('name') each time it is created, which turns it
   * into a slow dictionary-mode object and cost a few µs per command.
   */
  private finisher(j: Job): (err: Error | undefined, r?: RawResult) => void {
    return (err, r) => {
      this.settle(j, err, r);
      if (this.active === j) this.active = undefined;
      this.pump();
    };
  }

  private settle(job: Job, err?: Error, r?: RawResult): void {
    if (job.settled) return;
    job.settled = true;
    if (err) job.reject(err);
    else job.resolve(result(r ?? EMPTY_RESULT, job.start));
  }

  /** Connect (or reconnect) and start a shell, within what is left of the job's deadline. */
  private async prepare(job: Job): Promise<CommandChannel> {
    const deadline = new Deadline(Math.max(1, job.timeoutMs - (performance.now() - job.start)));
    const conn = await this.connection(deadline);
    return this.commandChannel(conn, deadline);
  }

  /** Have the watchdog fire by `at` (a performance.now() time), and keep the process alive until then. */
  private watch(at: number): void {
    if (this.watchdog && at >= this.watchdogAt) {
      // Usually so: commands come one after the other with the same timeout, so their deadlines only grow.
      this.watchdog.ref();
      return;
    }
    clearTimeout(this.watchdog);
    this.watchdogAt = at;
    this.watchdog = setTimeout(this.onWatchdog, Math.max(0, at - performance.now()));
  }

  /** Time out whatever is past its deadline; set the watchdog again for the earliest deadline left. */
  private readonly onWatchdog = (): void => {
    this.watchdog = undefined;
    this.watchdogAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    // A copy: timing out the running command starts the next one and queues a reaping job.
    for (const job of this.active ? [this.active, ...this.queue] : [...this.queue]) {
      if (job.settled) continue;
      if (job.deadline <= now) this.onJobTimeout(job);
      else next = Math.min(next, job.deadline);
    }
    if (next < Infinity) this.watch(next);
  };

  private onJobTimeout(job: Job): void {
    // A command stuck behind an unreachable box should say so, not merely that it did not finish.
    const down = !job.channel && !this.conn && this.lastConnectError ? ` (SSH not reachable; last attempt: ${this.lastConnectError.message})` : '';
    const err = new DeadlineError(`\`${short(job.cmd)}\` to finish${down}`, job.timeoutMs, { where: this.where });
    this.settle(job, err);
    const ch = job.channel;
    if (!ch) return;
    // The shell is busy with a command nobody waits for any more, and the framing of the next command would land
    // behind it: abandon this shell, start a fresh one, and have that one kill the runaway's process group.
    if (this.channel === ch) this.channel = undefined;
    if (ch.pid > 0 && ch.usable) this.reap.push({ conn: ch.conn, pgid: ch.pid });
    ch.kill(err);
    this.reapSoon();
  }

  /** Queue an internal job that opens the next shell now, so the reaping does not wait for the next command. */
  private reapSoon(): void {
    const job: Job = {
      cmd: '(reap)',
      timeoutMs: CHANNEL_OPEN_MAX_MS,
      start: performance.now(),
      deadline: Infinity,
      settled: false,
      resolve: () => {},
      reject: () => {},
      work: async () => {
        const conn = this.conn;
        if (conn && !conn.closed && !this.closed) await this.commandChannel(conn, new Deadline(CHANNEL_OPEN_MAX_MS)).catch(() => {});
      },
    };
    this.queue.unshift(job);
    this.pump();
  }

  private async commandChannel(conn: SshConnection, deadline: Deadline): Promise<CommandChannel> {
    if (this.channel?.usable) return this.channel;
    // Process groups are only meaningful on the boot they were seen on: after a reconnect the box may have rebooted
    // and the numbers now belong to someone else.
    const reap = this.reap.filter((r) => r.conn === conn).map((r) => r.pgid);
    this.reap = [];
    const ch = await CommandChannel.open(conn, reap, Math.max(1, Math.min(CHANNEL_OPEN_MAX_MS, deadline.remaining())));
    if (this.closed || conn.closed) {
      ch.kill(this.closedError());
      throw this.closed ? this.closedError() : new LabError(`SSH connection to ${this.hostPort} lost: ${conn.lostCause}`, { where: this.where });
    }
    this.channel = ch;
    return ch;
  }

  // --- connections ---------------------------------------------------------------------------------------------

  /**
   * The live connection, or a new one. Concurrent callers share one attempt loop, which keeps trying (if any of them
   * asked for retries) until the latest of their deadlines; each caller still gives up at its own.
   */
  private connection(deadline: Deadline, retry = this.everConnected): Promise<SshConnection> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    if (this.closed) return Promise.reject(this.closedError());
    this.connectUntil = Math.max(this.connectUntil, deadline.at);
    this.connectRetry ||= retry;
    this.connecting ??= this.connectLoop().finally(() => {
      this.connecting = undefined;
      this.connectUntil = 0;
      this.connectRetry = false;
    });
    const shared = this.connecting;
    return new Promise<SshConnection>((resolve, reject) => {
      const timer = setTimeout(() => reject(this.unreachable(deadline.totalMs)), deadline.remaining());
      shared.then(
        (c) => {
          clearTimeout(timer);
          resolve(c);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private unreachable(timeoutMs: number): DeadlineError {
    const last = this.lastConnectError;
    return new DeadlineError(`SSH on ${this.hostPort} to accept a connection${last ? ` (last attempt: ${last.message})` : ''}`, timeoutMs, {
      where: this.where,
      ...(last ? { cause: last } : {}),
    });
  }

  private async connectLoop(): Promise<SshConnection> {
    let delay = RETRY_FIRST_MS;
    this.lastConnectError = undefined;
    for (let attempt = 1; ; attempt++) {
      const remaining = this.connectUntil - Date.now();
      if (attempt > 1 && remaining <= 0) throw this.unreachable(0);
      try {
        const privateKey = await this.loadKey();
        const conn = await SshConnection.open(
          {
            host: this.host,
            port: this.port,
            user: this.user,
            privateKey,
            ...(this.passphrase !== undefined ? { passphrase: this.passphrase } : {}),
            hostKey: this.hostKey,
            readyTimeout: Math.max(1, Math.min(this.connectTimeout, remaining)),
            keepaliveInterval: this.keepaliveInterval,
            keepaliveCountMax: this.keepaliveCountMax,
          },
          (c) => {
            this.attemptClient = c;
          },
        );
        this.attemptClient = undefined;
        if (this.closed) {
          await conn.end();
          throw this.closedError();
        }
        this.lastConnectError = undefined;
        this.adopt(conn);
        return conn;
      } catch (err) {
        this.attemptClient = undefined;
        if (this.closed) throw this.closedError();
        if (err instanceof SshConnectError) this.lastConnectError = err;
        if (!this.connectRetry || !(err instanceof SshConnectError) || !err.transient) throw err;
        const wait = Math.min(delay, Math.max(0, this.connectUntil - Date.now()));
        this.emit('retry', { attempt, cause: err.message, delayMs: wait });
        await pause(wait, this.abort.signal).catch(() => {
          throw this.closedError();
        });
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  private adopt(conn: SshConnection): void {
    this.conn = conn;
    this.everConnected = true;
    this.channel = undefined;
    // A reinstalled box may come back with a different sshd.
    this.sftp = 'unknown';
    conn.onClose((cause) => {
      if (this.conn === conn) {
        this.conn = undefined;
        this.channel = undefined;
      }
      if (!this.closed && !conn.dropped) this.emit('disconnect', cause);
    });
    this.emit('connect');
  }

  private forget(conn: SshConnection, cause: string): void {
    if (this.conn === conn) {
      this.conn = undefined;
      this.channel = undefined;
    }
    conn.drop(cause);
  }

  private async loadKey(): Promise<Buffer> {
    if (Buffer.isBuffer(this.key)) return this.key;
    try {
      return await readFile(this.key);
    } catch (err) {
      throw new ConfigError(`cannot read the SSH private key file ${this.key} for ${this.where}: ${(err as Error).message}`, {
        where: this.where,
        cause: err,
      });
    }
  }

  private closedError(): LabError {
    return new LabError(`SSH shell ${this.where} is closed`, { where: this.where });
  }

  // --- isolated commands ---------------------------------------------------------------------------------------

  private async runIsolated(cmd: string, timeoutMs: number): Promise<SshRunResult> {
    const start = performance.now();
    const deadline = new Deadline(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    let exec: IsolatedExec | undefined;
    let timedOut = false;
    const abandon = (x: IsolatedExec) => {
      void x.abandon(async (pgid) => {
        // Only on the connection (the boot) the pid was seen on: after a reboot it may belong to someone else.
        if (x.conn === this.conn) await this.run(`kill -9 -${pgid} 2>/dev/null`, { timeout: CHANNEL_OPEN_MAX_MS });
      }, CHANNEL_OPEN_MAX_MS);
    };
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        if (exec) abandon(exec);
        reject(new DeadlineError(`\`${short(cmd)}\` to finish`, timeoutMs, { where: this.where }));
      }, timeoutMs);
    });
    try {
      const work = (async () => {
        const conn = await this.connection(deadline);
        exec = await IsolatedExec.start(conn, cmd);
        if (timedOut) abandon(exec);
        return exec.result;
      })();
      work.catch(() => {}); // settled through the race below; a late failure after the timeout is nobody's news
      return result(await Promise.race([work, timeout]), start);
    } finally {
      clearTimeout(timer);
    }
  }

  // --- file transfer -------------------------------------------------------------------------------------------

  private async transfer(dir: Direction, local: string, remote: string, timeoutMs: number): Promise<void> {
    const deadline = new Deadline(timeoutMs);
    const ac = new AbortController();
    const what = dir === 'put' ? `upload of ${local} to ${this.hostPort}:${remote}` : `download of ${this.hostPort}:${remote} to ${local}`;
    const timer = setTimeout(() => ac.abort(new DeadlineError(`${what} to finish`, timeoutMs, { where: this.where })), timeoutMs);
    let how = 'SFTP';
    try {
      const conn = await this.connection(deadline);
      const move = async () => {
        if (this.sftp !== 'missing') {
          try {
            await sftpTransfer(conn.client, dir, local, remote, ac.signal);
            this.sftp = 'present';
            return;
          } catch (err) {
            if (!(err instanceof NoSftpError)) throw err;
            this.sftp = 'missing';
          }
        }
        how = 'cat';
        await catTransfer(conn.client, dir, local, remote, ac.signal);
      };
      await raceAbort(move(), ac.signal);
      const [mine, theirs] = await raceAbort(Promise.all([sha256File(local), this.remoteSha256(remote, deadline)]), ac.signal);
      if (mine !== theirs) {
        throw new LabError(`sha256 mismatch after ${how} ${what}: local ${mine}, box ${theirs}`, { where: this.where });
      }
    } catch (err) {
      // Half a download must not be picked up by whatever reads the file next.
      if (dir === 'get') await unlink(local).catch(() => {});
      if (ac.signal.aborted && ac.signal.reason instanceof Error) throw ac.signal.reason;
      if (err instanceof EveQualError) throw err;
      throw transferError(dir, local, remote, this.hostPort, how, err);
    } finally {
      clearTimeout(timer);
    }
  }

  private async remoteSha256(remote: string, deadline: Deadline): Promise<string> {
    const r = await this.run(`sha256sum ${shellQuote(remote)}`, { timeout: Math.max(1, deadline.remaining()) });
    const m = /^([0-9a-f]{64})\b/.exec(r.stdout);
    if (r.code !== 0 || !m) {
      throw new LabError(`cannot hash ${remote} on ${this.hostPort} (sha256sum exited ${r.code}): ${(r.stderr || r.stdout).trim().slice(0, 300)}`, {
        where: this.where,
      });
    }
    return m[1]!;
  }
}

function result(r: RawResult, start: number): SshRunResult {
  return {
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    code: r.code,
    durationMs: performance.now() - start,
    stdoutBytes: r.stdout,
    stderrBytes: r.stderr,
  };
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
