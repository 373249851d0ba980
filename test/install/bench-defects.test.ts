// A lab-bench box with seeded hardware (issue 14): a QEMU VM the test starts itself, driven by eve-qual as a real box
// through one profile that declares what the healthy bench has. The bench is installed and qualified once (level 2);
// then each case boots the installed disk through a copy-on-write overlay (lab-box.ts) with one part missing or
// broken, and runs the affected capability with --no-install. The case's run must fail exactly its item's checks, and the
// verdict on the bench's evidence (the healthy run, then the case's run, which overrides it) must miss exactly the
// levels the program says.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';
import { startEveQual } from '../helpers/watched-run.ts';
import { startLabBench, type BenchHardware, type LabBench } from '../helpers/lab-box.ts';
import { benchProfile, HEALTHY, type BenchProfile } from '../helpers/bench-profile.ts';

interface Test {
  id: string;
  outcome: string;
  message?: string;
  facts?: Record<string, unknown>;
}
interface LevelResult {
  level: number;
  met: boolean;
  missing: Array<{ line: string; details: string[] }>;
}

const resultsOf = (dir: string): Test[] => (JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as { tests: Test[] }).tests;

/** What a run did not show working: failures and errors (not-declared and not-run skips are no claim either way). */
const badOf = (tests: Test[]) => tests.filter((t) => t.outcome === 'fail' || t.outcome === 'error');

const show = (tests: Test[]) => tests.map((t) => `${t.id} ${t.outcome}${t.message ? `: ${t.message.slice(0, 200)}` : ''}`).join('\n');

/** The bench's levels as `eve-qual qualify --json` judges the runs: level -> its text of what is missing. */
async function levelsOf(runs: string[]): Promise<Map<number, { met: boolean; why: string }>> {
  const r = await eveQual(['qualify', ...runs, '--json']);
  expect(r.exitCode, r.all).to.be.oneOf([0, 1]);
  const v = JSON.parse(r.stdout) as { vendors: Array<{ models: Array<{ levels: LevelResult[] }> }> };
  const levels = v.vendors[0]!.models[0]!.levels;
  return new Map(levels.map((l) => [l.level, { met: l.met, why: l.missing.flatMap((m) => [m.line, ...m.details]).join('\n') }]));
}

