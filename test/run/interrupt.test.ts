// Ctrl-C in the middle of `eve-qual run`, told true: exit 130, status interrupted, the check that was running an
// `error` "interrupted by SIGINT" (the box our cleanup killed is no evidence against it), every check not started
// a `skip` "not run: interrupted", every finished result kept, junit.xml valid XML, and no qemu or swtpm left.
// Once mid-suite and once mid-install (SIGINT), once during the firmware boot (SIGTERM, exit 143).
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

/** Start `eve-qual run`, send `signal` once its output matches `when`, and return what it left. */
async function interruptedRun(out: string, when: RegExp, signal: 'SIGINT' | 'SIGTERM' = 'SIGINT'): Promise<{ exitCode: number | undefined; all: string; results: RunResults }> {
  const release = await fixtureRelease();
  const child = execa(path.join(repoRoot, 'bin', 'eve-qual'), ['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--out', out], {
    cwd: repoRoot,
    reject: false,
    all: true,
    // Let eve-qual clean up at its own pace; the test measures that it ends by itself.
    forceKillAfterDelay: false,
  });
  let seen = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the run never printed ${when}:\n${seen.slice(-2000)}`)), 900_000);
    child.all!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (when.test(seen)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  expect(runningProcesses(/^qemu-system/, out).length).to.equal(1);
  child.kill(signal);
  const r = await child;
  return { exitCode: r.exitCode, all: r.all ?? '', results: JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults };
}

function expectToldTrue(res: RunResults, out: string, signal = 'SIGINT'): void {
  expect(res.status).to.equal('interrupted');
  expect(res.tests.filter((t) => t.outcome === 'fail').map((t) => t.id), 'an interruption fails nothing').to.deep.equal([]);
  const errors = res.tests.filter((t) => t.outcome === 'error');
  expect(errors.map((t) => t.message)).to.deep.equal([`interrupted by ${signal}`]);
  const notRun = res.tests.filter((t) => t.outcome === 'skip' && t.reason === 'not-run');
  expect(notRun.length).to.be.greaterThan(3);
  expect(notRun.every((t) => t.message === 'not run: interrupted')).to.equal(true);
  expect(res.tests.map((t) => t.id)).to.include.members(['watchdog/resets', 'usb/stick0/stores-data']);
  expect(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8')).to.match(/<\/testsuites>\s*$/);
  expect(runningProcesses(/^qemu-system/, out), 'qemu left running').to.deep.equal([]);
  expect(runningProcesses(/^swtpm/, out), 'swtpm left running').to.deep.equal([]);
}

describe('Ctrl-C or SIGTERM during eve-qual run', function () {
  this.timeout(1_800_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-interrupt-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('mid-suite: finished results kept, the running check an error, the rest not run, the run interrupted', async () => {
    const out = path.join(tmp, 'suite');
    const r = await interruptedRun(out, /✔ ethernet\/eth0\/present/);
    expect(r.exitCode, r.all).to.equal(130);
    expectToldTrue(r.results, out);
    const byId = new Map(r.results.tests.map((t) => [t.id, t]));
    expect(byId.get('install/installer-completes')!.outcome).to.equal('pass');
    expect(byId.get('ethernet/eth0/present')!.outcome).to.equal('pass');
  });

  it('SIGTERM during the firmware boot: exit 143, the install check an error "interrupted by SIGTERM", the rest not run', async () => {
    const out = path.join(tmp, 'firmware');
    const r = await interruptedRun(out, /✔ power on into the installer/, 'SIGTERM');
    expect(r.exitCode, r.all).to.equal(143);
    expectToldTrue(r.results, out, 'SIGTERM');
    expect(r.results.tests.find((t) => t.id === 'install/installer-completes')!.outcome).to.equal('error');
  });

  it('mid-install: the install check an error "interrupted by SIGINT" (not a failure, not console.device), the rest not run', async () => {
    const out = path.join(tmp, 'install');
    const r = await interruptedRun(out, /✔ installer starts/);
    expect(r.exitCode, r.all).to.equal(130);
    expectToldTrue(r.results, out);
    const install = r.results.tests.find((t) => t.id === 'install/installer-completes')!;
    expect(install.outcome).to.equal('error');
    expect(install.message).to.not.match(/console\.device/);
  });
});
