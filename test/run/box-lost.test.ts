// A box that dies or stops answering mid-suite is seen at once: the check it stopped is an `error` naming the loss
// (never a `fail`: a lost box is no evidence against the hardware), every check not run a `skip` "not run: box
// lost", the run `stopped`, exit 3. One run with --recover 1 (one install, CI time): QEMU frozen during the ethernet
// checks is told within 90 s and recovered (power-cycled, not reinstalled), the ethernet checks left pass; QEMU
// killed during the usb checks then ends the run within 60 s, the recovery used up.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { fixtureRelease } from '../helpers/fixture-release.ts';
import { startEveQual } from '../helpers/watched-run.ts';
import { runningProcesses } from '../helpers/procs.ts';

function qemuOf(out: string): number {
  const [pid] = runningProcesses(/^qemu-system/, out);
  expect(pid, 'the box QEMU').to.be.a('number');
  return pid!;
}

describe('a box lost mid-suite', function () {
  this.timeout(1_800_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-lost-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('frozen: told within 90 s and recovered with the checks left passing; killed: the run stopped within 60 s, nothing failed', async () => {
    const release = await fixtureRelease();
    const out = path.join(tmp, 'run');
    const args = ['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--level', '1', '--recover', '1', '--out', out];
    const { child, printed } = startEveQual(args);
    await printed(/\n {2}. ethernet\//);
    const frozenAt = Date.now();
    const frozen = qemuOf(out);
    process.kill(frozen, 'SIGSTOP');
    const toldAt = await printed(/\n! box stopped answering: SSH .*console silent for \d+ s/);
    expect(toldAt - frozenAt, 'from the freeze to the hang told').to.be.below(90_000);
    await printed(/▶ recovery 1 of 1/);
    await printed(/\n {2}. usb\//);
    const killedAt = Date.now();
    process.kill(qemuOf(out), 'SIGKILL');
    const r = await child;
    const all = r.all ?? '';
    expect(Date.now() - killedAt, 'from the kill to the exit').to.be.below(60_000);
    expect(r.exitCode, all.slice(-3000)).to.equal(3);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.status).to.equal('stopped');
    expect(res.stopped).to.match(/^box lost: QEMU exited on signal SIGKILL/);
    expect(res.recoveries).to.equal(1);
    expect(res.tests.filter((t) => t.outcome === 'fail').map((t) => `${t.id}: ${t.message}`), 'a lost box fails nothing').to.deep.equal([]);
    const errors = res.tests.filter((t) => t.outcome === 'error').map((t) => t.message ?? '');
    expect(errors, 'one check stopped by each loss').to.have.length(2);
    expect(errors[0]).to.match(/^box stopped answering: SSH /);
    expect(errors[1]).to.match(/^box lost: QEMU exited on signal SIGKILL/);
    expect(res.tests.filter((t) => t.capability === 'ethernet' && t.outcome === 'pass').length, 'ethernet checks after the recovery').to.be.greaterThan(2);
    const notRun = res.tests.filter((t) => t.outcome === 'skip' && t.reason === 'not-run');
    expect(notRun.length).to.be.greaterThan(0);
    expect(notRun.every((t) => t.message === 'not run: box lost')).to.equal(true);
    const steps = res.steps.map((s) => s.name);
    expect(steps).to.include('recovery 1: power-cycle');
    expect(steps.filter((n) => n === steps[0]), 'installed once').to.have.length(1);
    expect(all).to.match(/Run stopped: box lost: QEMU exited on signal SIGKILL/);
    expect(runningProcesses(/^qemu-system/, out), 'qemu left running').to.deep.equal([]);
  });
});
