// The console's login and framed runner against real terminals: a real agetty autologin (as EVE runs it) and an
// interactive shell on a pty served over TCP by socat, the way a terminal server or a QEMU chardev delivers a box's
// console.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Console } from '../../lib/console/console.ts';
import { login } from '../../lib/console/login.ts';
import { DeadlineError } from '../../lib/errors.ts';
import { createLink } from '../../lib/link/create-link.ts';
import { ConsoleShell } from '../../lib/shell/console-shell.ts';
import { freePort, waitForListen } from '../helpers/net.ts';
import { startPeer, type Peer } from '../helpers/peer.ts';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

async function serveTerminal(program: string, env: Record<string, string> = {}): Promise<{ port: number; peer: Peer }> {
  const port = await freePort();
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const peer = startPeer('env', [
    ...envArgs,
    'socat',
    `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`,
    `EXEC:${program},pty,setsid,ctty,stderr,sane`,
  ]);
  // socat without fork accepts one connection: wait for the listener without using it up.
  await waitForListen(port, peer);
  return { port, peer };
}


describe('console login and framed commands (real agetty autologin on a pty over TCP)', function () {
  this.timeout(60_000);
  let peer: Peer;
  let con: Console;
  let shell: ConsoleShell;
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-conshell-'));
    const t = await serveTerminal('/sbin/agetty -a root -L - vt100');
    peer = t.peer;
    con = new Console(createLink({ type: 'tcp', host: '127.0.0.1', port: t.port, protocol: 'raw' }), {
      boxName: 'agetty-box',
      logFile: path.join(dir, 'console.log'),
    });
    await con.open();
    await login(con, { timeout: 30_000 });
    shell = new ConsoleShell(con);
  });

  after(async () => {
    await con?.close();
    await peer?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a command and returns its output and exit status', async () => {
    const r = await shell.run('echo hello; echo world');
    expect(r.stdout).to.equal('hello\nworld\n');
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal('');
  });

  it('returns a non-zero exit status without losing the shell', async () => {
    expect((await shell.run('exit 3')).code).to.equal(3);
    expect((await shell.run('false')).code).to.equal(1);
    expect((await shell.run('echo still here')).stdout).to.equal('still here\n');
  });

  it('keeps output that lacks a trailing newline', async () => {
    expect((await shell.run("printf 'no newline'")).stdout).to.equal('no newline');
  });

  it('removes kernel messages that arrive in the middle of output lines', async () => {
    // A background writer on the same tty interleaves printk-style lines with the command's own output.
    const r = await shell.run(
      "printf 'first half '; printf '[   12.345678] usb 1-1: new high-speed USB device number 2 using xhci_hcd\\n' >/dev/tty; printf 'second half\\n'; printf '[  100.000001] random: crng init done\\n' >/dev/tty; echo last",
    );
    expect(r.stdout).to.equal('first half second half\nlast\n');
  });

  it('interrupts a command that overruns its deadline and the next command works', async () => {
    const t0 = Date.now();
    const err = await shell.run('sleep 30', { timeout: 1000 }).catch((e) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.contain('sleep 30');
    expect(Date.now() - t0).to.be.below(8000);
    expect((await shell.run('echo after')).stdout).to.equal('after\n');
  });

  it('moves files both ways with sha256 checks', async () => {
    const local = path.join(dir, 'blob.bin');
    const back = path.join(dir, 'blob.back');
    const data = Buffer.from(Array.from({ length: 20_000 }, (_, i) => (i * 7919) % 256));
    fs.writeFileSync(local, data);
    const remote = path.join(dir, 'remote.bin');
    await shell.put(local, remote);
    expect(fs.readFileSync(remote).equals(data)).to.equal(true);
    await shell.get(remote, back);
    expect(fs.readFileSync(back).equals(data)).to.equal(true);
  });

  it('logs the whole session with timestamps', () => {
    const log = fs.readFileSync(path.join(dir, 'console.log'), 'utf8');
    expect(log).to.contain('(automatic login)');
    expect(log).to.match(/Z \| .*echo hello/);
  });
});

describe('console login with a password prompt (stand-in login script; real interactive shell)', function () {
  this.timeout(60_000);
  let peer: Peer | undefined;
  let con: Console | undefined;
  afterEach(async () => {
    await con?.close();
    await peer?.stop();
  });

  it('answers the login and password prompts, then proves the shell', async () => {
    const t = await serveTerminal(path.join(fixtures, 'password-login.sh'), { EQ_USER: 'qa', EQ_PASSWORD: 's3cret-pw' });
    peer = t.peer;
    con = new Console(createLink({ type: 'tcp', host: '127.0.0.1', port: t.port, protocol: 'raw' }), { boxName: 'pw-box' });
    await con.open();
    await login(con, { user: 'qa', password: 's3cret-pw', timeout: 20_000 });
    expect((await new ConsoleShell(con).run('echo in')).stdout).to.equal('in\n');
  });

  it('gives up at its deadline with the console tail when the password is wrong', async () => {
    const t = await serveTerminal(path.join(fixtures, 'password-login.sh'), { EQ_USER: 'qa', EQ_PASSWORD: 'right' });
    peer = t.peer;
    con = new Console(createLink({ type: 'tcp', host: '127.0.0.1', port: t.port, protocol: 'raw' }), { boxName: 'pw-box' });
    await con.open();
    const err = await login(con, { user: 'qa', password: 'wrong', timeout: 6000 }).catch((e) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.contain('a shell on the console').and.contain('pw-box');
    expect(err.tail.join('\n')).to.contain('Login incorrect');
  });
});
