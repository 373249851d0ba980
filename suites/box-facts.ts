// Reading facts from the box for the suites: small shell helpers that work on EVE (busybox in the debug container,
// host /sys) and on any Linux.
import { LabError } from '../lib/errors.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';

/** Run a read-only command; a non-zero exit is returned, not thrown (absence is a fact too). */
export async function read(ctx: SuiteContext, cmd: string, timeout = 30_000): Promise<{ out: string; code: number }> {
  const r = await ctx.shell.run(cmd, { timeout });
  return { out: r.stdout.trim(), code: r.code };
}

/** Run a command that must succeed for the check to be possible at all (harness-side precondition). */
export async function must(ctx: SuiteContext, cmd: string, timeout = 30_000): Promise<string> {
  const r = await ctx.shell.run(cmd, { timeout });
  if (r.code !== 0) throw new LabError(`on ${ctx.box.name}: \`${cmd}\` failed (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-300)}`);
  return r.stdout.trim();
}

export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
