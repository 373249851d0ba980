// The Shell seam: run a command on a box and get its output and exit status, and move files. Over SSH or over the
// console; suites and the install flow depend only on this.

export interface RunOptions {
  /** Deadline for this command, ms. Defaults to the shell's default (60 s). */
  timeout?: number;
}

export interface RunResult {
  stdout: string;
  /** Always '' on a console shell, where the box merges the streams. */
  stderr: string;
  /** The command's exit status. */
  code: number;
  durationMs: number;
}

export interface Shell {
  /** `ssh:root@10.0.0.5:22`, `console:serial:/dev/ttyUSB0`: used in every error. */
  readonly where: string;
  run(cmd: string, opts?: RunOptions): Promise<RunResult>;
  /** Copy a local file to the box, verified by sha256 on both ends. */
  put(localPath: string, remotePath: string, opts?: RunOptions): Promise<void>;
  /** Copy a file from the box, verified by sha256 on both ends. */
  get(remotePath: string, localPath: string, opts?: RunOptions): Promise<void>;
  close(): Promise<void>;
}

/** Quote a string for a POSIX shell. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_\/.,:=+@%-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
