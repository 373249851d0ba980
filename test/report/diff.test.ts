import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffCommand } from '../../lib/cli/diff-command.ts';
import { ConfigError } from '../../lib/errors.ts';
import { diffRuns, hasRegressions } from '../../lib/report/diff.ts';
import type { RunResults } from '../../lib/report/results.ts';
import { sampleRun, writeRunDir } from './sample-results.ts';
import { capture } from '../helpers/capture.ts';


describe('report: diff of two runs of the same box', () => {
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-diff-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const a = () =>
    sampleRun({
      release: '13.3.0',
      start: '2026-05-01T08:00:00.000Z',
      outcomes: { 'tpm/TPM 2.0 answers': { outcome: 'fail', message: 'no /dev/tpm0' }, 'storage/disk0 is vda of 2 GB': 'fail' },
    });
  const b = (): RunResults => {
    const r = sampleRun({
      release: '13.4.0',
      start: '2026-05-15T08:00:00.000Z',
      outcomes: {
        'ethernet/eth1 has carrier': { outcome: 'fail', message: 'eth1: no carrier after 30 s' },
        'usb/stick0 reads back what was written': { outcome: 'error', message: 'SSH shell lost' },
        'storage/disk0 is vda of 2 GB': 'fail',
      },
      omit: ['inventory/hardware inventory is collected'],
      extraTests: [
        { id: 'watchdog/watchdog survives a reboot', capability: 'watchdog', name: 'watchdog survives a reboot', outcome: 'fail', message: 'no reset', start: '2026-05-15T09:00:00.000Z', durationMs: 90_000, attempts: [], attachments: [] },
      ],
    });
    r.steps = r.steps.map((s) => (s.name === 'installer starts' ? { ...s, durationMs: 60_000 } : s.name === 'SSH answers with the injected key' ? { ...s, outcome: 'error', detail: 'timed out' } : s));
    return r;
  };

  it('sorts every test into regressed, fixed, new failure, not checked, still failing, removed', () => {
    const d = diffRuns(a(), b());
    expect(d.regressed.map((c) => c.id)).to.deep.equal(['ethernet/eth1 has carrier']);
    expect(d.fixed.map((c) => c.id)).to.deep.equal(['tpm/TPM 2.0 answers']);
    expect(d.newFailures.map((c) => c.id)).to.deep.equal(['watchdog/watchdog survives a reboot']);
    expect(d.unchecked.map((c) => c.id)).to.deep.equal(['usb/stick0 reads back what was written']);
    expect(d.removed.map((c) => c.id)).to.deep.equal(['inventory/hardware inventory is collected']);
    expect(d.stillFailing.map((c) => c.id)).to.deep.equal(['storage/disk0 is vda of 2 GB']);
    expect(d.steps.map((s) => [s.name, s.kind])).to.deep.equal([
      ['installer starts', 'slower'],
      ['SSH answers with the injected key', 'worse'],
    ]);
    expect(hasRegressions(d)).to.equal(true);
    expect(hasRegressions(diffRuns(b(), b()))).to.equal(false);
    const same = diffRuns(b(), b());
    expect(same.unchanged + same.stillFailing.length).to.equal(b().tests.length);
    expect(same.stillFailing).to.have.length(3);
  });

  it('eve-qual diff prints it and exits 1 on a regression, 0 without', async () => {
    const da = writeRunDir(path.join(tmp, 'a'), a());
    const db = writeRunDir(path.join(tmp, 'b'), b());
    const r = await capture(() => diffCommand.run([da, db]));
    expect(r.code).to.equal(1);
    expect(r.out).to.include('QEMU q35-ovmf: A = VM-AMD64-0001 on 13.3.0');
    expect(r.out).to.include('Regressed (1):\n  ethernet/eth1 has carrier: pass → fail: eth1: no carrier after 30 s');
    expect(r.out).to.include('New failures (1):\n  watchdog/watchdog survives a reboot: absent → fail: no reset');
    expect(r.out).to.include('Steps that got worse (2):\n  installer starts: ok 18.7 s → ok 60.0 s\n  SSH answers with the injected key: ok 0.4 s → error 0.4 s');
    expect(r.out).to.include('Fixed (1):\n  tpm/TPM 2.0 answers: fail → pass');
    expect(r.out).to.include('Not checked in B (errors are not evidence: re-run) (1):\n  usb/stick0 reads back what was written: pass → error: SSH shell lost');
    expect(r.out).to.include('Not run in B (1):\n  inventory/hardware inventory is collected: pass → absent');
    expect(r.out).to.match(/1 regressed, 1 new failures, 1 fixed, \d+ unchanged$/);
    const back = await capture(() => diffCommand.run([db, db, '--json']));
    expect(back.code).to.equal(0);
    expect(JSON.parse(back.out)).to.include({ regressions: false });
  });

  it('two different models, or not two runs, is a usage error', async () => {
    const dx = writeRunDir(path.join(tmp, 'x'), sampleRun({ model: 'other' }));
    const da = writeRunDir(path.join(tmp, 'a2'), a());
    let err: unknown;
    await diffCommand.run([da, dx]).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/compares two runs of the same box: A is QEMU q35-ovmf .* B is QEMU other/);
    err = undefined;
    await diffCommand.run([da]).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.match(/exactly two runs/);
  });
});
