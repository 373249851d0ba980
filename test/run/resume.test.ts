// A run killed mid-suite (SIGKILL: nothing of eve-qual runs to clean up) is finished by `run --resume`: the same
// check ids as an uninterrupted run, each once, the earlier results unchanged, the install not redone, exit 0 on the
// healthy box; a resumed run whose box is lost stops like any run, and `--resume --rerun error` then runs the check
// the loss stopped again, keeping the lost attempt. One install, then the virtual box's installed disk booted again.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProfile } from '../../lib/profile/load.ts';
import { loadProgram } from '../../lib/program/program.ts';
import type { RunResults } from '../../lib/report/results.ts';
import { plannedOf, suitesFor } from '../../lib/run/qualify-run.ts';
import { ALL_SUITES } from '../../suites/index.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { startEveQual } from '../helpers/watched-run.ts';
import { runningProcesses } from '../helpers/procs.ts';

const PROFILE = 'hardware-profiles/qemu-amd64.yaml';

const read = (out: string) => JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;

/** Until no QEMU of the run is left (a killed eve-qual's children go with it), at most 10 s. */
async function noQemu(out: string): Promise<void> {
  for (const until = Date.now() + 10_000; runningProcesses(/^qemu-system/, out).length; ) {
    if (Date.now() > until) throw new Error(`QEMU of ${out} still running 10 s after eve-qual was killed`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('run --resume', function () {
  this.timeout(2_400_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-resume-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('finishes a run killed mid-suite, without reinstalling; a loss in the resumed run is re-run with --rerun error', async () => {
    const release = await fixtureRelease();
    const out = path.join(tmp, 'run');
    const first = startEveQual(['run', '--profile', PROFILE, '--release', release, '--capability', 'usb', '--out', out]);
    await first.printed(/\n {2}. usb\/stick0\/enumerates/);
    first.child.kill('SIGKILL');
    await first.child;
    await noQemu(out);
    const killed = read(out);
    expect(killed.status, 'a killed run is left running').to.equal('running');
    const kept = killed.tests.filter((t) => t.capability !== 'install');

    const second = startEveQual(['run', '--resume', out]);
    await second.printed(/\n {2}. usb\/stick0\//);
    process.kill(runningProcesses(/^qemu-system/, out)[0]!, 'SIGKILL');
    const lost = await second.child;
    expect(lost.exitCode, lost.all.slice(-3000)).to.equal(3);
    const stopped = read(out);
    expect(stopped.status).to.equal('stopped');
    const lostCheck = stopped.tests.find((t) => t.outcome === 'error')!;
    expect(lostCheck.message).to.match(/^box lost: QEMU exited/);

    const third = startEveQual(['run', '--resume', out, '--rerun', 'error']);
    const done = await third.child;
    expect(done.exitCode, done.all.slice(-3000)).to.equal(0);
    const res = read(out);
    expect(res.status).to.equal('finished');
    expect(res.resumed?.map((r) => r.from)).to.deep.equal(['running', 'stopped']);
    const modules = suitesFor(ALL_SUITES, { program: loadProgram(), capability: 'usb' });
    const planned = plannedOf(loadProfile(path.join(repoRoot, PROFILE)).profile, modules, false).map((c) => c.id);
    expect(res.tests.map((t) => t.id), 'the ids of an uninterrupted run, each once').to.deep.equal(planned);
    for (const t of kept) expect(res.tests.find((x) => x.id === t.id), `${t.id} unchanged`).to.deep.equal(t);
    const again = res.tests.find((t) => t.id === lostCheck.id)!;
    expect(again.outcome).to.equal('pass');
    expect(again.attempts.map((a) => a.outcome)).to.deep.equal(['error']);
    expect(again.attempts[0]!.message).to.match(/^box lost/);
    expect(res.tests.every((t) => t.outcome === 'pass'), 'the healthy box passes').to.equal(true);
    expect(res.steps.filter((s) => s.name === 'installer starts'), 'installed once').to.have.length(1);
    expect(res.steps.filter((s) => s.name === 'a new run key on the installed disk')).to.have.length(2);
    expect(fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8'), 'the console log appended to').to.match(/installer[\s\S]*power on[\s\S]*power on/);
  });
});
