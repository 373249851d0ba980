// Child processes that must never outlive eve-qual (qemu, swtpm, socat, ipmitool): started with execa (argv array,
// never a shell), under `setpriv --pdeathsig KILL` when available, so the kernel kills them even if eve-qual itself
// is killed with SIGKILL; execa's cleanup kills them on a normal exit; stop() ends them with TERM, then KILL.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/** [command, argv] that run `file args` killed by the kernel when eve-qual dies (setpriv, where there is one). */
export function underDeathSignal(file: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', file, ...args]] : [file, args];
}

export interface ManagedChild {
  readonly name: string;
  readonly pid: number | undefined;
  readonly proc: ResultPromise;
  /** Resolves with the exit code (or signal name) when the process has exited. */
  readonly exited: Promise<string>;
  running(): boolean;
  /** Last output lines (stdout+stderr) for error messages. */
  output(): string;
  stop(graceMs?: number): Promise<void>;
}

export function spawnManaged(
  name: string,
  file: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; onOutput?: (s: string) => void } = {},
): ManagedChild {
  const [cmd, argv] = underDeathSignal(file, args);
  const proc = execa(cmd, argv, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    stdin: 'ignore',
    all: true,
    buffer: false,
    cleanup: true,
  });
  let out = '';
  proc.all?.on('data', (d: Buffer) => {
    const s = d.toString();
    out = (out + s).slice(-8192);
    opts.onOutput?.(s);
  });
  let alive = true;
  const exited = proc.then((r) => {
    alive = false;
    return r.signal ?? String(r.exitCode);
  });
  return {
    name,
    pid: proc.pid,
    proc,
    exited,
    running: () => alive,
    output: () => out,
    async stop(graceMs = 5000) {
      if (!alive) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
}
