// The golden-run loader derives only what it says: box, release, operator and time of a run, and outcomes of the
// tests (and steps) the recording holds; an id or step it does not hold is refused, never invented.
import { expect } from 'chai';
import { derive, goldenRun, withOutcome, withStepOutcome } from './golden.ts';

describe('golden runs: the loader', () => {
  it('derive changes the box, release and operator, and moves every timestamp alike; the tests stay as recorded', () => {
    const run = goldenRun('amd64-level2');
    const d = derive(run, { vendor: 'Acme', model: 'X100', sample: 'SN9', release: '13.4.0', organisation: 'Acme lab', role: 'partner', start: '2026-06-01T09:00:00.000Z' });
    expect(d.box).to.deep.include({ vendor: 'Acme', model: 'X100', sample: 'SN9', name: run.box.name, arch: run.box.arch });
    expect(d.release).to.deep.include({ version: '13.4.0', eveRelease: run.release.eveRelease.replace(run.release.version, '13.4.0'), installer: run.release.installer });
    expect(d.operator).to.deep.equal({ organisation: 'Acme lab', role: 'partner' });
    const ms = Date.parse('2026-06-01T09:00:00.000Z') - Date.parse(run.start);
    expect(Date.parse(d.end!) - Date.parse(run.end!)).to.equal(ms);
    expect(d.steps.map((s) => Date.parse(s.start) - ms)).to.deep.equal(run.steps.map((s) => Date.parse(s.start)));
    expect(d.tests.map((t) => ({ ...t, start: run.start }))).to.deep.equal(run.tests.map((t) => ({ ...t, start: run.start })));
    expect(d.runId).to.equal(`2026-06-01T09:00:00.000Z-${run.box.name}`);
    expect(goldenRun('amd64-level2')).to.deep.equal(run); // the recording itself is untouched
  });

  it('withOutcome changes one recorded test by id, and refuses an id the recording does not hold', () => {
    const run = goldenRun('amd64-defects');
    const d = withOutcome(run, 'ethernet/eth1/carrier', 'pass');
    const t = d.tests.find((x) => x.id === 'ethernet/eth1/carrier')!;
    expect(t.outcome).to.equal('pass');
    expect(t).to.not.have.property('message');
    expect(t).to.not.have.property('reason');
    expect(d.tests.filter((x) => x.id !== t.id)).to.deep.equal(run.tests.filter((x) => x.id !== t.id));
    expect(() => withOutcome(run, 'ethernet/eth2/carrier', 'fail')).to.throw(/has no test ethernet\/eth2\/carrier/);
    expect(() => withStepOutcome(run, 'no such step', { outcome: 'error' })).to.throw(/has no step "no such step"/);
  });
});
