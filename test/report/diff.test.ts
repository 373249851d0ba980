// eve-qual diff on golden runs of the virtual box: the passing run as release A, the run with seeded defects (a
// missing NIC, an absent USB stick, a watchdog that never resets) as release B, and the run interrupted mid-suite.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffCommand } from '../../lib/cli/diff-command.ts';
import { ConfigError } from '../../lib/errors.ts';
import { diffRuns, hasRegressions } from '../../lib/report/diff.ts';
import type { RunResults } from '../../lib/report/results.ts';
import { derive, goldenRun, withOutcomes, withStepOutcome, writeGoldenRunDir } from '../golden/golden.ts';
import { capture } from '../helpers/capture.ts';

/** What the seeded defects fail in the recording: eth1's, stick0's and the watchdog reset's checks. */
function seededFailures(): string[] {
  const ids = goldenRun('amd64-defects')
    .tests.filter((t) => t.outcome === 'fail')
    .map((t) => t.id);
  expect(ids).to.include.members(['ethernet/eth1/present', 'usb/stick0/enumerates', 'watchdog/resets']);
  for (const id of ids) expect(id).to.match(/^(ethernet\/eth1|usb\/stick0|watchdog)\//);
  return ids;
}

describe('report: diff of two runs of the same box', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-diff-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // A: everything passes but the TPM and the disk, and the watchdog could not be checked.
  const a = () =>
    withOutcomes(derive(goldenRun('amd64-level2'), { release: '13.3.0', start: '2026-05-01T08:00:00.000Z' }), {
      'tpm/tpm2-present': { outcome: 'fail', message: 'no /dev/tpmrm0' },
      'storage/disk0/present': 'fail',
      'watchdog/resets': { outcome: 'error', message: 'SSH shell lost before the timer was stopped' },
    });
  // B: the seeded defects; the disk still fails, and eth0's peer could not be checked.
  const b = (): RunResults =>
    withOutcomes(derive(goldenRun('amd64-defects'), { release: '13.4.0', start: '2026-05-15T08:00:00.000Z' }), {
      'storage/disk0/present': 'fail',
      'ethernet/eth0/traffic': { outcome: 'error', message: 'SSH shell lost' },
    });
  const regressed = () => seededFailures().filter((id) => id !== 'watchdog/resets');

  it('sorts every test into regressed, fixed, new failure, not checked, still failing', () => {
    const d = diffRuns(a(), b());
    expect(d.regressed.map((c) => c.id)).to.deep.equal(regressed());
    expect(d.fixed.map((c) => c.id)).to.deep.equal(['tpm/tpm2-present']);
    // an error in A is no evidence: the reset failing in B is a failure B found
    expect(d.newFailures.map((c) => c.id)).to.deep.equal(['watchdog/resets']);
    expect(d.unchecked.map((c) => c.id)).to.deep.equal(['ethernet/eth0/traffic']);
    expect(d.stillFailing.map((c) => c.id)).to.deep.equal(['storage/disk0/present']);
    expect(d.removed).to.deep.equal([]);
    expect(d.notes.join('\n')).to.match(/the profile differs \(test\/golden\/amd64-level2\/profile\.yaml .* vs test\/golden\/amd64-defects\/profile\.yaml/);
    expect(hasRegressions(d)).to.equal(true);
    const same = diffRuns(b(), b());
    expect(hasRegressions(same)).to.equal(false);
    expect(same.unchanged + same.stillFailing.length).to.equal(b().tests.length);
    expect(same.stillFailing.map((c) => c.id)).to.have.members([...seededFailures(), 'storage/disk0/present']);
  });

  it('a run interrupted mid-suite: the checks it did not finish are not checked in B, with a note', () => {
    const full = goldenRun('amd64-level2');
    const cut = goldenRun('amd64-interrupted');
    const checkedInA = new Set(full.tests.filter((t) => t.outcome === 'pass' || t.outcome === 'fail').map((t) => t.id));
    const unfinished = cut.tests.filter((t) => checkedInA.has(t.id) && (t.outcome === 'error' || (t.outcome === 'skip' && t.reason === 'not-run'))).map((t) => t.id);
    expect(unfinished).to.include.members(['usb/stick0/stores-data', 'watchdog/resets']);
    const d = diffRuns(full, cut);
    expect(d.unchecked.map((c) => c.id)).to.deep.equal(unfinished);
    // the check running at the SIGINT (none if it came between two checks) is an error that says so
    const stopped = d.unchecked.filter((c) => c.b === 'error');
    expect(stopped.length).to.be.at.most(1);
    for (const c of stopped) expect(c.message).to.equal('interrupted by SIGINT');
    expect(d.notes.join('\n')).to.match(/run B did not finish \(interrupted\)/);
    expect(d.regressed).to.deep.equal([]);
    expect(hasRegressions(d)).to.equal(d.steps.some((s) => s.kind === 'worse' || s.kind === 'slower'));
  });

  it('steps that got worse or much slower are regressions of the run', () => {
    const base = goldenRun('amd64-level2');
    const installer = base.steps.find((s) => s.name === 'installer starts')!;
    const slow = withStepOutcome(withStepOutcome(base, 'installer starts', { durationMs: installer.durationMs * 2 + 10_000 }), 'SSH answers with the injected key', { outcome: 'error', detail: 'timed out' });
    const d = diffRuns(base, slow);
    expect(d.steps.map((s) => [s.name, s.kind])).to.deep.equal([
      ['installer starts', 'slower'],
      ['SSH answers with the injected key', 'worse'],
    ]);
    expect(hasRegressions(d)).to.equal(true);
    expect(diffRuns(slow, base).steps.map((s) => s.kind)).to.deep.equal(['faster', 'better']);
  });

  it('eve-qual diff prints it and exits 1 on a regression, 0 without', async () => {
    const da = writeGoldenRunDir(path.join(tmp, 'a'), a(), 'amd64-level2');
    const db = writeGoldenRunDir(path.join(tmp, 'b'), b(), 'amd64-defects');
    const r = await capture(() => diffCommand.run([da, db]));
    expect(r.code).to.equal(1);
    const bRun = b();
    const msg = (id: string) => bRun.tests.find((t) => t.id === id)!.message!.split('\n')[0]!;
    const first = regressed()[0]!;
    expect(r.out).to.include('QEMU q35-ovmf: A = VM-AMD64-0001 on 13.3.0');
    expect(r.out).to.include(`Regressed (${regressed().length}):\n  ${first}: pass → fail: ${msg(first)}`);
    expect(r.out).to.include(`New failures (1):\n  watchdog/resets: error → fail: ${msg('watchdog/resets')}`);
    expect(r.out).to.include('Fixed (1):\n  tpm/tpm2-present: fail → pass');
    expect(r.out).to.include('Not checked in B (errors are not evidence: re-run) (1):\n  ethernet/eth0/traffic: pass → error: SSH shell lost');
    expect(r.out).to.match(new RegExp(`${regressed().length} regressed, 1 new failures, 1 fixed, \\d+ unchanged$`));
    const back = await capture(() => diffCommand.run([db, db, '--json']));
    expect(back.code).to.equal(0);
    expect(JSON.parse(back.out)).to.include({ regressions: false });
  });

  it('two different models, or not two runs, is a usage error', async () => {
    const dx = writeGoldenRunDir(path.join(tmp, 'x'), derive(goldenRun('amd64-level2'), { model: 'other' }), 'amd64-level2');
    const da = writeGoldenRunDir(path.join(tmp, 'a2'), a(), 'amd64-level2');
    let err: unknown;
    await diffCommand.run([da, dx]).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/compares two runs of the same box: A is QEMU q35-ovmf .* B is QEMU other/);
    err = undefined;
    await diffCommand.run([da]).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.match(/exactly two runs/);
  });
});
