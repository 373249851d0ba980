// Processes on this machine, read from /proc: for tests that prove nothing outlives a run.
import fs from 'node:fs';

/** Running (an exited process whose parent is gone stays a zombie until init reaps it: that is not running). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) [ZX] /.test(readText(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Running processes whose command name matches `comm` and whose command line contains `marker` (a run's folder). */
export function runningProcesses(comm: RegExp, marker = ''): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return comm.test(readText(`/proc/${pid}/comm`).trim()) && alive(pid) && readText(`/proc/${pid}/cmdline`).includes(marker);
      } catch {
        return false;
      }
    });
}

function readText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}
