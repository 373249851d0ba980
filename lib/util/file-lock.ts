// An exclusive lock between eve-qual processes on one machine, for folders they share: the regression lab runs one
// eve-qual per box, all on the same release, and two of them downloading into one cache folder would append to the
// same .part. The lock is flock(2) on a lock file, held by a `flock` child (util-linux; Node has no flock): the
// kernel drops it when that child goes, and the child goes when its stdin closes, which happens when eve-qual ends
// however it ends. So a crashed run never leaves a stale lock, and a waiter blocks in the kernel, not in a poll loop.
// A flock still waiting runs under setpriv --pdeathsig, so it goes with eve-qual too.
// The lock file itself is never removed: a waiter that had opened it before a removal would lock a file nobody else
// can see anymore.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { ConfigError, DeadlineError, LabError, describeSystemError } from '../errors.ts';
import { underDeathSignal } from './child.ts';

export interface FileLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** What the holder does, written next to the lock so that a waiter can say whom it waits for. */
  purpose: string;
  /** Bound on waiting for another holder (default 2 h: a multi-gigabyte download on a slow lab link). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told when the lock is held by someone else and this process starts waiting, then every `reportEveryMs`. */
  log?: (line: string) => void;
  /** How often a waiter says it still waits (default a minute). */
  reportEveryMs?: number;
}

const LOCKED = 'locked\n';

/** Take the lock on `file` (created if missing), waiting for another holder if there is one. */
export async function lockFile(file: string, opts: LockOptions): Promise<FileLock> {
  const owner = `${file}.owner`;
  let child = await start(file, ['-n']);
  if (!child) {
    opts.log?.(`waiting for ${readOwner(owner) ?? 'another eve-qual'} (lock ${file})`);
    const timeoutMs = opts.timeoutMs ?? 2 * 3600_000;
    // A multi-gigabyte download can take the holder a while: say every minute that this run is still waiting.
    const since = Date.now();
    const still = setInterval(() => {
      const s = Math.round((Date.now() - since) / 1000);
      opts.log?.(`still waiting for ${readOwner(owner) ?? 'another eve-qual'} (${s < 120 ? `${s} s` : `${Math.round(s / 60)} min`})`);
    }, opts.reportEveryMs ?? 60_000);
    try {
      child = await start(file, [], { timeoutMs, owner, signal: opts.signal });
    } finally {
      clearInterval(still);
    }
  }
  if (!child) throw new LabError(`cannot lock ${file}: flock gave up without holding it`, { where: file });
  fs.writeFileSync(owner, `pid ${process.pid} on ${os.hostname()} since ${new Date().toISOString()}: ${opts.purpose}\n`);
  const held = child;
  return {
    release: async () => {
      if (held.exitCode !== null || held.signalCode !== null) return;
      const gone = new Promise<void>((resolve) => held.once('close', () => resolve()));
      // Unreferenced while held (see start()); waiting for it to go must keep this process alive.
      held.ref();
      held.stdin?.end();
      await gone;
    },
  };
}

function readOwner(owner: string): string | undefined {
  try {
    return fs.readFileSync(owner, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Run `flock [flags] FILE sh -c 'echo locked; exec cat'` and resolve with the child once it says it holds the lock;
 * with -n, resolve undefined when someone else holds it (flock exits 1).
 */
function start(
  file: string,
  flags: string[],
  wait?: { timeoutMs: number; owner: string; signal: AbortSignal | undefined },
): Promise<ChildProcess | undefined> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      // The system's directories after the user's PATH: a PATH narrowed for docker or a test must not lose flock.
      const PATH = [process.env.PATH, '/usr/bin', '/bin'].filter(Boolean).join(':');
      // Under a death signal: a flock still waiting for the lock does not read its stdin, so without it a killed
      // eve-qual would leave it behind, and it would take the lock later for nobody.
      const [cmd, argv] = underDeathSignal('flock', [...flags, file, 'sh', '-c', `printf '${LOCKED.trim()}\\n'; exec cat >/dev/null`]);
      child = spawn(cmd, argv, {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, PATH },
      });
    } catch (e) {
      return reject(new LabError(`cannot lock ${file}: ${describeSystemError(e)}`, { where: file }));
    }
    let out = '';
    let err = '';
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      wait?.signal?.removeEventListener('abort', onAbort);
      f();
    };
    const giveUp = (e: Error) =>
      done(() => {
        child.kill('SIGKILL');
        reject(e);
      });
    const timer = wait
      ? setTimeout(
          () => giveUp(new DeadlineError(`the lock ${file}, held by ${readOwner(wait.owner) ?? 'another process'}`, wait.timeoutMs, { where: os.hostname() })),
          wait.timeoutMs,
        )
      : undefined;
    const onAbort = () => giveUp(wait?.signal?.reason instanceof Error ? wait.signal.reason : new Error('aborted'));
    if (wait?.signal?.aborted) onAbort();
    else wait?.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (!out.includes(LOCKED)) return;
      // Nothing more comes from the holder; only its stdin stays open, and closing it releases the lock.
      child.stdout!.destroy();
      child.stderr!.destroy();
      // A held lock must not keep eve-qual alive on its own (exiting releases it anyway); a waiting one must.
      (child.stdin as NodeJS.WritableStream & { unref?: () => void }).unref?.();
      child.unref();
      done(() => resolve(child));
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? 'the flock command is missing (Debian package util-linux)' : describeSystemError(e);
      done(() => reject(new ConfigError(`cannot lock ${file}: ${why}`, { where: file })));
    });
    child.once('close', (code) => {
      if (code === 1 && flags.includes('-n') && !err) return done(() => resolve(undefined));
      done(() => reject(new LabError(`cannot lock ${file}: flock exited ${code}${err ? `: ${err.trim()}` : ''}`, { where: file })));
    });
  });
}
