// The watchdog suite driven directly on an installed amd64 box of the fixture release, whose watchdog service is
// EVE's (a daemon named watchdog feeding the i6300esb with a 60 s timeout, /persist/hw_watchdog_bootstatus written
// at every start). The suite's shell here is the console's (the host, pid namespace shared with the services, as on
// EVE), so a reboot needs no new SSH host key: ctx.reconnect is the console login. Each test is named after the
// EVE behaviour or the proof it needs.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bootToShell } from '../../lib/install/boot-to-shell.ts';
import type { TestResult } from '../../lib/report/results.ts';
import { repinAfterBoot } from '../../lib/install/console-host-keys.ts';
import { hostKeyRecords, runInstall, type InstallRunResult } from '../../lib/run/install-run.ts';
import { ConsoleShell } from '../../lib/shell/console-shell.ts';
import type { RunResult, Shell } from '../../lib/shell/shell.ts';
import { runSuites } from '../../lib/suite-runtime/run-suites.ts';
import { watchdogSuite } from '../../suites/watchdog.ts';
import { cardReset, type WatchdogDecl } from '../../suites/watchdog-reset.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';


describe('watchdog suite on the virtual box (EVE watchdog service of the fixture release)', function () {
  this.timeout(3_600_000);
  let r: InstallRunResult;
  let out: string;

  before(async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-watchdog-'));
    r = await runInstall({ profileFile: path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'), releaseSrc: release, out });
  });

  after(async () => {
    await r?.scope.close();
    if (out) fs.rmSync(out, { recursive: true, force: true });
  });

  /** Run the suite on the box's console shell (or `shell`), with the profile's watchdog (or `wd`); its results by id. */
  async function watchdogRun(shell?: Shell, wd?: Partial<WatchdogDecl>): Promise<Record<string, TestResult>> {
    const con = r.box.console;
    const profile = r.loaded.profile;
    const results = await runSuites({
      ctx: {
        profile: { ...profile, hardware: { ...profile.hardware, watchdog: { ...profile.hardware.watchdog!, ...wd } } },
        box: r.box,
        shell: shell ?? new ConsoleShell(con),
        console: con,
        runDir: out,
        reconnect: (ms) => bootToShell(con, { timeout: ms }),
      },
      modules: [watchdogSuite],
      onTest: () => undefined,
    });
    return Object.fromEntries(results.map((t) => [t.id, t]));
  }

  /** The reset check's result of a run. */
  async function resetTest(shell?: Shell): Promise<TestResult> {
    return (await watchdogRun(shell))['watchdog/resets']!;
  }

  /** The console shell, with `after` run after each of the suite's commands (a fault injected at that point). */
  function hooked(after: (con: ConsoleShell, cmd: string, res: RunResult) => Promise<void>): Shell {
    const con = new ConsoleShell(r.box.console);
    return {
      where: con.where,
      run: async (cmd, opts) => {
        const res = await con.run(cmd, opts);
        await after(con, cmd, res);
        return res;
      },
      put: (l, rem, o) => con.put(l, rem, o),
      get: (rem, l, o) => con.get(rem, l, o),
      close: () => con.close(),
    };
  }

  /** After a test that left the box rebooting or dead: back to a console shell. */
  async function backToShell(): Promise<void> {
    r.box.console.discard();
    await r.box.power.cycle();
    await bootToShell(r.box.console, { timeout: 600_000 });
  }

  it("EVE's procps-ng pkill refuses -SUSP: the watchdog is frozen with kill -STOP, then the reset is proven by a new boot id; the driver, EVE's 60 s timeout and /persist/hw_watchdog_bootstatus are recorded", async () => {
    const run = await watchdogRun();
    const t = run['watchdog/resets']!;
    expect(t.outcome, t.message).to.equal('pass');
    const f = t.facts!;
    expect(f.trigger).to.match(/frozen with kill -STOP, seen stopped/);
    expect((f.before as Record<string, string>).boot_id).to.match(/^[0-9a-f-]{36}$/);
    expect((f.after as Record<string, string>).boot_id).to.not.equal((f.before as Record<string, string>).boot_id);
    // the i6300esb's timer runs with EVE's daemon's 60 s, as the profile declares; the reset within 60 + 90 s
    expect(f['timeout-s']).to.deep.equal({ timer: 60, declared: 60 });
    expect(f['window-s']).to.deep.equal({ earliest: 57, latest: 150, marginDeclared: 90 });
    expect(f['reset-after-s']).to.be.within(57, 150);
    expect(f['booted-after-s']).to.be.at.least((f['reset-after-s'] as number) - 2);
    // EVE's boot status after the reset: empty on i6300esb (no CARDRESET option), which attributes by timing alone
    expect(f).to.have.property('hw_watchdog_bootstatus', '');
    // Debian's 6.1 kernel has no watchdog `options` attribute: the driver's flags cannot be read, timing decides
    expect((f.after as Record<string, string>).sys_options).to.equal('');
    expect(f['card-reset']).to.equal('options-unreadable');
    const driver = run['watchdog/driver']!;
    expect(driver.outcome, driver.message).to.equal('pass');
    // i6300esb registers its timer with no parent device: it is known by its identity
    expect(driver.facts?.timers).to.deep.include({ name: 'watchdog0', identity: 'i6300ESB timer', driver: '', module: '' });
    expect(driver.facts?.['matched-by']).to.equal('identity');
    const timeout = run['watchdog/timeout']!;
    expect(timeout.outcome, timeout.message).to.equal('pass');
    expect(timeout.facts?.['timeout-s']).to.deep.equal({ declared: 60, timer: 60, eveDaemonRequests: 60 });
    expect(timeout.facts?.timer).to.include({ state: 'active' });
  });

  it('a reboot sooner than the timeout is not the watchdog: the reset check fails; a timeout or a driver other than declared fails its check', async () => {
    // the box reboots itself right after the feeder is frozen: the console shows a reset, but long before 60 s
    const early = hooked(async (con, cmd) => {
      if (/^kill -STOP /.test(cmd)) await con.run('(sleep 5; reboot -f) >/dev/null 2>&1 &');
    });
    const run = await watchdogRun(early, { driver: 'iTCO_wdt', timeoutSeconds: 30 });
    const t = run['watchdog/resets']!;
    expect(t.outcome).to.equal('fail');
    expect(t.message).to.match(/sooner than the timer's 60 s timeout: something else reset it/);
    expect(run['watchdog/timeout']).to.include({ outcome: 'fail' });
    expect(run['watchdog/timeout']!.message).to.match(/runs with a 60 s timeout, 30 s declared/);
    expect(run['watchdog/driver']).to.include({ outcome: 'fail' });
    expect(run['watchdog/driver']!.message).to.match(/watchdog0 is not a iTCO_wdt \(identity i6300ESB timer/);
    // the box's own clock dates its new boot too: after the reset the console showed
    expect(t.facts?.['booted-after-s']).to.be.at.least((t.facts?.['reset-after-s'] as number) - 2);
  });

  it('a kernel panic before the reset fails the check with the console excerpt (fail patterns on during the wait)', async () => {
    // the kernel dies once the feeder is frozen (over SSH: the console is the suite's to watch); the box reboots
    // later (panic=120, or the frozen daemon's timer). SSH first learns this boot's host key on the console.
    await repinAfterBoot(r.box, r.outcome.ssh, hostKeyRecords(r.loaded, r.runDir), 120_000);
    expect((await r.outcome.ssh.run('true')).code, 'SSH to trigger the panic').to.equal(0);
    const panics = hooked(async (_con, cmd, res) => {
      if (/^for p in .*State/.test(cmd) && res.code === 0) void r.outcome.ssh.run('echo c >/proc/sysrq-trigger', { timeout: 10_000 }).catch(() => undefined);
    });
    const t = await resetTest(panics);
    expect(t.outcome).to.equal('fail');
    expect(t.message).to.match(/Kernel panic - not syncing/);
    expect(t.consoleExcerpt ?? '').to.match(/Kernel panic - not syncing/);
    await backToShell();
  });
});

describe("watchdog reset attribution by the driver's boot status (sysfs options and bootstatus as the kernel prints them)", () => {
  it('a driver that reports card resets must have latched one; one that does not (i6300esb 0x8180, iTCO) is judged by timing alone', () => {
    // imx2-style options with WDIOF_CARDRESET (0x20): latched after a watchdog reset, not after another reboot
    expect(cardReset('0x81a0', '32')).to.equal('latched');
    expect(cardReset('0x81a0', '0')).to.equal('not-latched');
    expect(cardReset('0x8180', '32')).to.equal('not-reported');
    expect(cardReset('', '0')).to.equal('options-unreadable');
    expect(cardReset(undefined, undefined)).to.equal('options-unreadable');
  });
});