describe('a lab-bench box with seeded hardware: each defect fails its item and the levels it must', function () {
  this.timeout(3_600_000);
  let release: string;
  let tmp: string;
  let bench: LabBench;
  let profile: BenchProfile;
  let healthyRun: string;

  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-benchdefects-'));
    const key = path.join(tmp, 'lab_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab key', '-f', key]);
    bench = await startLabBench(path.join(tmp, 'bench'), { hardware: HEALTHY });
    profile = benchProfile(tmp, bench, key);
    // Installed through the mux and qualified at level 2 in one run: the disk every case boots from.
    healthyRun = path.join(tmp, 'healthy');
    const r = await eveQual(['run', '--profile', profile.file, '--release', release, '--level', '2', '--out', healthyRun], { timeout: 2_400_000 });
    expect(r.exitCode, r.all).to.equal(0);
  });
  after(async () => {
    await bench?.stop();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the healthy bench is installed through the mux and meets level 2, the keyboard enumerating beside the stick', async () => {
    const tests = resultsOf(healthyRun);
    expect(badOf(tests), show(badOf(tests))).to.deep.equal([]);
    for (const id of ['install/installer-completes', 'usb/stick0/stores-data', 'usb/kbd0/enumerates', 'ethernet/eth1/traffic', 'tpm/tpm2-present', 'watchdog/resets', 'storage/disk1/present'])
      expect(tests.find((t) => t.id === id)?.outcome, id).to.equal('pass');
    const levels = await levelsOf([healthyRun]);
    expect(levels.get(1)!.met, levels.get(1)!.why).to.equal(true);
    expect(levels.get(2)!.met, levels.get(2)!.why).to.equal(true);
    // The healthy CPU's extensions as the guest sees them, for the no-VT-x case to differ from (the profile does not
    // declare virtualization: see the report on /dev/kvm).
    const virt = path.join(tmp, 'healthy-virtualization');
    await eveQual(['run', '--no-install', '--profile', profile.withVirtualization, '--release', release, '--capability', 'virtualization', '--out', virt]);
    const cpu = resultsOf(virt).find((t) => t.id === 'virtualization/cpu-extensions');
    expect(cpu?.facts?.['cpu-flags'], show(resultsOf(virt))).to.be.an('array').that.is.not.empty;
  });

  /** Boot the installed disk (an overlay of it) on the bench rewired with `hw`, up to its banner: --no-install
   * qualifies a box that is up. */
  async function bootOverlay(hw: BenchHardware): Promise<void> {
    await bench.power('off');
    bench.rewire(hw, { overlay: true });
    const up = bench.waitForOutput(/Edge Virtualization Engine/, 600_000);
    await bench.power('on');
    await up;
  }

  /** Boot the installed disk (an overlay of it) on the bench rewired with `hw`, and run `args` with --no-install. */
  async function caseRun(name: string, hw: BenchHardware, args: string[], profileFile = profile.file): Promise<{ dir: string; tests: Test[]; all: string }> {
    await bootOverlay(hw);
    const dir = path.join(tmp, name);
    const r = await eveQual(['run', '--no-install', '--profile', profileFile, '--release', release, ...args, '--out', dir]);
    expect(r.exitCode, r.all).to.be.oneOf([0, 1]);
    return { dir, tests: resultsOf(dir), all: r.all ?? '' };
  }

  /**
   * The run fails every check of `scope` it names in `fail` (and no check outside `scope`), and the verdict on the
   * bench's evidence misses exactly the levels in `missed`, each naming `scope`'s item.
   */
  async function expectCase(run: { dir: string; tests: Test[]; all: string }, scope: string, fail: string[], missed: number[], names: RegExp) {
    const bad = badOf(run.tests);
    const outside = bad.filter((t) => !t.id.startsWith(scope));
    expect(outside, `checks outside ${scope} that did not pass:\n${show(outside)}\n---\n${run.all.slice(-3000)}`).to.deep.equal([]);
    for (const id of fail) expect(run.tests.find((t) => t.id === id)?.outcome, `${id}\n${show(run.tests)}`).to.equal('fail');
    expect(bad.length, `nothing of ${scope} failed:\n${show(run.tests)}`).to.be.greaterThan(0);
    const levels = await levelsOf([healthyRun, run.dir]);
    for (const level of [1, 2]) {
      const l = levels.get(level)!;
      expect(l.met, `level ${level}: ${l.why}`).to.equal(!missed.includes(level));
      if (!l.met) expect(l.why, `level ${level} names the item`).to.match(names);
    }
    return levels;
  }

  it('no USB stick: every usb/stick0 check fails, the keyboard still enumerates, and level 1 is not met (a keyboard is not USB storage)', async () => {
    const run = await caseRun('no-stick', { ...HEALTHY, stick: null }, ['--capability', 'usb']);
    const mine = run.tests.filter((t) => t.id.startsWith('usb/stick0/'));
    expect(mine.length).to.be.greaterThan(0);
    expect(mine.filter((t) => t.outcome !== 'fail'), show(mine)).to.deep.equal([]);
    expect(run.tests.find((t) => t.id === 'usb/kbd0/enumerates')?.outcome, show(run.tests)).to.equal('pass');
    const levels = await expectCase(run, 'usb/stick0/', ['usb/stick0/enumerates', 'usb/stick0/stores-data'], [1, 2], /stick0/);
    expect(levels.get(1)!.why, 'level 1 in the program\'s words').to.match(/usb: needs one USB storage device \(written and read back\) working: stick0 failed/);
    expect(levels.get(1)!.why, 'the keyboard is no candidate for USB storage').not.to.match(/kbd0/);
  });

  it('a stick smaller than declared (16 of 64 MB): usb/stick0/size fails, and neither level is met', async () => {
    const run = await caseRun('small-stick', { ...HEALTHY, stick: { sizeMb: 16, readOnly: false } }, ['--capability', 'usb']);
    expect(run.tests.find((t) => t.id === 'usb/stick0/enumerates')?.outcome, show(run.tests)).to.equal('pass');
    await expectCase(run, 'usb/stick0/', ['usb/stick0/size'], [1, 2], /stick0/);
  });

  it('a read-only stick: usb/stick0/stores-data fails, and neither level is met', async () => {
    const run = await caseRun('ro-stick', { ...HEALTHY, stick: { sizeMb: 64, readOnly: true } }, ['--capability', 'usb']);
    expect(run.tests.find((t) => t.id === 'usb/stick0/enumerates')?.outcome, show(run.tests)).to.equal('pass');
    await expectCase(run, 'usb/stick0/', ['usb/stick0/stores-data'], [1, 2], /stick0/);
  });

  it('a NIC missing (eth1 not fitted, eth0 working): ethernet/eth1 fails, level 1 is met and level 2 is not', async () => {
    const run = await caseRun('no-eth1', { ...HEALTHY, eth1: 'absent' }, ['--capability', 'ethernet']);
    const mine = run.tests.filter((t) => t.id.startsWith('ethernet/eth1/'));
    expect(mine.filter((t) => t.outcome !== 'fail'), 'a port that is not there proves nothing of it').to.deep.equal([]);
    await expectCase(run, 'ethernet/eth1/', ['ethernet/eth1/present'], [2], /eth1/);
  });

  it('a port unplugged (eth1 link down): ethernet/eth1/carrier fails, level 1 is met and level 2 is not', async () => {
    const run = await caseRun('unplugged-eth1', { ...HEALTHY, eth1: 'unplugged' }, ['--capability', 'ethernet']);
    expect(run.tests.find((t) => t.id === 'ethernet/eth1/present')?.outcome, show(run.tests)).to.equal('pass');
    await expectCase(run, 'ethernet/eth1/', ['ethernet/eth1/carrier'], [2], /eth1/);
  });

  it('a disk smaller than declared (disk1: 512 MiB of 1 GB): storage/disk1/present fails, level 2 only', async () => {
    const run = await caseRun('small-disk', { ...HEALTHY, dataDiskMb: 512 }, ['--capability', 'storage']);
    await expectCase(run, 'storage/disk1/', ['storage/disk1/present'], [2], /disk1/);
  });

  it('no TPM (no swtpm, no tpm device): tpm/tpm2-present fails, level 2 only', async () => {
    const run = await caseRun('no-tpm', { ...HEALTHY, tpm: false }, ['--capability', 'tpm']);
    // The install left EVE's device certificate (its key in the TPM) on the disk: with the TPM gone, no TPM check may
    // pass on what the disk says.
    const passed = run.tests.filter((t) => t.id.startsWith('tpm/') && t.outcome === 'pass');
    expect(passed, `with no TPM fitted, nothing of it can pass:\n${show(passed)}`).to.deep.equal([]);
    await expectCase(run, 'tpm/', ['tpm/tpm2-present'], [2], /tpm/);
  });

  it('a watchdog whose action does not reset: watchdog/resets fails, level 2 only', async () => {
    const run = await caseRun('wdt-none', { ...HEALTHY, watchdog: 'does-nothing' }, ['--capability', 'watchdog']);
    expect(run.tests.find((t) => t.id === 'watchdog/driver')?.outcome, show(run.tests)).to.equal('pass');
    await expectCase(run, 'watchdog/', ['watchdog/resets'], [2], /watchdog/);
  });

  it('a CPU without VT-x/AMD-V: the guest sees no vmx/svm flag, and virtualization/cpu-extensions fails on it', async () => {
    const run = await caseRun('no-vtx', { ...HEALTHY, vtx: false }, ['--capability', 'virtualization'], profile.withVirtualization);
    const cpu = run.tests.find((t) => t.id === 'virtualization/cpu-extensions');
    expect(cpu?.outcome, show(run.tests)).to.equal('fail');
    expect(cpu!.facts?.['cpu-flags']).to.deep.equal([]);
    expect(cpu!.message).to.match(/no vmx or svm flag/);
  });

  /** Boot the healthy bench from its overlay, start a usb run on it as a real box, and harm its VM at the first usb
   * check (a signal to QEMU, or a reset through its monitor, as a hardware watchdog or a brownout would): what the
   * run then records, and how long after the harm it ended. */
  async function harmedRun(name: string, harm: 'SIGSTOP' | 'SIGKILL' | 'reset'): Promise<{ tests: Test[]; exitCode: number | undefined; all: string; afterMs: number }> {
    await bootOverlay(HEALTHY);
    const dir = path.join(tmp, name);
    const { child, printed } = startEveQual(['run', '--no-install', '--profile', profile.file, '--release', release, '--capability', 'usb', '--out', dir]);
    await printed(/\n {2}. usb\//, 600_000);
    const pid = Number(fs.readFileSync(path.join(bench.state, 'qemu.pid'), 'utf8'));
    if (harm === 'reset') await bench.reset();
    else process.kill(pid, harm);
    const harmedAt = Date.now();
    try {
      const r = await child;
      return { tests: resultsOf(dir), exitCode: r.exitCode, all: r.all, afterMs: Date.now() - harmedAt };
    } finally {
      // Killed already in the killed case; the frozen one is pulled out here.
      if (harm === 'SIGSTOP') process.kill(pid, 'SIGKILL');
    }
  }

  /** The run told the loss as `message`: exit 3, one error (the check it stopped), the rest not run, nothing failed. */
  function expectLost(r: Awaited<ReturnType<typeof harmedRun>>, message: RegExp, withinMs: number): void {
    expect(r.afterMs, 'from the harm to the exit').to.be.below(withinMs);
    expect(r.exitCode, r.all.slice(-3000)).to.equal(3);
    expect(r.tests.filter((t) => t.outcome === 'fail').map((t) => t.id), 'a lost box fails nothing').to.deep.equal([]);
    const errors = r.tests.filter((t) => t.outcome === 'error');
    expect(errors.map((t) => t.message), show(r.tests)).to.have.length(1);
    expect(errors[0]!.message).to.match(message);
    expect(r.tests.filter((t) => t.outcome === 'skip' && t.message === 'not run: box lost').length).to.be.greaterThan(0);
  }

  it('the bench frozen mid-suite (a real box: terminal server, SSH forward, command power): exit 3 within 90 s, "box stopped answering", no fail', async () => {
    expectLost(await harmedRun('frozen', 'SIGSTOP'), /^box stopped answering: SSH .*console silent for \d+ s/, 90_000);
  });

  it('the bench killed mid-suite (its power status then reads off): exit 3 within 60 s, "box lost: its power reads off", no fail', async () => {
    expectLost(await harmedRun('killed', 'SIGKILL'), /^box lost: its power reads off \(command:/, 60_000);
  });

  it('the bench reset mid-suite, no reset asked for: exit 3, "box rebooted by itself" with the console line, no fail', async () => {
    expectLost(await harmedRun('reset', 'reset'), /^box rebooted by itself: the console showed ".+"/, 120_000);
  });
});
