// watchdog: /dev/watchdog is there with the declared driver, its timer runs with the declared timeout, and it really
// resets the box (watchdog-reset.ts). What `timeoutSeconds` means: EVE does not take a timeout from anyone; its
// watchdog service runs /usr/sbin/watchdog -F (watchdog 5.15) with no watchdog-timeout in its config, so the daemon
// asks the driver for 5.15's default of 60 s (TIMER_MARGIN; set_watchdog_timeout, WDIOC_SETTIMEOUT), and a driver
// that cannot do 60 s keeps a timeout of its own (the daemon logs "cannot set timeout"). So the declaration is the
// timeout the box's timer runs with under EVE, compared with the kernel's /sys/class/watchdog/watchdog0/timeout,
// and both are recorded with EVE's 60 s request; the reset is then timed against the timer's own value.
import { expect } from 'chai';
import { notDeclaredCheck, pollBox, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { fields, resetsTheBox, type WatchdogDecl } from './watchdog-reset.ts';

/** The timeout EVE's watchdog daemon asks the driver for (watchdog 5.15's TIMER_MARGIN; EVE's config sets none). */
const EVE_DAEMON_TIMEOUT_S = 60;

/** How the kernel names the timer of each driver (/sys/class/watchdog/watchdogN/identity), for a timer with no
 * device driver link in sysfs. */
const IDENTITY: Array<[RegExp, RegExp]> = [
  [/i6300esb/i, /i6300ESB/i],
  [/itco/i, /iTCO/i],
  [/sp805/i, /sp805/i],
  [/imx2/i, /imx2\+?/i],
  [/bcm2835/i, /Broadcom BCM2835/i],
];

/** Kernel driver and module names compare with `-` and `_` alike (sp805-wdt, iTCO_wdt), case aside. */
const norm = (s: string) => s.toLowerCase().replace(/-/g, '_');

// Per timer: name, identity, the driver bound to its device and that driver's module (what a profile names: the
// iTCO_wdt module's driver is iTCO_wdt). A timer registered with no parent device (i6300esb) has neither.
const TIMERS = [
  'test -c /dev/watchdog || exit 1',
  'for w in /sys/class/watchdog/watchdog*; do [ -e "$w" ] || continue; d=; m=',
  '[ -e "$w/device/driver" ] && d=$(basename "$(readlink -f "$w/device/driver")")',
  '[ -e "$w/device/driver/module" ] && m=$(basename "$(readlink -f "$w/device/driver/module")")',
  'echo "$(basename "$w")|$(cat "$w/identity" 2>/dev/null)|$d|$m"; done',
].join('; ');

/** watchdog0 (the timer behind /dev/watchdog) is bound to the declared kernel driver. */
async function hasDriver(ctx: SuiteContext, wd: WatchdogDecl): Promise<void> {
  const r = await read(ctx, TIMERS);
  const timers = (r.out ? r.out.split('\n') : []).map((l) => {
    const [name, identity, driver, module] = l.split('|');
    return { name, identity, driver, module };
  });
  ctx.fact('driver-declared', wd.driver);
  ctx.fact('timers', timers);
  expect(r.code, 'no /dev/watchdog character device on the box').to.equal(0);
  const first = timers.find((t) => t.name === 'watchdog0');
  expect(first, `no watchdog0 in /sys/class/watchdog (${r.out || 'empty'})`).to.not.equal(undefined);
  const { identity, driver, module } = first!;
  if (driver || module) {
    const names = [module, driver].filter((x): x is string => !!x).map(norm);
    ctx.fact('matched-by', 'driver');
    expect(names, `watchdog0 (${identity}) is driven by ${module || driver}, not ${wd.driver}`).to.include(norm(wd.driver));
    return;
  }
  ctx.fact('matched-by', 'identity');
  const want = IDENTITY.find(([drv]) => drv.test(wd.driver))?.[1] ?? new RegExp(wd.driver, 'i');
  expect(identity, `watchdog0 is not a ${wd.driver} (identity ${identity}; no driver link in sysfs)`).to.match(want);
}

const TIMER = 'w=/sys/class/watchdog/watchdog0; test -d $w || exit 1; for a in timeout min_timeout max_timeout state; do echo "$a=$(cat $w/$a 2>/dev/null)"; done; echo "daemon=$(pidof watchdog)"';

/** watchdog0's timer is running, with the declared timeout. */
async function hasTimeout(ctx: SuiteContext, wd: WatchdogDecl, test: Mocha.Context): Promise<void> {
  // Just after a boot EVE's watchdog service may not have started its daemon yet, which sets the timeout as it
  // opens the device (until then the driver's own default shows): wait for it, bounded.
  const started = (x: { out: string; code: number }) => x.code !== 0 || (/^daemon=\d/m.test(x.out) && !/^state=inactive/m.test(x.out));
  const r = await pollBox(() => read(ctx, TIMER), started, 120_000);
  const f = fields(r.out);
  ctx.fact('timeout-s', { declared: wd.timeoutSeconds, timer: f.timeout ? Number(f.timeout) : null, eveDaemonRequests: EVE_DAEMON_TIMEOUT_S });
  ctx.fact('timer', f);
  expect(r.code, 'no watchdog0 in /sys/class/watchdog').to.equal(0);
  if (!f.timeout) {
    (test.test as (Mocha.Runnable & { skipReason?: string }) | undefined)!.skipReason =
      'not-run: the kernel exposes no /sys/class/watchdog/watchdog0/timeout (CONFIG_WATCHDOG_SYSFS): the timer\'s timeout cannot be read (the reset check still times the reset)';
    test.skip();
  }
  // Where the kernel reports it: a timer nobody started runs with no timeout at all (EVE's daemon starts it).
  expect(f.state, `watchdog0 is not running (no daemon feeds it: daemon pid ${f.daemon || 'none'}): its timeout is not one the box runs with`).to.not.equal('inactive');
  expect(Number(f.timeout), `watchdog0 runs with a ${f.timeout} s timeout, ${wd.timeoutSeconds} s declared (EVE's daemon asks for ${EVE_DAEMON_TIMEOUT_S} s; range ${f.min_timeout || '?'}..${f.max_timeout || '?'} s)`).to.equal(wd.timeoutSeconds);
}

export const watchdogSuite: SuiteModule = {
  capability: 'watchdog',
  // the reset check times the reset against the timer's timeout plus the declared margin
  proves: { driver: 'driver', timeoutSeconds: 'timeout', marginSeconds: 'resets' },
  register(t, ctx) {
    t.describe('watchdog', () => {
      const wd = ctx.profile.hardware.watchdog;
      if (!wd) {
        notDeclaredCheck(t, 'hardware watchdog', 'the profile declares no watchdog');
        return;
      }
      t.check({ check: 'driver' }, `watchdog: /dev/watchdog present with driver ${wd.driver}`, () => hasDriver(ctx, wd));
      t.check({ check: 'timeout' }, `watchdog: the timer runs with a ${wd.timeoutSeconds} s timeout`, function () {
        return hasTimeout(ctx, wd, this);
      });
      t.check({ check: 'resets' }, 'watchdog: resets the box when no longer fed', async function () {
        this.timeout((Math.max(wd.timeoutSeconds, 60) + wd.marginSeconds + 900) * 1000);
        await resetsTheBox(ctx, wd);
      });
    });
  },
};
