// Disk speed as the box measures it: one dd with direct I/O (around the page cache), timed by dd itself when it
// prints its byte line (GNU dd, Alpine's busybox), else by the box's own clock around it (date +%s%N, or /proc/uptime
// where date has no %N, as Debian's static busybox). Never timed from the runner: SSH latency is not disk time.
import { BoxError, LabError } from '../lib/errors.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';

export interface DdBytes {
  bytes: number;
  /** dd's own elapsed seconds, when it printed them. */
  seconds?: number;
}

export interface DiskRate {
  command: string;
  bytes: number;
  seconds: number;
  clock: 'dd' | 'box date +%s%N' | 'box /proc/uptime';
  /** MB (10^6 bytes) per second, the clock's resolution counted against the disk. */
  MBps: number;
}

/** What dd says it moved: its byte line (with its own time) or, without one, its full output records times bs. */
export function parseDdOutput(out: string, bs: number): DdBytes | null {
  const line = /^(\d+) bytes .*copied, ([\d.]+) s(?:econds)?\b/m.exec(out);
  if (line) return { bytes: Number(line[1]), seconds: Number(line[2]) };
  const rec = /^(\d+)\+\d+ records out$/m.exec(out);
  // a partial record's size is unknown: counting none of it can only make the disk look slower
  return rec ? { bytes: Number(rec[1]) * bs } : null;
}

const CLOCK = 'echo "eq-clock $(date +%s%N) $(cut -d" " -f1 /proc/uptime)"';

/** The command run on the box: the clock, dd (its messages on stdout: a console shell merges the streams), its exit
 * status, the clock again. */
export function timedScript(dd: string): string {
  return `${CLOCK}; ${dd} 2>&1; echo "eq-rc $?"; ${CLOCK}`;
}

/** Elapsed seconds between the two clock lines: nanoseconds when date gave them, else /proc/uptime's 10 ms ticks. */
function boxClock(out: string): { seconds: number; clock: DiskRate['clock']; resolution: number } | null {
  const c = [...out.matchAll(/^eq-clock (\S+) ([\d.]+)$/gm)];
  if (c.length !== 2) return null;
  const [a, b] = [c[0]!, c[1]!];
  if (/^\d+$/.test(a[1]!) && /^\d+$/.test(b[1]!)) return { seconds: Number(BigInt(b[1]!) - BigInt(a[1]!)) / 1e9, clock: 'box date +%s%N', resolution: 1e-6 };
  return { seconds: Number(b[2]) - Number(a[2]), clock: 'box /proc/uptime', resolution: 0.01 };
}

/** dd's complaint, classified: a refused O_DIRECT is the lab's to fix (error), an I/O error is the disk's (fail). */
function ddFailure(ctx: SuiteContext, dd: string, out: string): Error {
  const said = out.split('\n').filter((l) => !/^eq-(clock|rc) /.test(l)).join(' ').trim().slice(-300);
  if (/Input\/output error|I\/O error|Medium error/i.test(said)) return new BoxError(`on ${ctx.box.name}: \`${dd}\` failed: ${said}`);
  if (/Invalid argument|direct|not supported|unknown|invalid/i.test(said)) return new LabError(`on ${ctx.box.name}: direct I/O refused, so no speed that is not the page cache's can be measured: \`${dd}\`: ${said}`);
  return new LabError(`on ${ctx.box.name}: \`${dd}\` failed: ${said}`);
}

/** Run one timed dd on the box; `bs` is its block size in bytes. */
export async function timedDd(ctx: SuiteContext, dd: string, bs: number, timeoutMs: number): Promise<DiskRate> {
  const r = await ctx.shell.run(timedScript(dd), { timeout: timeoutMs });
  const out = `${r.stdout}\n${r.stderr}`;
  const rc = /^eq-rc (\d+)$/m.exec(out);
  if (!rc) throw new LabError(`on ${ctx.box.name}: the timed dd did not run to its end (exit ${r.code}): ${out.trim().slice(-300)}`);
  if (rc[1] !== '0') throw ddFailure(ctx, dd, out);
  const moved = parseDdOutput(out, bs);
  if (!moved) throw new LabError(`on ${ctx.box.name}: dd printed neither its byte line nor its records: ${out.trim().slice(-300)}`);
  if (moved.bytes === 0) throw new BoxError(`on ${ctx.box.name}: \`${dd}\` moved no data`);
  const clock = boxClock(out);
  const timed = moved.seconds !== undefined ? { seconds: moved.seconds, clock: 'dd' as const, resolution: 1e-6 } : clock;
  if (!timed) throw new LabError(`on ${ctx.box.name}: no clock read around dd: ${out.trim().slice(-300)}`);
  const MBps = moved.bytes / 1e6 / (timed.seconds + timed.resolution);
  return { command: dd, bytes: moved.bytes, seconds: Number(timed.seconds.toFixed(6)), clock: timed.clock, MBps: Number(MBps.toFixed(1)) };
}

/**
 * Time `ddFor(count)` (count blocks of 1 MiB), once with `firstMiB`, and again with up to 8 times more (at most
 * `maxMiB`) when the first took under a second: a short run is mostly clock resolution and dd's start. `prepare`
 * makes what a run of that size needs (a write's source data), untimed.
 */
export async function measuredRate(ctx: SuiteContext, ddFor: (countMiB: number) => string, firstMiB: number, maxMiB: number, prepare?: (countMiB: number) => Promise<void>): Promise<DiskRate> {
  const first = Math.max(1, Math.min(firstMiB, maxMiB));
  await prepare?.(first);
  const r = await timedDd(ctx, ddFor(first), 1 << 20, 300_000);
  const more = Math.min(first * 8, maxMiB);
  if (r.seconds >= 1 || more <= first) return r;
  await prepare?.(more);
  return timedDd(ctx, ddFor(more), 1 << 20, 300_000);
}
