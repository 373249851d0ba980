// ProcessLink with real processes: stdio both ways, stderr merged, restart after an unexpected exit, a process that
// keeps dying, and close() killing the whole process group.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import { Deadline, pause } from '../../lib/util/deadline.ts';
import type { LinkGap } from '../../lib/link/link.ts';
import { LinkLostError } from '../../lib/link/reconnecting-link.ts';
import { ProcessLink } from '../../lib/link/process-link.ts';
import { ByteCollector, waitForEvent } from '../helpers/socat.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A pid is gone when /proc has no entry for it or it is a zombie (dead, waiting for a parent to reap it). */
async function isGone(pid: number): Promise<boolean> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return s === undefined || / Z /.test(s.slice(s.lastIndexOf(')')));
}

async function waitGone(pid: number, timeoutMs = 5000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  for (let delay = 5; !(await isGone(pid)); delay = Math.min(delay * 2, 100)) {
    if (deadline.expired()) throw new Error(`pid ${pid} still alive after ${timeoutMs} ms`);
    await pause(delay);
  }
}

describe('ProcessLink (real child processes)', function () {
  let link: ProcessLink | undefined;

  afterEach(async () => {
    await link?.close();
    link = undefined;
  });

  it('carries bytes through cat both ways, 1 MiB intact', async () => {
    link = new ProcessLink({ command: ['cat'] });
    expect(link.name).to.equal('process:cat');
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    await link.write('hello\n');
    await got.untilText('hello\n');
    got.clear();
    const data = randomBytes(1 << 20);
    await Promise.all([link.write(data), got.untilLength(data.length, 30_000)]);
    expect(got.length).to.equal(data.length);
    expect(sha(got.bytes())).to.equal(sha(data));
  });

  it('merges stderr into the data by default, drops it with stderr: ignore', async () => {
    const command = ['sh', '-c', 'echo to-stdout; echo to-stderr >&2; exec cat'];
    link = new ProcessLink({ command });
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    await got.until(() => got.text().includes('to-stdout\n') && got.text().includes('to-stderr\n'), 'both streams');
    await link.close();

    link = new ProcessLink({ command, stderr: 'ignore' });
    const only = new ByteCollector();
    link.on('data', only.push);
    await link.open();
    await only.untilText('to-stdout\n');
    // cat echoes this only after sh has printed both lines: anything from stderr would have arrived before it.
    await link.write('marker\n');
    await only.untilText('marker\n');
    expect(only.text()).to.equal('to-stdout\nmarker\n');
  });

  it('restarts the process when it exits unexpectedly, reporting the gap', async () => {
    link = new ProcessLink({ command: ['sh', '-c', 'echo "started $$"; read line; echo "bye $line"; exit 3'] });
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    await got.until(() => /started \d+\n/.test(got.text()), 'the first start');
    const first = Number(/started (\d+)/.exec(got.text())![1]);

    const disconnected = waitForEvent<[string]>(link, 'disconnect');
    const reconnected = waitForEvent<[LinkGap]>(link, 'reconnect');
    await link.write('now\n');
    const [cause] = await disconnected;
    expect(cause).to.equal('process exited with code 3');
    const [gap] = await reconnected;
    expect(gap).to.include({ cause, recovered: true });
    await got.until(() => /started \d+\n[^]*started \d+\n/.test(got.text()), 'the second start');
    const starts = [...got.text().matchAll(/started (\d+)/g)].map((m) => Number(m[1]));
    expect(starts).to.have.length(2);
    expect(starts[1]).not.to.equal(first);
    // What the first process printed on its way out was not lost.
    expect(got.text()).to.match(/^started \d+\nbye now\nstarted \d+\n$/);
    await waitGone(first);
  });

  it('closes for good when the process keeps dying at once (no endless restarts)', async () => {
    link = new ProcessLink({ command: ['sh', '-c', 'echo crash; exit 1'], reconnectDeadlineMs: 800 });
    let restarts = 0;
    link.on('reconnect', () => restarts++);
    const closed = waitForEvent<[Error | undefined]>(link, 'close', 10_000);
    const t0 = Date.now();
    await link.open();
    const [err] = await closed;
    expect(Date.now() - t0).to.be.below(5000);
    expect(err).to.be.instanceOf(LinkLostError);
    expect(err!.message).to.include('process:sh').and.include('process exited with code 1');
    expect(restarts, 'it did try to restart').to.be.at.least(1);
    expect(link.state).to.equal('closed');
  });

  it('the process dies with eve-qual even when eve-qual is killed with SIGKILL', async () => {
    // A child eve-qual opens the link and is then killed outright: no exit hook runs, only the kernel's pdeathsig.
    const module = new URL('../../lib/link/process-link.ts', import.meta.url).href;
    const script = `
      import { ProcessLink } from ${JSON.stringify(module)};
      const link = new ProcessLink({ command: ['sh', '-c', 'echo "pid $$"; exec sleep 3600'] });
      link.on('data', (d) => process.stdout.write(d));
      await link.open();`;
    const parent = execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { reject: false, buffer: false });
    const out = new ByteCollector();
    parent.stdout!.on('data', out.push);
    try {
      await out.until(() => /pid \d+\n/.test(out.text()), 'the pid of the link process', 20_000);
    } finally {
      parent.kill('SIGKILL');
    }
    await parent;
    await waitGone(Number(/pid (\d+)/.exec(out.text())![1]));
  });

  it('close() kills the process and everything it started', async () => {
    link = new ProcessLink({ command: ['sh', '-c', 'sleep 3600 & echo "child $!"; echo "leader $$"; wait'] });
    const got = new ByteCollector();
    link.on('data', got.push);
    let disconnects = 0;
    link.on('disconnect', () => disconnects++);
    await link.open();
    await got.until(() => /child \d+\nleader \d+\n/.test(got.text()), 'the pids');
    const child = Number(/child (\d+)/.exec(got.text())![1]);
    const leader = Number(/leader (\d+)/.exec(got.text())![1]);
    expect(await isGone(child)).to.equal(false);
    await link.close();
    expect(await isGone(leader), 'leader gone when close() resolves').to.equal(true);
    await waitGone(child);
    expect(disconnects, 'a requested close is not a disconnect').to.equal(0);
  });
});
