// The run plan's account of a run that ends early, on a real results writer: a box lost between two checks (the
// last recorded, the next not started) lands on the next check, not nowhere.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ResultsWriter, type RunHeader } from '../../lib/report/results-writer.ts';
import { RunPlan, type PlannedCheck } from '../../lib/run/run-plan.ts';
import { goldenRun } from '../golden/golden.ts';

function header(): RunHeader {
  const { schemaVersion: _v, status: _s, steps: _st, tests: _t, end: _e, ...h } = goldenRun('amd64-level2');
  return h;
}

const check = (item: string, c: string): PlannedCheck => ({ id: `usb/${item}/${c}`, capability: 'usb', item, check: c, name: `${item} ${c}` });

describe('run plan: a run stopped by a lab fault', () => {
  let tmp: string;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-plan-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a box lost between two checks: the next check is the error, the rest not run, the run stopped', () => {
    const w = new ResultsWriter(tmp, header());
    const planned = [check('stick0', 'enumerates'), check('stick0', 'speed'), check('stick0', 'size')];
    const plan = new RunPlan(w, planned);
    plan.start(planned[0]!.id);
    plan.record({ ...planned[0]!, outcome: 'pass', start: new Date().toISOString(), durationMs: 5, attempts: [], attachments: [], facts: { port: '2-1' } });
    plan.stop({ message: 'box lost: QEMU exited on signal SIGKILL', short: 'box lost', since: Date.now() });
    const r = w.results;
    expect(r.status).to.equal('stopped');
    expect(r.tests.map((t) => [t.id, t.outcome, t.message ?? ''])).to.deep.equal([
      ['usb/stick0/enumerates', 'pass', ''],
      ['usb/stick0/speed', 'error', 'box lost: QEMU exited on signal SIGKILL'],
      ['usb/stick0/size', 'skip', 'not run: box lost'],
    ]);
  });
});
