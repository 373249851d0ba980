// The watchdog's reset, proven and attributed: we stop feeding /dev/watchdog and wait for the box to start again. A
// pass needs the box to have rebooted (its boot id changed), the reset to come no sooner than the timer's timeout
// (sooner is something else rebooting the box) and within the timeout plus the declared margin, and no kernel panic
// or oops on the console before it (a panic followed by a reboot is a failure, with the excerpt): the console's fail
// patterns are on for the whole wait; where the driver reports resets by its timer (WDIOF_CARDRESET), it must have
// latched one. EVE's evidence, /persist/hw_watchdog_bootstatus (pkg/watchdog/init.sh writes
// it at every start from the driver's boot status: CARDRESET after a watchdog reset where the driver reports one;
// empty on i6300esb and iTCO), is read and recorded. On EVE the daemon /usr/sbin/watchdog -F holds the device: it is
// frozen with `kill -STOP $(pidof watchdog)` (EVE's docs say `pkill -SUSP watchdog`, which the debug container's
// procps-ng refuses). Elsewhere busybox's watchdog opens the device with the declared timeout and is killed without
// the magic close.
import { expect } from 'chai';
import { BoxError, DeadlineError, LabError } from '../lib/errors.ts';
import { EVE_ISSUE } from '../lib/install/boot-to-shell.ts';
import type { Profile } from '../lib/profile/schema.ts';
import { pollBox, type SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

/** Lines that mean the kernel died: a reboot after one of them is not the watchdog's reset. */
export const KERNEL_FAILURES = [/Kernel panic - not syncing[^\n]*/, /\bOops(?:: |\[#)[^\n]*/];
/** What a box shows when it starts again: firmware, kernel, EVE's banner. */
export const RESET_SIGNS = [/BdsDxe|UEFI firmware|U-Boot/, /Linux version \d/, EVE_ISSUE];
/** How much sooner than the timeout a reset may show: the daemon's last keepalive came up to 1 s before the freeze. */
const EARLY_S = 3;

export type WatchdogDecl = NonNullable<Profile['hardware']['watchdog']>;

/** KEY=value lines printed by the box, as a map. */
export function fields(out: string): Record<string, string> {
  const kv = out.split('\n').filter((l) => l.includes('='));
  return Object.fromEntries(kv.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
}

const STATE = [
  'echo boot_id=$(cat /proc/sys/kernel/random/boot_id)',
  "echo uptime=$(cut -d' ' -f1 /proc/uptime)",
  'echo timeout=$(cat /sys/class/watchdog/watchdog0/timeout 2>/dev/null)',
  'echo sys_bootstatus=$(cat /sys/class/watchdog/watchdog0/bootstatus 2>/dev/null)',
  'echo sys_options=$(cat /sys/class/watchdog/watchdog0/options 2>/dev/null)',
  'if [ -f /persist/hw_watchdog_bootstatus ]; then echo "hw_watchdog_bootstatus=$(tr \'\\n\' \' \' </persist/hw_watchdog_bootstatus)"; else echo hw_watchdog_bootstatus=absent; fi',
].join('; ');

async function boxState(ctx: SuiteContext): Promise<Record<string, string>> {
  const r = await read(ctx, STATE);
  const f = fields(r.out);
  if (!f.boot_id || !f.uptime) throw new LabError(`on ${ctx.box.name}: cannot read the boot id and uptime (${r.out.slice(0, 200)})`);
  return f;
}

/**
 * Stop /dev/watchdog being fed. EVE: freeze the daemon with SIGSTOP and see it stopped; elsewhere: open the device
 * with busybox's watchdog and kill it without the magic close. Returns how, for the facts.
 */
async function stopFeeding(ctx: SuiteContext, wd: WatchdogDecl): Promise<string> {
  const pids = (await read(ctx, 'pidof watchdog')).out;
  if (!pids) {
    const r = await read(ctx, `busybox watchdog -T ${wd.timeoutSeconds} -t 3600 /dev/watchdog && killall -9 watchdog && echo opened-and-abandoned`);
    if (r.code !== 0) throw new LabError(`on ${ctx.box.name}: cannot open /dev/watchdog to stop feeding it: ${r.out.slice(-200)}`);
    return `no watchdog daemon: /dev/watchdog opened with busybox watchdog -T ${wd.timeoutSeconds} and abandoned`;
  }
  const k = await read(ctx, `kill -STOP ${pids}`);
  if (k.code !== 0) throw new LabError(`on ${ctx.box.name}: kill -STOP ${pids} (the watchdog daemon) failed: ${k.out.slice(-200)}`);
  const stopped = `for p in ${pids}; do grep -q '^State:[[:space:]]*T' /proc/$p/status || exit 1; done`;
  const s = await pollBox(() => read(ctx, stopped), (x) => x.code === 0, 10_000, 200);
  if (s.code !== 0) throw new LabError(`on ${ctx.box.name}: the watchdog daemon (pid ${pids}) did not stop after kill -STOP`);
  return `watchdog daemon (pid ${pids}) frozen with kill -STOP, seen stopped (State T)`;
}

/** Wait for the reset on the console: a kernel failure first is the box's failure, with the console excerpt. */
export async function awaitReset(ctx: SuiteContext, wd: WatchdogDecl, limitS: number, t0: number): Promise<void> {
  try {
    await ctx.console.expect(RESET_SIGNS, {
      timeout: Math.max(1000, limitS * 1000 - (Date.now() - t0)),
      failPatterns: KERNEL_FAILURES,
      noDefaultFailPatterns: true,
      awaited: `the box to reset (watchdog no longer fed; within ${limitS} s)`,
    });
  } catch (e) {
    if (!(e instanceof DeadlineError)) throw e;
    // No reset seen: prove the box is still up (so it is the watchdog, not our view of the console).
    const alive = await read(ctx, 'cat /proc/uptime', 15_000).catch(() => null);
    if (alive && alive.code === 0) {
      ctx.fact('uptime-after', alive.out);
      throw new BoxError(
        `the box did not reset within ${limitS} s of the watchdog no longer being fed (uptime ${alive.out.split(' ')[0]} s; timeout ${wd.timeoutSeconds} s declared, margin ${wd.marginSeconds} s)`,
        { tail: ctx.console.tail() },
      );
    }
    throw e;
  }
}

/** WDIOF_CARDRESET: the flag a driver latches in its boot status when its timer reset the board. */
const WDIOF_CARDRESET = 0x20;

/**
 * What the driver says of the last reset, from sysfs `options` (hex) and `bootstatus` after it: a driver that
 * supports WDIOF_CARDRESET latched it (`latched`) or did not (`not-latched`: the reboot was not its timer's, and
 * EVE's nodeagent would not call it BootReasonHWWatchdog either); most (i6300esb, iTCO) do not report it at all;
 * kernels before 6.x have no `options` attribute (`options-unreadable`): timing alone then.
 */
export function cardReset(options: string | undefined, bootstatus: string | undefined): 'latched' | 'not-latched' | 'not-reported' | 'options-unreadable' {
  const opts = Number(options);
  if (!options || !Number.isInteger(opts)) return 'options-unreadable';
  if ((opts & WDIOF_CARDRESET) === 0) return 'not-reported';
  return (Number(bootstatus) & WDIOF_CARDRESET) !== 0 ? 'latched' : 'not-latched';
}

/** The reset window: no sooner than the timer's timeout, no later than the timeout plus the declared margin. */
function windowOf(before: Record<string, string>, wd: WatchdogDecl): { timerS: number; earliestS: number; latestS: number } {
  const timerS = Number(before.timeout) > 0 ? Number(before.timeout) : wd.timeoutSeconds;
  return { timerS, earliestS: timerS - EARLY_S, latestS: Math.max(timerS, wd.timeoutSeconds) + wd.marginSeconds };
}

export async function resetsTheBox(ctx: SuiteContext, wd: WatchdogDecl): Promise<void> {
  const before = await boxState(ctx);
  const { timerS, earliestS, latestS } = windowOf(before, wd);
  ctx.fact('before', before);
  ctx.fact('timeout-s', { timer: before.timeout ? timerS : 'unreadable', declared: wd.timeoutSeconds });
  ctx.fact('window-s', { earliest: earliestS, latest: latestS, marginDeclared: wd.marginSeconds });
  ctx.console.discard();
  ctx.console.note(`watchdog test: stop feeding /dev/watchdog (timer ${timerS} s), expect a reset in ${earliestS}..${latestS} s`);
  // A box whose firmware says nothing on the console for a while after the reset must not read as lost.
  ctx.expectReboot?.();
  const t0 = Date.now();
  ctx.fact('trigger', await stopFeeding(ctx, wd));
  await awaitReset(ctx, wd, latestS, t0);
  const resetS = Math.round((Date.now() - t0) / 100) / 10;
  ctx.fact('reset-after-s', resetS);
  await ctx.reconnect(600_000);
  const after = await boxState(ctx);
  // When the new kernel started, by the box's own clock (now less its uptime): a measure that needs no console line
  // (the reset came before it), so a reset whose first lines went unseen is not timed by a later line alone.
  const bootedS = Math.round((Date.now() - t0) / 100 - Number(after.uptime) * 10) / 10;
  ctx.fact('after', after);
  ctx.fact('booted-after-s', bootedS);
  ctx.fact('hw_watchdog_bootstatus', after.hw_watchdog_bootstatus === 'absent' ? null : after.hw_watchdog_bootstatus);
  expect(after.boot_id, `the boot id did not change (${after.boot_id}): the box did not reboot`).to.not.equal(before.boot_id);
  const card = cardReset(after.sys_options, after.sys_bootstatus);
  ctx.fact('card-reset', card);
  if (card === 'not-latched') {
    throw new BoxError(`the box rebooted, but its watchdog driver, which reports resets by its timer (WDIOF_CARDRESET in options ${after.sys_options}), latched none (boot status ${after.sys_bootstatus}): something else reset it`);
  }
  const soonest = Math.min(resetS, bootedS);
  if (soonest < earliestS) {
    throw new BoxError(
      `the box rebooted ${soonest} s after the watchdog was no longer fed (console: reset seen after ${resetS} s; its uptime: booted after ${bootedS} s), sooner than the timer's ${timerS} s timeout: something else reset it`,
      { tail: ctx.console.tail() },
    );
  }
}
