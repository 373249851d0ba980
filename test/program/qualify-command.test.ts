import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { qualifyCommand } from '../../lib/cli/qualify-command.ts';
import { ConfigError } from '../../lib/errors.ts';
import type { Verdict } from '../../lib/program/verdict.ts';
import { defaultProgramFile } from '../../lib/program/program.ts';
import { derive, goldenRun, withOutcomes, writeGoldenRunDir, type RunChanges } from '../golden/golden.ts';
import { capture } from '../helpers/capture.ts';


async function usageError(argv: string[]): Promise<string> {
  let err: unknown;
  await qualifyCommand.run(argv).catch((e: unknown) => (err = e));
  expect(err).to.be.instanceOf(ConfigError);
  return (err as Error).message;
}

describe('program: eve-qual qualify', () => {
  let tmp: string;
  let runsDir: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-qualify-'));
    runsDir = path.join(tmp, 'runs');
    let clock = Date.parse('2026-06-01T08:00:00Z');
    // Recorded runs of the suites, made into Acme X100 samples whose watchdog does not reset, and a Bolt box
    // interrupted mid-suite.
    const run = (o: RunChanges) => derive(goldenRun('amd64-level2'), { vendor: 'Acme', model: 'X100', release: '13.4.0', role: 'owner', start: new Date((clock += 3_600_000)).toISOString(), ...o });
    const wdFail = { 'watchdog/resets': { outcome: 'fail' as const, message: 'no reset within 120 s' } };
    [1, 2, 3, 4, 5].forEach((n) => writeGoldenRunDir(path.join(runsDir, `x100-sn${n}`), withOutcomes(run({ sample: `SN${n}` }), wdFail), 'amd64-level2'));
    const bolt = derive(goldenRun('amd64-interrupted'), { vendor: 'Bolt', model: 'B1', sample: 'B-1', release: '13.3.0', start: new Date((clock += 3_600_000)).toISOString() });
    writeGoldenRunDir(path.join(runsDir, 'bolt-b1'), bolt, 'amd64-interrupted');
    fs.writeFileSync(
      path.join(tmp, 'waivers.yaml'),
      'waivers:\n  - scope: { vendor: Acme, capability: watchdog }\n    reason: BIOS update pending\n    by: jane@owner.example\n    until: 2026-09-30\n',
    );
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('prints the verdict per vendor and model, with what is missing; exit 0 without --level', async () => {
    const r = await capture(() => qualifyCommand.run([runsDir]));
    expect(r.code).to.equal(0);
    expect(r.out).to.match(/^EVE-OS hardware qualification \(revision 1\): 6 runs, current release 13\.4\.0\n/);
    expect(r.out).to.include('Acme: level 1 (OSS via Project EVE Community)');
    expect(r.out).to.include('  model X100: level 1 (OSS via Project EVE Community); 5 samples (SN1, SN2, SN3, SN4, SN5), release 13.4.0');
    expect(r.out).to.include('    level 2: model X100 has 0 of 1 samples on any release\n      SN1 on 13.4.0: watchdog/resets failed: no reset within 120 s');
    expect(r.out).to.match(/\n {4}proven on SN1 \(13\.4\.0\):\n {6}install: installer-completes \(steps: /);
    expect(r.out).to.include('Bolt: no level met');
  });

  it('says which runs were resumed, recovered or stopped, and which checks passed only on a later attempt', async () => {
    const dir = path.join(tmp, 'resumed-runs');
    const r = derive(goldenRun('amd64-level2'), { vendor: 'Acme', model: 'X100', sample: 'SN7', release: '13.4.0' });
    r.resumed = [{ at: '2026-06-02T03:00:00.000Z', from: 'interrupted' }];
    r.recoveries = 1;
    const t = r.tests.find((x) => x.id === 'usb/stick0/stores-data')!;
    t.attempts = [{ outcome: 'error', message: 'box lost: QEMU exited on signal SIGKILL', durationMs: 1200 }];
    writeGoldenRunDir(path.join(dir, 'x100-sn7'), r, 'amd64-level2');
    const out = (await capture(() => qualifyCommand.run([dir]))).out;
    expect(out).to.match(/\n\S*x100-sn7: resumed 1 time\(s\); box brought back 1 time\(s\)\n/);
    expect(out).to.include('  usb/stick0/stores-data pass on attempt 2 (attempt 1 error: box lost: QEMU exited on signal SIGKILL)');
  });

  it('--waivers: the waiver counts until its date (--as-of), and --level sets the exit status', async () => {
    const waived = await capture(() => qualifyCommand.run([runsDir, '--waivers', path.join(tmp, 'waivers.yaml'), '--as-of', '2026-09-30', '--level', '3']));
    expect(waived.out).to.include('Acme: level 3 (Hardware AVL)');
    expect(waived.out).to.include('  waived:\n    watchdog/resets on SN1 (13.4.0), SN2 (13.4.0), SN3 (13.4.0), SN4 (13.4.0), SN5 (13.4.0): BIOS update pending; by jane@owner.example, until 2026-09-30');
    expect(waived.out).to.match(/\nlevel 3: not met by Bolt$/);
    expect(waived.code).to.equal(1);
    const onlyAcme = await capture(() => qualifyCommand.run(fs.readdirSync(runsDir).filter((d) => d.startsWith('x100')).map((d) => path.join(runsDir, d)).concat(['--waivers', path.join(tmp, 'waivers.yaml'), '--as-of', '2026-09-30', '--level', '3'])));
    expect(onlyAcme.code).to.equal(0);
    expect(onlyAcme.out).to.match(/\nlevel 3: met$/);
    const expired = await capture(() => qualifyCommand.run([runsDir, '--waivers', path.join(tmp, 'waivers.yaml'), '--as-of', '2026-10-01', '--level', '2']));
    expect(expired.code).to.equal(1);
    expect(expired.out).to.include('(waiver by jane@owner.example expired on 2026-09-30)');
    expect(expired.out).to.include('  expired waivers (not counted):');
  });

  it('--json prints the verdict as data; --program takes another program (with a vendor roster)', async () => {
    const program = fs.readFileSync(defaultProgramFile, 'utf8').replace('vendors: []', 'vendors:\n  - vendor: Acme\n    models: [X100, X200]');
    fs.writeFileSync(path.join(tmp, 'program.yaml'), program);
    const r = await capture(() => qualifyCommand.run([runsDir, '--json', '--program', path.join(tmp, 'program.yaml'), '--waivers', path.join(tmp, 'waivers.yaml'), '--as-of', '2026-07-01']));
    expect(r.code).to.equal(0);
    const v = JSON.parse(r.out) as Verdict;
    const acme = v.vendors.find((x) => x.vendor === 'Acme')!;
    expect(acme.level).to.equal(2);
    expect(acme.modelsFrom).to.equal('program');
    expect(acme.next!.missing.map((m) => m.line)).to.deep.equal(['level 3: model X200 has no runs']);
    expect(acme.models.map((m) => [m.model, m.level, m.listed])).to.deep.equal([
      ['X100', 3, true],
      ['X200', 0, true],
    ]);
  });

  it('bad input is a usage error (exit 2) before anything is judged', async () => {
    expect(await usageError([])).to.match(/name at least one run directory/);
    expect(await usageError([runsDir, '--level', '7'])).to.match(/--level 7: the program has levels 1, 2, 3, 4/);
    expect(await usageError([runsDir, '--as-of', 'tomorrow'])).to.match(/--as-of tomorrow: expected a date/);
    expect(await usageError([runsDir, '--program', path.join(tmp, 'nope.yaml')])).to.match(/cannot read program .*nope\.yaml: no such file/);
    fs.writeFileSync(path.join(tmp, 'bad-waivers.yaml'), 'waivers:\n  - scope: {}\n    reason: r\n    by: b\n    until: soon\n');
    expect(await usageError([runsDir, '--waivers', path.join(tmp, 'bad-waivers.yaml')])).to.include('bad-waivers.yaml:5:12: waivers[0].until: must be a date YYYY-MM-DD');
    expect(await usageError([path.join(tmp, 'nothing-here')])).to.match(/no such run directory/);
    expect(await usageError([runsDir, '--bogus'])).to.match(/Unknown option '--bogus'/);
  });
});
