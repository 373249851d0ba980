// The lock between eve-qual processes sharing a folder (release cache): real flock(2) through util-linux's flock,
// holders in other processes, one of them killed with SIGKILL.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeadlineError } from '../../lib/errors.ts';
import { withTimeout } from '../../lib/util/deadline.ts';
import { lockFile } from '../../lib/util/file-lock.ts';
import { repoRoot } from '../helpers/fixture-release.ts';
import { startPeer } from '../helpers/peer.ts';
import { waitForOutput } from '../helpers/socat.ts';

/** A log callback for lockFile, and its first line (the "waiting for" announcement), bounded by a deadline. */
function announcement(what: string): { log: (line: string) => void; line: Promise<string> } {
  let log!: (line: string) => void;
  const first = new Promise<string>((resolve) => (log = resolve));
  return { log, line: withTimeout(first, 20_000, () => new Error(`timed out after 20 s waiting for ${what}`)) };
}

describe('file lock between eve-qual processes (flock)', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-lock-'));
    file = path.join(dir, '.cache.lock');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Another eve-qual holding the lock: a node process that takes it with lockFile and then just lives. */
  const holder = async () => {
    const script = path.join(dir, 'hold.mts');
    fs.writeFileSync(
      script,
      `import { lockFile } from ${JSON.stringify(path.join(repoRoot, 'lib/util/file-lock.ts'))};\n` +
        `await lockFile(${JSON.stringify(file)}, { purpose: 'fetching a release for the test' });\n` +
        `console.log('held'); setInterval(() => {}, 1 << 30);\n`,
    );
    const peer = startPeer(process.execPath, ['--import', 'tsx', script], { name: 'lock holder', cwd: repoRoot });
    await waitForOutput(peer, /held/, 30_000);
    return peer;
  };

  it('a second taker waits, saying for whom, and gets the lock when the first releases it', async () => {
    const first = await lockFile(file, { purpose: 'the first' });
    const said = announcement("the second taker's wait");
    let got = false;
    const second = lockFile(file, { purpose: 'the second', log: said.log }).then((l) => {
      got = true;
      return l;
    });
    // The wait is announced while the first still holds it; the second cannot have it yet.
    const line = await said.line;
    expect(line).to.match(new RegExp(`^waiting for pid ${process.pid} on .* since .*: the first \\(lock ${file.replace(/[.]/g, '\\.')}\\)$`));
    expect(got).to.equal(false);
    await first.release();
    const l = await second;
    expect(fs.readFileSync(`${file}.owner`, 'utf8')).to.contain(': the second');
    await l.release();
  });

  it('a holder killed with SIGKILL leaves no stale lock', async () => {
    const peer = await holder();
    const said = announcement('the wait for the holder');
    const taking = lockFile(file, { purpose: 'after the crash', log: said.log });
    expect(await said.line).to.contain('fetching a release for the test');
    process.kill(peer.proc.pid!, 'SIGKILL');
    const l = await taking;
    await l.release();
    await peer.stop();
  });

  it('gives up on a holder that never lets go with a DeadlineError naming it, and stops on abort', async () => {
    const peer = await holder();
    try {
      const said: string[] = [];
      const err = await lockFile(file, { purpose: 'impatient', timeoutMs: 700, reportEveryMs: 200, log: (l) => said.push(l) }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(DeadlineError);
      // Told once that it waits, then that it still does, naming the holder each time.
      expect(said[0]).to.match(/^waiting for pid \d+ on .*: fetching a release for the test/);
      expect(said.slice(1).length).to.be.at.least(1);
      for (const l of said.slice(1)) expect(l).to.match(/^still waiting for pid \d+ on .*: fetching a release for the test \(\d+ s\)$/);
      expect((err as Error).message).to.match(/^timed out after 700 ms waiting for the lock .*\.cache\.lock, held by pid \d+ on .*: fetching a release for the test/);
      const ac = new AbortController();
      const aborted = lockFile(file, { purpose: 'aborted', signal: ac.signal }).catch((e: unknown) => e);
      ac.abort(new Error('interrupted'));
      expect(((await aborted) as Error).message).to.equal('interrupted');
    } finally {
      await peer.stop();
    }
  });
});
