// The disk under the run folder fills mid-run: the run stops as a lab fault (exit 3) with one line naming the disk
// and its free space, results.json stays valid with a final status and every check finished before, and no QEMU
// is left. The disk is a small tmpfs of the test's own (root only: mounting needs it). Filled while the watchdog
// check waits for its reset, when the box writes nothing of its own, so that eve-qual's own write meets the full
// disk first.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { startEveQual } from '../helpers/watched-run.ts';
import { runningProcesses } from '../helpers/procs.ts';

/** Write a file until the file system says no more. */
function fill(dir: string): void {
  const fd = fs.openSync(path.join(dir, 'filler'), 'w');
  const chunk = Buffer.alloc(1 << 20, 0x5a);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).to.equal('ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
}

describe('the run folder\'s disk fills mid-run', function () {
  this.timeout(1_200_000);
  let tmp: string;
  let disk: string;
  before(async function () {
    if (process.getuid?.() !== 0) this.skip(); // mounting a tmpfs needs root (CI runs as root)
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-full-'));
    disk = path.join(tmp, 'disk');
    fs.mkdirSync(disk);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=200m', 'tmpfs', disk]);
  });
  after(async () => {
    if (!disk) return;
    await execa('umount', ['-l', disk], { reject: false });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('too little space before the run: exit 3 naming the space free and needed, no box started', async () => {
    const small = path.join(tmp, 'small');
    fs.mkdirSync(small);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=20m', 'tmpfs', small]);
    try {
      const release = await fixtureRelease();
      const out = path.join(small, 'run');
      const r = await execa(path.join(repoRoot, 'bin', 'eve-qual'), ['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--capability', 'watchdog', '--out', out], { cwd: repoRoot, reject: false, all: true });
      expect(r.exitCode, r.all).to.equal(3);
      expect(r.all).to.match(/not enough free space for the run in .*: \d+\.\d MiB free on the file system of .*small(\/run)?, \d+\.\d MiB needed/);
      expect(r.all).to.not.match(/\n\s+at /);
      expect(fs.existsSync(out), 'nothing made').to.equal(false);
    } finally {
      await execa('umount', ['-l', small], { reject: false });
    }
  });

  it('filled mid-suite: exit 3, one line naming the disk, results.json valid and stopped, the checks before kept', async () => {
    const release = await fixtureRelease();
    const out = path.join(disk, 'run');
    const { child, printed } = startEveQual(['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--capability', 'watchdog', '--out', out]);
    await printed(/\n {2}. watchdog\/timeout/);
    fill(disk);
    const r = await child;
    const all = r.all ?? '';
    expect(r.exitCode, all.slice(-3000)).to.equal(3);
    expect(all).to.match(/Run stopped: disk full: cannot write .*: 0\.\d MiB free of 200\.0 MiB on the file system of .*disk/);
    expect(all, 'no stack trace').to.not.match(/\n\s+at /);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.status).to.equal('stopped');
    expect(res.stopped).to.match(/^disk full: /);
    const byId = new Map(res.tests.map((t) => [t.id, t]));
    expect(byId.get('watchdog/timeout')?.outcome).to.equal('pass');
    expect(res.tests[0]?.outcome, 'the install, finished before').to.equal('pass');
    expect(res.tests.filter((t) => t.outcome === 'fail').map((t) => t.id)).to.deep.equal([]);
    expect(runningProcesses(/^qemu-system/, out), 'qemu left running').to.deep.equal([]);
  });
});
