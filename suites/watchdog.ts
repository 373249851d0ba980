// watchdog: /dev/watchdog is there with the declared driver, and it really resets the box: we stop feeding it and
// watch the box reset within its timeout plus a margin, come back, and record the evidence (console excerpt, boot
// status). On EVE the watchdog daemon holds the device: it is frozen with SIGSTOP (`pkill -SUSP watchdog`, EVE's
// docs/HARDWARE-MODEL.md); elsewhere busybox's watchdog opens it with the declared timeout and is killed without
// the magic close.
import { expect } from 'chai';
import { BoxError, DeadlineError } from '../lib/errors.ts';
import { EVE_ISSUE } from '../lib/install/boot-to-shell.ts';
import { notDeclared, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

/** How the kernel names the timer of each driver (/sys/class/watchdog/watchdogN/identity). */
const IDENTITY: Array<[RegExp, RegExp]> = [
  [/i6300esb/i, /i6300ESB/i],
  [/itco/i, /iTCO/i],
  [/sp805/i, /sp805/i],
  [/imx2/i, /imx2\+?/i],
  [/bcm2835/i, /Broadcom BCM2835/i],
];

export const watchdogSuite: SuiteModule = {
  capability: 'watchdog',
  register({ describe, it }, ctx) {
    describe('watchdog', () => {
      const wd = ctx.profile.hardware.watchdog;
      if (!wd) {
        it('hardware watchdog', function () {
          notDeclared(this, 'the profile declares no watchdog');
        });
        return;
      }
      it(`watchdog: /dev/watchdog present with driver ${wd.driver}`, async () => {
        const r = await read(ctx, 'test -c /dev/watchdog && for w in /sys/class/watchdog/watchdog*; do echo "$(basename $w) $(cat $w/identity)"; done');
        ctx.fact('watchdogs', r.out.split('\n'));
        expect(r.code, 'no /dev/watchdog character device on the box').to.equal(0);
        const want = IDENTITY.find(([drv]) => drv.test(wd.driver))?.[1] ?? new RegExp(wd.driver, 'i');
        const first = r.out.split('\n').find((l) => l.startsWith('watchdog0 '));
        expect(first ?? '', `watchdog0 is not a ${wd.driver} (${r.out.replace(/\n/g, '; ')})`).to.match(want);
      });

      it('watchdog: resets the box when no longer fed', async function () {
        const limitS = wd.timeoutSeconds + wd.marginSeconds;
        this.timeout((limitS + 600) * 1000);
        const status = await read(ctx, 'cat /sys/class/watchdog/watchdog0/bootstatus 2>/dev/null; cat /persist/reboot-reason 2>/dev/null');
        ctx.fact('before.bootstatus', status.out);
        ctx.console.discard();
        ctx.console.note(`watchdog test: stop feeding /dev/watchdog (timeout ${wd.timeoutSeconds} s), expect a reset within ${limitS} s`);
        const trigger = [
          'if pidof watchdog >/dev/null 2>&1; then pkill -SUSP watchdog || kill -STOP $(pidof watchdog); echo daemon-frozen;',
          `else busybox watchdog -T ${wd.timeoutSeconds} -t 3600 /dev/watchdog && sleep 1 && killall -9 watchdog; echo opened-and-abandoned; fi`,
        ].join(' ');
        const t0 = Date.now();
        const how = await read(ctx, trigger, 30_000);
        ctx.fact('trigger', how.out);
        try {
          await ctx.console.expect([EVE_ISSUE, /Linux version \d/, /BdsDxe|UEFI firmware|U-Boot/], {
            timeout: limitS * 1000,
            noDefaultFailPatterns: true,
            awaited: `the box to reset (watchdog timeout ${wd.timeoutSeconds} s + margin ${wd.marginSeconds} s)`,
          });
        } catch (e) {
          if (!(e instanceof DeadlineError)) throw e;
          // No reset seen: prove the box is still up (so it is the watchdog, not our view of the console).
          const alive = await read(ctx, 'cat /proc/uptime', 15_000).catch(() => null);
          if (alive && alive.code === 0) {
            ctx.fact('uptime-after', alive.out);
            throw new BoxError(`the box did not reset within ${limitS} s of the watchdog no longer being fed (uptime ${alive.out.split(' ')[0]} s)`, {
              tail: ctx.console.tail(),
            });
          }
          throw e;
        }
        ctx.fact('reset-after-s', Math.round((Date.now() - t0) / 1000));
        await ctx.reconnect(600_000);
        const after = await read(ctx, 'cat /sys/class/watchdog/watchdog0/bootstatus 2>/dev/null; cat /persist/reboot-reason 2>/dev/null; cat /proc/uptime');
        ctx.fact('after', after.out.split('\n'));
      });
    });
  },
};
