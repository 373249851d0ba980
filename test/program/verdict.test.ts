// Each level's rule against hand-built result sets (realistic runs of test/report/sample-results.ts).
import { expect } from 'chai';
import { formatVerdict } from '../../lib/program/format.ts';
import { loadProgram, type Program } from '../../lib/program/program.ts';
import { computeVerdict, levelMet, type Verdict, type VendorVerdict } from '../../lib/program/verdict.ts';
import type { Waiver } from '../../lib/program/waivers.ts';
import type { RunResults } from '../../lib/report/results.ts';
import { QEMU_AMD64_DECLARED, sampleRun, type SampleRunOptions } from '../report/sample-results.ts';

const NOW = new Date('2026-06-15T12:00:00Z');
let clock = Date.parse('2026-06-01T08:00:00Z');

/** A run of Acme X100 on 13.4.0 by the owner, every declared item passing, unless told otherwise. */
function run(o: SampleRunOptions = {}): RunResults {
  clock += 3_600_000;
  return sampleRun({ vendor: 'Acme', model: 'X100', release: '13.4.0', role: 'owner', sample: 'SN1', start: new Date(clock).toISOString(), ...o });
}
const samples = (n: number, o: SampleRunOptions = {}) => Array.from({ length: n }, (_, i) => run({ sample: `SN${i + 1}`, ...o }));

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

