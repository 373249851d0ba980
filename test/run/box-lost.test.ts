// A box that dies or stops answering mid-suite is seen at once: the check it stopped is an `error` naming the loss
// (never a `fail`: a lost box is no evidence against the hardware), every check not run a `skip` "not run: box
// lost", the run `stopped`, exit 3 within 60 s of a death (90 s of a hang); with --recover 1 the box is power-cycled
// (not reinstalled) and the checks left pass.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

interface LostRun {
  exitCode: number | undefined;
  all: string;
  results: RunResults;
  /** From the harm done to the box to eve-qual's exit, ms. */
  afterHarmMs: number;
}

/** `eve-qual run --capability usb`; once its first usb check has printed, `harm` is done to the box's QEMU. */
async function harmedRun(out: string, harm: (qemuPid: number) => void, extra: string[] = []): Promise<LostRun> {
  const release = await fixtureRelease();
  const args = ['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--capability', 'usb', '--out', out, ...extra];
  const child = execa(path.join(repoRoot, 'bin', 'eve-qual'), args, { cwd: repoRoot, reject: false, all: true, forceKillAfterDelay: false });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the run never printed a usb check:\n${seen.slice(-2000)}`)), 900_000);
    child.all!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (/\n {2}. usb\//.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  const [pid] = runningProcesses(/^qemu-system/, out);
  expect(pid, 'the box QEMU').to.be.a('number');
  const harmedAt = Date.now();
  harm(pid!);
  const r = await child;
  const afterHarmMs = Date.now() - harmedAt;
  return { exitCode: r.exitCode, all: r.all ?? '', afterHarmMs, results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults };
}

function expectLost(r: LostRun, message: RegExp, withinMs: number, out: string): void {
  const { results } = r;
  expect(r.exitCode, r.all.slice(-3000)).to.equal(3);
  expect(r.afterHarmMs, 'from the harm to the exit').to.be.below(withinMs);
  expect(results.status).to.equal('stopped');
  expect(results.stopped).to.match(message);
  expect(results.tests.filter((t) => t.outcome === 'fail').map((t) => `${t.id}: ${t.message}`), 'a lost box fails nothing').to.deep.equal([]);
  const errors = results.tests.filter((t) => t.outcome === 'error');
  expect(errors.map((t) => t.message), 'one check stopped by the loss').to.have.length(1);
  expect(errors[0]!.message).to.match(message);
  const notRun = results.tests.filter((t) => t.outcome === 'skip' && t.reason === 'not-run');
  expect(notRun.length).to.be.greaterThan(0);
  expect(notRun.every((t) => t.message === 'not run: box lost')).to.equal(true);
  expect(r.all).to.match(message);
  expect(runningProcesses(/^qemu-system/, out), 'qemu left running').to.deep.equal([]);
}

describe('a box lost mid-suite', function () {
  this.timeout(1_800_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-lost-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('QEMU killed: exit 3 within 60 s, the running check an error "box lost: QEMU exited on signal SIGKILL", the rest not run', async () => {
    const out = path.join(tmp, 'killed');
    const r = await harmedRun(out, (pid) => process.kill(pid, 'SIGKILL'));
    expectLost(r, /box lost: QEMU exited on signal SIGKILL/, 60_000, out);
  });

  it('QEMU frozen: exit 3 within 90 s, "box stopped answering", the rest not run', async () => {
    const out = path.join(tmp, 'frozen');
    const r = await harmedRun(out, (pid) => process.kill(pid, 'SIGSTOP'));
    expectLost(r, /box stopped answering: SSH .*console silent/, 90_000, out);
  });

  it('with --recover 1: the box power-cycled (not reinstalled), the checks left pass, exit 3 for the loss', async () => {
    const out = path.join(tmp, 'recovered');
    const r = await harmedRun(out, (pid) => process.kill(pid, 'SIGKILL'), ['--recover', '1']);
    const { results } = r;
    expect(r.exitCode, r.all.slice(-3000)).to.equal(3);
    expect(results.status).to.equal('finished');
    expect(results.recoveries).to.equal(1);
    const errors = results.tests.filter((t) => t.outcome === 'error');
    expect(errors.map((t) => t.message)).to.have.length(1);
    expect(errors[0]!.message).to.match(/box lost: QEMU exited on signal SIGKILL/);
    expect(results.tests.filter((t) => t.outcome === 'fail').map((t) => t.id)).to.deep.equal([]);
    expect(results.tests.filter((t) => t.capability === 'usb' && t.outcome === 'pass').length).to.be.greaterThan(2);
    expect(results.steps.filter((s) => /installer/i.test(s.name) && /starts/.test(s.name)), 'installed once').to.have.length(1);
    expect(results.steps.map((s) => s.name)).to.include('recovery 1: power-cycle');
  });
});
