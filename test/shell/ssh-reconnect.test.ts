// SshShell reconnecting to a box that rebooted, as seen through QEMU's user-net hostfwd (test/helpers/flaky-forward.ts
// in front of a real sshd): every connection is accepted while the box boots and then closed, the connection that
// was up before the reset stays open and silent, and sshd may go away during or right after a login while it starts.
// Keepalives are the defaults (5 s, 3 misses): the cost of a stale connection is what it is on a real run.
import { expect } from 'chai';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DeadlineError, LabError } from '../../lib/errors.ts';
import { SshShell, type SshShellOptions } from '../../lib/shell/ssh-shell.ts';
import { Deadline, pause, withTimeout } from '../../lib/util/deadline.ts';
import { startFlakyForward, type FlakyForward } from '../helpers/flaky-forward.ts';
import { fingerprintOf, generateKey, startSshd, type Sshd } from '../helpers/sshd.ts';
import { rejection } from '../helpers/rejection.ts';

type Retry = { attempt: number; cause: string; delayMs: number };

describe('SSH reconnect after a reboot, through a port forward that behaves as QEMU hostfwd', function () {
  let sshd: Sshd;
  let fwd: FlakyForward;
  let s: SshShell;
  let retries: Retry[];
  let disconnects: string[];

  const optionsFor = (extra: Partial<SshShellOptions> = {}): SshShellOptions => ({
    host: fwd.host,
    port: fwd.port,
    user: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: { fingerprint: sshd.fingerprint },
    ...extra,
  });

  const shell = (extra: Partial<SshShellOptions> = {}): SshShell => {
    const sh = new SshShell(optionsFor(extra));
    retries = [];
    disconnects = [];
    sh.on('retry', (r) => retries.push(r));
    sh.on('disconnect', (cause) => disconnects.push(cause));
    return sh;
  };

  /** Resolves once `n` retries have been announced. */
  const retried = (n: number): Promise<void> =>
    withTimeout(
      (async () => {
        while (retries.length < n) await once(s, 'retry');
      })(),
      10_000,
      () => new Error(`fewer than ${n} retries within 10 s (${JSON.stringify(retries)})`),
    );

  before(async function () {
    sshd = await startSshd();
  });

  after(async function () {
    await sshd?.stop();
  });

  beforeEach(async function () {
    fwd = await startFlakyForward(sshd);
    s = shell();
  });

  afterEach(async function () {
    await s?.close();
    await fwd?.close();
  });

  it('waitReady() after a reset reconnects at once, though the connection from before is silently dead, and the next command runs', async function () {
    await s.run('true');
    fwd.reset();
    fwd.boot(['close', 'banner']);
    const t0 = Date.now();
    await s.waitReady({ timeout: 20_000 });
    expect((await s.run('echo back', { timeout: 5000 })).stdout).to.equal('back\n');
    // Not after the keepalives (15 s) found the old connection dead: it was not trusted at all.
    expect(Date.now() - t0).to.be.lessThan(5000);
    // Nor did that old connection report a loss: the box was known to have rebooted, it is not "lost".
    expect(disconnects).to.deep.equal([]);
    expect(retries.length).to.be.at.least(2);
  });

  it('retries connections closed at once and after the banner while sshd starts, with growing pauses, until sshd serves', async function () {
    fwd.reset();
    const ready = s.waitReady({ timeout: 20_000 });
    await retried(2);
    fwd.boot(['banner']);
    await ready;
    expect(retries.length).to.be.at.least(3);
    const delays = retries.map((r) => r.delayMs);
    for (let i = 1; i < delays.length; i++) expect(delays[i], `pauses ${delays}`).to.be.greaterThan(delays[i - 1]!);
    for (const r of retries) expect(r.cause).to.include(`${fwd.host}:${fwd.port}`);
    expect((await s.run('echo up')).stdout).to.equal('up\n');
  });

  it('retries a connection closed right after the login (sshd restarted with its sessions), not a failure', async function () {
    let logins = 0;
    s.on('connect', () => {
      if (++logins <= 2) fwd.cutAll();
    });
    await s.waitReady({ timeout: 20_000 });
    expect(logins).to.equal(3);
    expect(retries.map((r) => r.cause).join('\n')).to.include('closed by the box');
    expect((await s.run('echo up')).stdout).to.equal('up\n');
  });

  it('a deadline that runs out while the box stays down names what was awaited, the host:port and the last cause', async function () {
    fwd.reset();
    const t0 = Date.now();
    const err = await rejection(s.waitReady({ timeout: 1500 }));
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.include(`${fwd.host}:${fwd.port}`).and.include('to accept a connection');
    expect(err.message).to.match(/last attempt: .*(closed|lost before handshake)/);
    expect(Date.now() - t0).to.be.within(1400, 2500);
  });

  it('a deadline that runs out while sshd keeps closing right after the login names that as the last cause', async function () {
    s.on('connect', () => fwd.cutAll());
    const t0 = Date.now();
    const err = await rejection(s.waitReady({ timeout: 2000 }));
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.include(`${fwd.host}:${fwd.port}`).and.include('closed by the box');
    expect(Date.now() - t0).to.be.within(1900, 3000);
  });

  it('a key the box refuses fails at once, not retried until the deadline', async function () {
    const other = path.join(sshd.dir, 'unauthorized_ed25519');
    if (!existsSync(other)) await generateKey(other);
    await s.close();
    s = shell({ privateKey: other });
    fwd.reset();
    fwd.boot(['close']);
    const t0 = Date.now();
    const err = await rejection(s.waitReady({ timeout: 20_000 }));
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.include('did not accept the key');
    expect(retries).to.have.length(1); // the connection closed while booting, then the refusal: no more
    expect(Date.now() - t0).to.be.lessThan(5000);
  });

  it('a host key other than the one pinned after the reboot fails at once, not retried until the deadline', async function () {
    await s.run('true');
    const other = path.join(sshd.dir, 'other_host_ed25519');
    if (!existsSync(other)) await generateKey(other);
    s.pinHostKey({ fingerprint: await fingerprintOf(`${other}.pub`) });
    fwd.reset();
    fwd.boot(['close']);
    const t0 = Date.now();
    const err = await rejection(s.waitReady({ timeout: 20_000 }));
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.include('host key mismatch');
    expect(Date.now() - t0).to.be.lessThan(5000);
  });

  it('dropConnection() fails the command running on the dropped connection with the cause given, and the next command reconnects', async function () {
    const started = path.join(sshd.dir, `started-${process.pid}`);
    const running = rejection(s.run(`touch ${started}; sleep 10`, { timeout: 20_000 }));
    const deadline = new Deadline(10_000);
    while (!existsSync(started)) {
      if (deadline.expired()) throw new Error('the command did not start on the box within 10 s');
      await pause(20);
    }
    fwd.reset();
    const t0 = Date.now();
    s.dropConnection('the box was reset (test)');
    const err = await running;
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.include('the box was reset (test)');
    expect(Date.now() - t0).to.be.lessThan(1000);
    expect(disconnects).to.deep.equal([]);
    fwd.boot();
    expect((await s.run('echo back', { timeout: 10_000 })).stdout).to.equal('back\n');
  });
});
