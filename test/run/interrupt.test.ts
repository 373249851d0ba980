// Ctrl-C in the middle of `eve-qual run`: exit 130, every finished result kept in results.json (status
// interrupted), junit.xml still valid XML, and no qemu or swtpm left.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

describe('Ctrl-C during eve-qual run', function () {
  this.timeout(1_200_000);
  let out: string;
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('keeps every finished result, marks the run interrupted, and leaves no qemu or swtpm', async () => {
    const release = await fixtureRelease();
    out = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-interrupt-'));
    const child = execa(path.join(repoRoot, 'bin', 'eve-qual'), ['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--out', out], {
      cwd: repoRoot,
      reject: false,
      all: true,
      // Let eve-qual clean up at its own pace; the test measures that it ends by itself.
      forceKillAfterDelay: false,
    });
    // Interrupt once the suites have produced their first result.
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the run never reached the suites')), 900_000);
      child.all!.on('data', (d: Buffer) => {
        if (/✔ ethernet\/eth0\/present/.test(d.toString())) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    expect(runningProcesses(/^qemu-system/, out).length).to.equal(1);
    child.kill('SIGINT');
    const r = await child;
    expect(r.exitCode, `signal ${r.signal}\n${r.all}`).to.equal(130);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.status).to.equal('interrupted');
    const ids = res.tests.map((t) => t.id);
    expect(ids).to.include('install/installer-completes');
    expect(ids).to.include('ethernet/eth0/present');
    expect(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8')).to.match(/<\/testsuites>\s*$/);
    expect(runningProcesses(/^qemu-system/, out), 'qemu left running').to.deep.equal([]);
    expect(runningProcesses(/^swtpm/, out), 'swtpm left running').to.deep.equal([]);
  });
});