describe('program: verdicts', () => {
  it('the program file holds the four levels of QUALIFICATION.md as data', () => {
    expect(base.levels.map((l) => [l.level, l.samples, l.models, l.release, l.runBy, l.declared])).to.deep.equal([
      [1, 1, 'one', 'any', 'anyone', false],
      [2, 1, 'one', 'any', 'anyone', true],
      [3, 5, 'every', 'current', 'owner', true],
      [4, 5, 'every', 'current', 'partner', true],
    ]);
    expect(base.levels[0]!.capabilities).to.deep.equal({ install: 'all', boot: 'all', console: 'all', 'remote-shell': 'all', ethernet: 'any', usb: 'any' });
    expect(base.levels[3]!.verify).to.deep.equal({ runBy: 'owner', samples: 1 });
  });

  describe('level 1: install, boot, console, remote shell, one Ethernet port, USB storage; one sample, anyone', () => {
    it('one sample with a broken second port and the rest undeclared still meets level 1 (not 2)', () => {
      const v = vendor(verdict([run({ role: 'partner', release: '12.0.0', outcomes: { 'ethernet/eth1 has carrier': 'fail', 'tpm/TPM 2.0 answers': 'fail' } })]));
      expect(met(v)).to.deep.equal([1]);
      expect(v.level).to.equal(1);
      expect(v.next!.level).to.equal(2);
      expect(lines(v, 2)).to.deep.equal(['level 2: model X100 has 0 of 1 samples on any release', 'level 2: model X200 has no runs']);
      expect(details(v, 2)).to.deep.equal(['SN1 on 12.0.0: ethernet/eth1 has carrier failed: eth1: eth1 has carrier did not hold; tpm/TPM 2.0 answers failed: tpm: TPM 2.0 answers did not hold']);
    });

    it('no Ethernet port working, or USB storage failing, is not level 1', () => {
      const v = vendor(
        verdict([
          run({ outcomes: { 'ethernet/eth0 has carrier': 'fail', 'ethernet/eth0 gets a DHCP address': 'fail', 'ethernet/eth1 has carrier': 'fail', 'ethernet/eth1 gets a DHCP address': 'fail' } }),
          run({ model: 'X200', sample: 'SN7', outcomes: { 'usb/stick0 is enumerated as 46f4:0001': 'fail', 'usb/stick0 reads back what was written': 'fail' } }),
        ]),
      );
      expect(met(v)).to.deep.equal([]);
      expect(v.level).to.equal(0);
      expect(v.next!.level).to.equal(1);
      const d = details(v, 1);
      expect(d[0]).to.match(/^SN1 on 13\.4\.0: ethernet: no check passed \(ethernet\/eth0 has carrier failed/);
      expect(d[1]).to.match(/^SN7 on 13\.4\.0: usb: no check passed \(usb\/stick0 is enumerated as 46f4:0001 failed/);
    });

    it('a run without install or console checks does not show level 1', () => {
      const v = vendor(verdict([run({ only: ['ethernet', 'usb', 'remote-shell', 'boot'] })]));
      expect(met(v)).to.deep.equal([]);
      expect(details(v, 1)[0]).to.equal('SN1 on 13.4.0: install: no check ran; console: no check ran');
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

    it('a declared item without a check is missing; results without "declared" cannot show level 2', () => {
      const v1 = vendor(verdict([run({ declared: { ...QEMU_AMD64_DECLARED, usb: ['stick0', 'stick1'], cellular: ['modem0'] } })]));
      expect(met(v1)).to.deep.equal([1]);
      expect(details(v1, 2)[0]).to.equal(
        'SN1 on 13.4.0: usb/stick1: declared but not checked; cellular/modem0: declared but not checked',
      );
      const v2 = vendor(verdict([run({ declared: null })]));
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
        run({ sample: 'SN3', outcomes: { 'watchdog/i6300esb resets a box that stops feeding it': { outcome: 'fail', message: 'no reset within 120 s' } } }),
        run({ sample: 'SN4' }),
        run({ sample: 'SN5', release: '13.3.0' }),
        ...samples(5, { model: 'X200' }),
      ];
      const v = vendor(verdict(runs));
      expect(v.next!.level).to.equal(3);
      expect(lines(v, 3)).to.deep.equal(['level 3: model X100 has 3 of 5 samples on 13.4.0: SN1, SN2, SN4']);
      expect(details(v, 3)).to.deep.equal([
        'SN3 on 13.4.0: watchdog/i6300esb resets a box that stops feeding it failed: no reset within 120 s',
        'SN5: runs on 13.3.0 only; level 3 needs 13.4.0',
      ]);
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
      expect(model(v1, 'X100').levels[3]!.missing.map((m) => m.line)).to.deep.equal([
        "level 4: model X100 has no run by the program owner on 13.4.0 to verify the partner's results",
      ]);
      const v2 = vendor(verdict([...partner, run({ sample: 'SN3' })], [], noRoster));
      expect(met(v2)).to.deep.equal([1, 2, 4]);
      expect(v2.level).to.equal(4);
      expect(model(v2, 'X100').levels[3]!.verifiedBy).to.deep.equal(['SN3']);
      expect(v2.next).to.equal(null);
    });

    it("an owner run that does not confirm the partner's results, or one on an older release, does not verify", () => {
      const partner = samples(5, { role: 'partner', organisation: 'Acme Labs' });
      const v = vendor(verdict([...partner, run({ sample: 'SN2', outcomes: { 'tpm/TPM 2.0 answers': 'fail' } }), run({ sample: 'SN9', release: '13.3.0' })], [], noRoster));
      expect(met(v)).to.not.include(4);
      const l4 = model(v, 'X100').levels[3]!;
      expect(l4.missing[0]!.line).to.equal("level 4: model X100 has 0 of 1 samples run by the program owner on 13.4.0 that confirm the partner's results");
      expect(l4.missing[0]!.details).to.deep.equal(['SN2 on 13.4.0: tpm/TPM 2.0 answers failed: tpm: TPM 2.0 answers did not hold']);
    });
  });

  describe('waivers', () => {
    const cellularRun = () =>
      run({
        declared: { ...QEMU_AMD64_DECLARED, cellular: [] },
        outcomes: { 'cellular/modems register': { outcome: 'fail', message: 'no SIM: modem0 not registered' } },
      });
    const waiver = (until: string): Waiver => ({ scope: { vendor: 'Acme', model: 'X100', capability: 'cellular' }, reason: 'no SIM card in the lab', by: 'jane@program-owner.example', until });

    it('a waiver covers a failing declared check: level met, shown as waived', () => {
      expect(met(vendor(verdict([cellularRun()])))).to.deep.equal([1]);
      const v = vendor(verdict([cellularRun()], [waiver('2026-06-15')]));
      expect(met(v)).to.deep.equal([1, 2]);
      expect(v.waived.map((w) => [w.what, w.sample, w.waiver.by])).to.deep.equal([['cellular/modems register', 'SN1', 'jane@program-owner.example']]);
      const text = formatVerdict(verdict([cellularRun()], [waiver('2026-06-15')]));
      expect(text).to.include('waived:\n    cellular/modems register on SN1 (13.4.0): no SIM card in the lab; by jane@program-owner.example, until 2026-06-15');
    });

    it("an expired waiver doesn't count, and the verdict says it expired", () => {
      const v = vendor(verdict([cellularRun()], [waiver('2026-06-14')]));
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)[0]).to.equal(
        'SN1 on 13.4.0: cellular/modems register failed: no SIM: modem0 not registered (waiver by jane@program-owner.example expired on 2026-06-14)',
      );
      expect(v.waived).to.deep.equal([]);
      expect(v.expiredWaivers.map((w) => w.what)).to.deep.equal(['cellular/modems register']);
    });

    it('a waiver is only as wide as its scope (another model, another level)', () => {
      const other = { ...waiver('2027-01-01'), scope: { vendor: 'Acme', model: 'X200', capability: 'cellular' as const } };
      expect(met(vendor(verdict([cellularRun()], [other])))).to.deep.equal([1]);
      const l3only = { ...waiver('2027-01-01'), scope: { capability: 'cellular' as const, level: 3 } };
      expect(met(vendor(verdict([cellularRun()], [l3only])))).to.deep.equal([1]);
    });

    it('a waived skip recorded by the run alone does not count', () => {
      const r = run({
        declared: { ...QEMU_AMD64_DECLARED, cellular: [] },
        outcomes: { 'cellular/modems register': { outcome: 'skip', reason: 'waived' } },
      });
      const v = vendor(verdict([r]));
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)[0]).to.match(/cellular\/modems register: waived at run time; only waivers given to qualify count/);
    });
  });

  describe('an error is not evidence; a failure is', () => {
    it('an error is reported as "re-run", a failure as failed; neither meets the level', () => {
      const v = vendor(
        verdict([
          run({ sample: 'SN1', outcomes: { 'ethernet/eth0 gets a DHCP address': { outcome: 'error', reason: 'lab', message: 'console link lost: ser2net closed the connection' } } }),
          run({ sample: 'SN2', outcomes: { 'ethernet/eth0 gets a DHCP address': { outcome: 'fail', message: 'no lease within 60 s' } } }),
        ]),
      );
      expect(met(v)).to.deep.equal([1]);
      expect(details(v, 2)).to.deep.equal([
        'SN1 on 13.4.0: ethernet/eth0 gets a DHCP address: error, not evidence (lab: console link lost: ser2net closed the connection); re-run',
        'SN2 on 13.4.0: ethernet/eth0 gets a DHCP address failed: no lease within 60 s',
      ]);
    });

    it('a later error does not erase an earlier pass; a later failure does (a regression)', () => {
      const first = run();
      const laterError = run({ outcomes: { 'tpm/TPM 2.0 answers': 'error' } });
      expect(met(vendor(verdict([first, laterError])))).to.deep.equal([1, 2]);
      const laterFail = run({ outcomes: { 'tpm/TPM 2.0 answers': 'fail' } });
      expect(met(vendor(verdict([first, laterFail])))).to.deep.equal([1]);
      // A re-run that passes after an error completes the evidence.
      expect(met(vendor(verdict([laterError, run()])))).to.deep.equal([1, 2]);
    });
  });

  it('runs merge only under the same profile: another declaration of the hardware is judged on its own', () => {
    const full = run();
    const other = run({ only: ['cellular'], declared: { cellular: ['modem0', 'modem1'] }, outcomes: { 'cellular/modems register': 'fail' } });
    other.profile = { file: 'cell.yaml', sha256: 'f'.repeat(64) };
    const v = vendor(verdict([full, other]));
    expect(met(v)).to.deep.equal([1, 2]);
    // The same failing run under the same profile is a regression of that claim.
    const same = { ...other, profile: full.profile };
    const v2 = vendor(verdict([full, same]));
    expect(met(v2)).to.deep.equal([1]);
    expect(details(v2, 2)[0]).to.match(/^SN1 on 13\.4\.0: cellular\/modems register failed/);
  });

  it('several vendors at once, and --level N is met only when every vendor meets N', () => {
    const v = verdict([run(), run({ vendor: 'Bolt', model: 'B1', sample: 'B-1', only: ['install', 'boot', 'console'] })]);
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
    expect(text).to.include('    level 1: model B1 has 0 of 1 samples on any release\n      B-1 on 13.4.0: remote-shell: no check ran; ethernet: no check ran; usb: no check ran');
  });
});
