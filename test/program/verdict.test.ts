// Each level's rule against runs recorded from the suites on the fixture boxes (test/golden: npm run golden), made
// into other boxes, samples, releases and operators, with recorded tests' outcomes changed by id: nothing here is a
// test the suites do not run.
import { expect } from 'chai';
import { formatVerdict } from '../../lib/program/format.ts';
import { loadProgram, type Program } from '../../lib/program/program.ts';
import { computeVerdict, levelMet, type Verdict, type VendorVerdict } from '../../lib/program/verdict.ts';
import type { Waiver } from '../../lib/program/waivers.ts';
import type { Outcome, RunResults } from '../../lib/report/results.ts';
import { derive, goldenRun, withOutcomes, type GoldenCaseName, type OutcomeChange, type RunChanges } from '../golden/golden.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
let clock = Date.parse('2026-06-01T08:00:00Z');

type Outcomes = Record<string, Outcome | OutcomeChange>;

/** A recorded run made into Acme X100 SN1 on 13.4.0 by the owner, one hour after the previous one. */
function run(o: RunChanges & { outcomes?: Outcomes; from?: GoldenCaseName } = {}): RunResults {
  clock += 3_600_000;
  const { outcomes, from, ...changes } = o;
  const r = derive(goldenRun(from ?? 'amd64-level2'), { vendor: 'Acme', model: 'X100', release: '13.4.0', role: 'owner', sample: 'SN1', start: new Date(clock).toISOString(), ...changes });
  return withOutcomes(r, outcomes ?? {});
}
const samples = (n: number, o: Parameters<typeof run>[0] = {}) => Array.from({ length: n }, (_, i) => run({ sample: `SN${i + 1}`, ...o }));
/** Every recorded test of a capability but the given checks, failed. */
const failAllBut = (cap: string, keep: string[]): Outcomes =>
  Object.fromEntries(goldenRun('amd64-level2').tests.filter((t) => t.capability === cap && !keep.includes(t.check)).map((t) => [t.id, { outcome: 'fail' as const, message: `${t.check} did not hold` }]));

const base = loadProgram();
const program: Program = { ...base, vendors: [{ vendor: 'Acme', models: ['X100', 'X200'] }] };

function verdict(runs: RunResults[], waivers: Waiver[] = [], p: Program = program): Verdict {
  return computeVerdict(runs, { program: p, waivers, now: NOW });
}
function vendor(v: Verdict, name = 'Acme'): VendorVerdict {
  const x = v.vendors.find((y) => y.vendor === name);
  expect(x, `vendor ${name} in the verdict`).to.not.equal(undefined);
  return x!;
}
const met = (v: VendorVerdict) => v.levels.filter((l) => l.met).map((l) => l.level);
const model = (v: VendorVerdict, m: string) => v.models.find((x) => x.model === m)!;
const lines = (v: VendorVerdict, level: number) => v.levels.find((l) => l.level === level)!.missing.map((m) => m.line);
const details = (v: VendorVerdict, level: number) => v.levels.find((l) => l.level === level)!.missing.flatMap((m) => m.details);

