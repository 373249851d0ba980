// A child process's stdin/stdout as a link: `ipmitool sol activate`, a vendor console tool, `qemu -serial stdio`.
// The command is an argv array, never a shell line, so nothing in it is ever interpreted. stderr is merged into the
// data stream by default (a console tool's complaints belong in the console log, next to what the box printed);
// `stderr: 'ignore'` drops it. The process runs in its own process group so close() can kill it and everything it
// started; an exit we did not ask for is a loss, and "reconnecting" starts the command again. Like the other children
// of eve-qual (lib/util/child.ts) it runs under `setpriv --pdeathsig KILL` where available, so the kernel kills it even
// if eve-qual itself is killed with SIGKILL.
import { execa, type ResultPromise } from 'execa';
import fs from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { ReconnectingLink, type ReconnectOptions, type Transport, type TransportSink } from './reconnecting-link.ts';

export interface ProcessLinkOptions extends ReconnectOptions {
  /** argv: [file, ...args]. */
  command: readonly string[];
  /** Name used in errors (default `process:<file>`: arguments are left out since they may carry a password). */
  name?: string;
  cwd?: string;
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** 'data' (default): stderr goes into the data stream; 'ignore': it is discarded. */
  stderr?: 'data' | 'ignore';
  /** After SIGTERM to the process group on close, how long to wait before SIGKILL, ms (default 2 s). */
  killGraceMs?: number;
}

export class ProcessLink extends ReconnectingLink {
  readonly command: readonly string[];
  readonly #opts: ProcessLinkOptions;

  constructor(opts: ProcessLinkOptions) {
    const file = opts.command[0];
    if (!file) throw new TypeError('ProcessLink: command must not be empty');
    super(opts.name ?? `process:${file}`, opts);
    this.command = [...opts.command];
    this.#opts = opts;
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const [file, ...args] = this.command as [string, ...string[]];
    const merge = (this.#opts.stderr ?? 'data') === 'data';
    // Resolved here because under setpriv a missing command would be setpriv's exit 127, not an error we can name.
    const exe = await findExecutable(file, this.#opts.cwd, this.#opts.env?.PATH ?? process.env.PATH);
    const [cmd, argv] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', exe, ...args]] : [exe, args];
    const proc = execa(cmd, argv, {
      cwd: this.#opts.cwd,
      env: this.#opts.env,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: merge ? 'pipe' : 'ignore',
      all: merge,
      buffer: false,
      reject: false,
      stripFinalNewline: false,
      // Own process group: close() signals the whole group, so helpers the command started die with it.
      detached: true,
    });
    await new Promise<void>((resolve, reject) => {
      proc.once('spawn', () => resolve());
      proc.once('error', (err) => reject(err));
    });
    const group = trackGroup(proc.pid!);
    proc.stdin!.on('error', () => undefined); // EPIPE after an exit: the exit itself is what we report.
    (merge ? proc.all! : proc.stdout!).on('data', (chunk: Buffer) => sink.data(chunk));
    void proc.then((result) => {
      group.exited = true;
      sink.lost(result.signal ? `process killed by ${result.signal}` : `process exited with code ${result.exitCode}`);
    });
    const transport = processTransport(proc, group, this.#opts.killGraceMs ?? 2000);
    if (signal.aborted) {
      await transport.destroy();
      throw signal.reason;
    }
    return transport;
  }

  protected override describeError(err: unknown): string {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return `command not found: ${this.command[0]} (ENOENT)`;
    if (code === 'EACCES') return `command not executable: ${this.command[0]} (EACCES)`;
    return super.describeError(err);
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

/** What execvp would run for `file`, or an ENOENT/EACCES error like spawn's. */
async function findExecutable(file: string, cwd: string | undefined, pathEnv: string | undefined): Promise<string> {
  const candidates = file.includes('/')
    ? [path.resolve(cwd ?? process.cwd(), file)]
    : (pathEnv ?? '').split(':').map((dir) => path.resolve(cwd ?? process.cwd(), dir || '.', file));
  let denied = false;
  for (const candidate of candidates) {
    if (!(await stat(candidate).catch(() => undefined))?.isFile()) continue;
    try {
      await access(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      denied = true;
    }
  }
  const code = denied ? 'EACCES' : 'ENOENT';
  return Promise.reject(Object.assign(new Error(`${code}: ${file}`), { code }));
}

interface Group {
  pgid: number;
  exited: boolean;
}

/** Process groups still running; killed when eve-qual exits so no child outlives it. */
const liveGroups = new Set<Group>();
let exitHookInstalled = false;

function trackGroup(pgid: number): Group {
  const group: Group = { pgid, exited: false };
  liveGroups.add(group);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // execa's own cleanup is disabled for detached children. 'exit' runs on a normal exit and after process.exit()
    // (the CLI turns Ctrl-C into one); nothing runs on SIGKILL of eve-qual itself.
    process.once('exit', () => {
      for (const g of liveGroups) signalGroup(g.pgid, 'SIGKILL');
    });
  }
  return group;
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    /* the group is already gone */
  }
}

function processTransport(proc: ResultPromise, group: Group, graceMs: number): Transport {
  let destroyed: Promise<void> | undefined;
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        const stdin = proc.stdin!;
        if (group.exited || stdin.destroyed || !stdin.writable) return reject(Object.assign(new Error('process stdin is closed'), { code: 'EPIPE' }));
        stdin.write(data, (err) => (err ? reject(err) : resolve()));
      }),
    destroy: () =>
      (destroyed ??= (async () => {
        // Signal the group even if the leader already exited: what it started may still hold the pipes open.
        signalGroup(group.pgid, 'SIGTERM');
        const force = setTimeout(() => signalGroup(group.pgid, 'SIGKILL'), graceMs);
        try {
          await proc;
        } finally {
          clearTimeout(force);
          signalGroup(group.pgid, 'SIGKILL');
          liveGroups.delete(group);
          proc.stdin?.destroy();
        }
      })()),
  };
}