describe('program: verdicts (on golden runs)', () => {
  it('the program file holds the four levels of QUALIFICATION.md as data', () => {
    expect(base.levels.map((l) => [l.level, l.samples, l.models, l.release, l.runBy, l.declared])).to.deep.equal([
      [1, 1, 'one', 'any', 'anyone', false],
      [2, 1, 'one', 'any', 'anyone', true],
      [3, 5, 'every', 'current', 'owner', true],
      [4, 5, 'every', 'current', 'partner', true],
    ]);
    expect(base.levels[0]!.capabilities).to.deep.equal({
      install: 'all',
      boot: 'all',
      console: 'all',
      'remote-shell': 'all',
      ethernet: { any: { what: 'Ethernet port' } },
      usb: { any: { with: 'stores-data', what: 'USB storage device (written and read back)' } },
    });
    expect(base.levels[3]!.verify).to.deep.equal({ runBy: 'owner', samples: 1 });
  });

  describe('level 1: install, boot, console, remote shell, one Ethernet port working, USB storage written and read back', () => {
    it('presence alone is not level 1: every port present but no other check passing, and the stick enumerating but not storing', () => {
      const r = run({ outcomes: { ...failAllBut('ethernet', ['present']), 'usb/stick0/stores-data': { outcome: 'fail', message: 'write to /dev/sda failed (dd exit 1)' } } });
      expect(r.tests.filter((t) => t.check === 'present' || t.id === 'usb/stick0/enumerates').every((t) => t.outcome === 'pass')).to.equal(true);
      const v = vendor(verdict([r]));
      expect(met(v)).to.deep.equal([]);
      const d = details(v, 1);
      expect(d).to.have.length(1);
      expect(d[0]).to.match(/^SN1 on 13\.4\.0: ethernet: needs one Ethernet port working: eth0 failed "eth0: [^"]+": \w+ did not hold; failed "[^"]+": \w+ did not hold; and \d+ more; eth1 failed/);
      expect(d[0]).to.include('usb: needs one USB storage device (written and read back) working: stick0 failed "stick0: stores data (written, read back, sha256)": write to /dev/sda failed (dd exit 1)');
    });

    it('one port with every check passing is enough; a broken second port keeps level 1 and misses level 2, naming it', () => {
      const v = vendor(verdict([run({ role: 'partner', release: '12.0.0', outcomes: { 'ethernet/eth1/carrier': 'fail' } })]));
      expect(met(v)).to.deep.equal([1]);
      expect(v.next!.level).to.equal(2);
      expect(lines(v, 2)).to.deep.equal(['level 2: model X100 has 0 of 1 samples on any release', 'level 2: model X200 has no runs']);
      expect(details(v, 2)).to.deep.equal(['SN1 on 12.0.0: ethernet/eth1/carrier failed: ethernet/eth1/carrier: fail (derived from a recorded pass)']);
    });

    it('the seeded defects (no eth1, no stick, a watchdog that never resets): no USB storage, so not level 1', () => {
      const v = vendor(verdict([run({ from: 'amd64-defects' })]));
      expect(met(v)).to.deep.equal([]);
      const d = details(v, 1);
      expect(d).to.have.length(1);
      expect(d[0]).to.match(/^SN1 on 13\.4\.0: usb: needs one USB storage device \(written and read back\) working: stick0 failed "stick0: [^"]*enumerates[^"]*": stick0: no 46f4:0001 mass-storage enumerated/);
      expect(d[0], 'eth0 works: the Ethernet rule is met').to.not.include('ethernet:');
    });

    it('a run interrupted before the USB suite does not show level 1', () => {
      const v = vendor(verdict([run({ from: 'amd64-interrupted' })]));
      expect(met(v)).to.deep.equal([]);
      expect(details(v, 1)[0]).to.match(/usb: /);
    });
  });

  describe('level 2: every declared capability and item working on one sample of one model', () => {
    it('one sample with everything declared working meets 1 and 2; level 3 names the samples and the missing model', () => {
      const v = vendor(verdict([run()]));
      expect(met(v)).to.deep.equal([1, 2]);
      expect(v.levelName).to.equal('General Ecosystem Partner');
      expect(model(v, 'X100').level).to.equal(2);
      expect(model(v, 'X200').level).to.equal(0);
      expect(lines(v, 3)).to.deep.equal(['level 3: model X100 has 1 of 5 samples on 13.4.0: SN1', 'level 3: model X200 has no runs']);
    });

    it('the verdict shows the facts that proved each item', () => {
      const v = vendor(verdict([run()]));
      const l2 = model(v, 'X100').levels[1]!;
      const eth0 = l2.proofs.find((p) => p.capability === 'ethernet' && p.item === 'eth0')!;
      expect(eth0.checks.map((c) => c.check)).to.include.members(['present', 'carrier', 'dhcp']);
      expect(eth0.checks.every((c) => Object.keys(c.facts).length > 0)).to.equal(true);
      const text = formatVerdict(verdict([run()]));
      expect(text).to.match(/\n {4}proven on SN1 \(13\.4\.0\):\n/);
      expect(text).to.match(/\n {6}ethernet eth0: present \(.+\); carrier \(/);
      expect(text).to.match(/\n {6}usb stick0: enumerates \(.+\); stores-data \(/);
    });

    it('a declared item without a check is missing; results without "declared" cannot show level 2', () => {
      const more = run();
      // The same checks run under a profile that declared more than they cover.
      more.declared = { ...more.declared, usb: ['stick0', 'stick1'], cellular: ['modem0'] };
      const v1 = vendor(verdict([more]));
      expect(met(v1)).to.deep.equal([1]);
      expect(details(v1, 2)[0]).to.equal('SN1 on 13.4.0: usb/stick1: declared but not checked; cellular/modem0: declared but not checked');
      const none = run();
      delete none.declared;
      const v2 = vendor(verdict([none]));
      expect(met(v2)).to.deep.equal([1]);
      expect(details(v2, 2)[0]).to.match(/do not record what the profile declares/);
    });

    it('a missing model: level 2 needs one model, level 3 every listed model', () => {
      const v = vendor(verdict([...samples(5)]));
      expect(met(v)).to.deep.equal([1, 2]);
      expect(model(v, 'X100').levels[2]!.met).to.equal(true);
      expect(lines(v, 3)).to.deep.equal(['level 3: model X200 has no runs']);
      const unlisted = vendor(verdict(samples(5), [], { ...base, vendors: [] }));
      expect(met(unlisted)).to.deep.equal([1, 2, 3]);
      expect(unlisted.modelsFrom).to.equal('runs');
      expect(formatVerdict(verdict(samples(5), [], { ...base, vendors: [] }))).to.include('the program lists no models for Acme');
    });
  });

  describe('level 3: every model, 5 samples each, current release, run by the program owner', () => {
    it('five samples of every listed model on the current release: level 3', () => {
      const v = vendor(verdict([...samples(5), ...samples(5, { model: 'X200' })]));
      expect(met(v)).to.deep.equal([1, 2, 3]);
      expect(v.level).to.equal(3);
      expect(model(v, 'X100').levels[2]!.samples).to.deep.equal(['SN1', 'SN2', 'SN3', 'SN4', 'SN5']);
    });

    it('a run on an older release does not count: "3 of 5 samples on 13.4.0: SN1, SN2, SN4"', () => {
      const runs = [
        run({ sample: 'SN1' }),
        run({ sample: 'SN2' }),
        run({ sample: 'SN3', outcomes: { 'watchdog/resets': { outcome: 'fail', message: 'no reset within 120 s' } } }),
        run({ sample: 'SN4' }),
        run({ sample: 'SN5', release: '13.3.0' }),
        ...samples(5, { model: 'X200' }),
      ];
      const v = vendor(verdict(runs));
      expect(v.next!.level).to.equal(3);
      expect(lines(v, 3)).to.deep.equal(['level 3: model X100 has 3 of 5 samples on 13.4.0: SN1, SN2, SN4']);
      expect(details(v, 3)).to.deep.equal(['SN3 on 13.4.0: watchdog/resets failed: no reset within 120 s', 'SN5: runs on 13.3.0 only; level 3 needs 13.4.0']);
      // "current" is the newest release among the runs: with only 13.3.0 runs, 13.3.0 is current.
      const older = vendor(verdict(samples(5, { release: '13.3.0' }), [], { ...base, vendors: [] }));
      expect(met(older)).to.include(3);
      // A named release in the program pins it.
      const pinned: Program = { ...base, vendors: [], levels: base.levels.map((l) => (l.level === 3 ? { ...l, release: '13.4.0' } : l)) };
      expect(lines(vendor(verdict(samples(5, { release: '13.3.0' }), [], pinned)), 3)).to.deep.equal(['level 3: model X100 has 0 of 5 samples on 13.4.0']);
    });

    it('partner-run samples do not make level 3; the verdict says who ran them', () => {
      const v = vendor(verdict([...samples(5, { role: 'partner', organisation: 'Acme Labs' })], [], { ...base, vendors: [] }));
      expect(met(v)).to.deep.equal([1, 2]);
      expect(lines(v, 3)).to.deep.equal(['level 3: model X100 has 0 of 5 samples on 13.4.0']);
      expect(details(v, 3)[0]).to.equal('SN1: run only by Acme Labs (partner); level 3 needs runs by the program owner');
    });
  });

  describe('level 4: partner runs of 5 samples per model on the current release, verified by the owner', () => {
    const noRoster: Program = { ...base, vendors: [] };
    it('without an owner run it is not met; with an agreeing owner run it is', () => {
      const partner = samples(5, { role: 'partner', organisation: 'Acme Labs' });
      const v1 = vendor(verdict(partner, [], noRoster));
      expect(met(v1)).to.deep.equal([1, 2]);
      expect(model(v1, 'X100').levels[3]!.samples).to.have.length(5);
      expect(model(v1, 'X100').levels[3]!.missing.map((m) => m.line)).to.deep.equal(["level 4: model X100 has no run by the program owner on 13.4.0 to verify the partner's results"]);
      const v2 = vendor(verdict([...partner, run({ sample: 'SN3' })], [], noRoster));
      expect(met(v2)).to.deep.equal([1, 2, 4]);
      expect(v2.level).to.equal(4);
      expect(model(v2, 'X100').levels[3]!.verifiedBy).to.deep.equal(['SN3']);
      expect(v2.next).to.equal(null);
    });

    it("an owner run that does not confirm the partner's results, or one on an older release, does not verify", () => {
      const partner = samples(5, { role: 'partner', organisation: 'Acme Labs' });
      const v = vendor(verdict([...partner, run({ sample: 'SN2', outcomes: { 'tpm/sha256-bank': { outcome: 'fail', message: 'no SHA-256 PCR could be read' } } }), run({ sample: 'SN9', release: '13.3.0' })], [], noRoster));
      expect(met(v)).to.not.include(4);
      const l4 = model(v, 'X100').levels[3]!;
      expect(l4.missing[0]!.line).to.equal("level 4: model X100 has 0 of 1 samples run by the program owner on 13.4.0 that confirm the partner's results");
      expect(l4.missing[0]!.details).to.deep.equal(['SN2 on 13.4.0: tpm/sha256-bank failed: no SHA-256 PCR could be read']);
    });
  });

  describe('waivers', () => {
    const watchdogFails = () => run({ outcomes: { 'watchdog/resets': { outcome: 'fail', message: 'the box did not reset within 120 s' } } });
    const waiver = (until: string): Waiver => ({ scope: { vendor: 'Acme', model: 'X100', capability: 'watchdog' }, reason: 'BIOS update pending', by: 'jane@program-owner.example', until });

    it('a waiver covers a failing declared check: level met, shown as waived', () => {
      expect(met(vendor(verdict([watchdogFails()])))).to.deep.equal([1]);
      const v = vendor(verdict([watchdogFails()], [waiver('2026-06-15')]));
      expect(met(v)).to.deep.equal([1, 2]);
      expect(v.waived.map((w) => [w.what, w.sample, w.waiver.by])).to.deep.equal([['watchdog/resets', 'SN1', 'jane@program-owner.example']]);
      expect(formatVerdict(verdict([watchdogFails()], [waiver('2026-06-15')]))).to.include('waived:\n    watchdog/resets on SN1 (13.4.0): BIOS update pending; by jane@program-owner.example, until 2026-06-15');
    });

    it("an expired waiver doesn't count, and the verdict says it expired", () => {
      const v = vendor(verdict([watchdogFails()], [waiver('2026-06-14')]));
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)[0]).to.equal('SN1 on 13.4.0: watchdog/resets failed: the box did not reset within 120 s (waiver by jane@program-owner.example expired on 2026-06-14)');
      expect(v.waived).to.deep.equal([]);
      expect(v.expiredWaivers.map((w) => w.what)).to.deep.equal(['watchdog/resets']);
    });

    it('a waiver is only as wide as its scope (another model, another level)', () => {
      const other = { ...waiver('2027-01-01'), scope: { vendor: 'Acme', model: 'X200', capability: 'watchdog' as const } };
      expect(met(vendor(verdict([watchdogFails()], [other])))).to.deep.equal([1]);
      const l3only = { ...waiver('2027-01-01'), scope: { capability: 'watchdog' as const, level: 3 } };
      expect(met(vendor(verdict([watchdogFails()], [l3only])))).to.deep.equal([1]);
    });

    it('a waived skip recorded by the run alone does not count', () => {
      const v = vendor(verdict([run({ outcomes: { 'watchdog/resets': { outcome: 'skip', reason: 'waived' } } })]));
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)[0]).to.match(/watchdog\/resets: waived at run time; only waivers given to qualify count/);
    });
  });

  describe('an error is not evidence; a failure is', () => {
    it('an error is reported as "re-run", a failure as failed; neither meets the level', () => {
      const v = vendor(
        verdict([
          run({ sample: 'SN1', outcomes: { 'ethernet/eth0/dhcp': { outcome: 'error', reason: 'lab', message: 'console link lost: ser2net closed the connection' } } }),
          run({ sample: 'SN2', outcomes: { 'ethernet/eth0/dhcp': { outcome: 'fail', message: 'no lease within 60 s' } } }),
        ]),
      );
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)).to.deep.equal([
        'SN1 on 13.4.0: ethernet/eth0/dhcp: error, not evidence (lab: console link lost: ser2net closed the connection); re-run',
        'SN2 on 13.4.0: ethernet/eth0/dhcp failed: no lease within 60 s',
      ]);
    });

    it('a later error does not erase an earlier pass; a later failure does (a regression)', () => {
      const first = run();
      const laterError = run({ outcomes: { 'tpm/sha256-bank': 'error' } });
      expect(met(vendor(verdict([first, laterError])))).to.deep.equal([1, 2]);
      const laterFail = run({ outcomes: { 'tpm/sha256-bank': 'fail' } });
      expect(met(vendor(verdict([first, laterFail])))).to.deep.equal([1]);
      // A re-run that passes after an error completes the evidence.
      expect(met(vendor(verdict([laterError, run()])))).to.deep.equal([1, 2]);
    });
  });

  it('runs merge only under the same profile: another declaration of the hardware is judged on its own', () => {
    const full = run();
    const other = run({ from: 'amd64-defects' });
    other.profile = { file: 'defects.yaml', sha256: 'f'.repeat(64) };
    expect(met(vendor(verdict([full, other])))).to.deep.equal([1, 2]);
    // The same failing run under the same profile is a regression of that claim: the stick gone, not even level 1.
    const v2 = vendor(verdict([full, { ...other, profile: full.profile }]));
    expect(met(v2)).to.deep.equal([]);
    expect(details(v2, 1)[0]).to.match(/^SN1 on 13\.4\.0: usb: needs one USB storage device \(written and read back\) working: stick0 failed/);
    expect(details(v2, 2)[0]).to.match(/^SN1 on 13\.4\.0: ethernet\/eth1\/present failed/);
  });

  it('renaming every test title changes no verdict', () => {
    const runs = [run(), run({ sample: 'SN2', outcomes: { 'usb/stick0/stores-data': 'fail' } }), run({ from: 'amd64-defects', sample: 'SN3', model: 'X200' })];
    const renamed = runs.map((r) => ({ ...r, tests: r.tests.map((t, i) => ({ ...t, name: `check number ${i}: renamed` })) }));
    const shape = (v: Verdict) =>
      vendor(v).models.map((m) => [m.model, m.level, m.levels.map((l) => [l.level, l.met, l.samples, l.missing.map((x) => x.line), l.missing.map((x) => x.details.length), l.proofs.map((p) => p.checks.map((c) => c.id))])]);
    expect(shape(verdict(renamed))).to.deep.equal(shape(verdict(runs)));
    expect(met(vendor(verdict(renamed)))).to.deep.equal([1, 2]);
  });

  it('several vendors at once, and --level N is met only when every vendor meets N', () => {
    const v = verdict([run(), run({ from: 'amd64-interrupted', vendor: 'Bolt', model: 'B1', sample: 'B-1' })]);
    expect(v.vendors.map((x) => [x.vendor, x.level])).to.deep.equal([
      ['Acme', 2],
      ['Bolt', 0],
    ]);
    expect(levelMet(v, 1)).to.equal(false);
    expect(levelMet(verdict([run()]), 2)).to.equal(true);
    expect(levelMet(verdict([run()]), 3)).to.equal(false);
    const text = formatVerdict(v);
    expect(text).to.match(/^EVE-OS hardware qualification \(revision 1\): 2 runs, current release 13\.4\.0/);
    expect(text).to.include('Acme: level 2 (General Ecosystem Partner)');
    expect(text).to.include('Bolt: no level met');
    expect(text).to.include('    level 1: model B1 has 0 of 1 samples on any release\n      B-1 on 13.4.0: ');
  });
});
