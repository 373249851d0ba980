// SshShell against OpenSSH's real sshd on loopback (test/helpers/sshd.ts). The "box" is this machine, so the tests
// can look at the box's side (files, processes) directly.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DeadlineError, LabError } from '../../lib/errors.ts';
import { Deadline, pause, withTimeout } from '../../lib/util/deadline.ts';
import { SshShell, type SshShellOptions } from '../../lib/shell/ssh-shell.ts';
import { parsePublicKeys } from '../../lib/shell/host-key.ts';
import { frame, MarkedStream, parseSetup, setupScript, SHELL_COMMAND, splitStatus, type Framed } from '../../lib/shell/ssh-framing.ts';
import { freePort } from '../helpers/net.ts';
import { generateKey, startSshd, type Sshd } from '../helpers/sshd.ts';
import { rejection } from '../helpers/rejection.ts';

function optionsFor(sshd: Sshd, extra: Partial<SshShellOptions> = {}): SshShellOptions {
  return {
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: { fingerprint: sshd.fingerprint },
    ...extra,
  };
}

/** Poll a condition with backoff until it holds or the deadline passes. */
async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  let delay = 10;
  while (!(await cond())) {
    if (deadline.expired()) throw new Error(`timed out waiting for ${what}`);
    await pause(delay);
    delay = Math.min(delay * 2, 200);
  }
}

function nextEvent<T extends unknown[]>(emitter: SshShell, name: 'connect' | 'disconnect' | 'retry', ms = 10_000): Promise<T> {
  return withTimeout(once(emitter, name) as Promise<T>, ms, () => new Error(`no '${name}' event within ${ms} ms`));
}

/** Feed `stream` to a fresh reply in pieces cut at `cut` and then every `width` bytes; true once it completes. */
function feed(framed: Framed, stream: Buffer, cut: number, width: number, isStderr = false): boolean {
  let done = false;
  const parts = [stream.subarray(0, cut)];
  for (let i = cut; i < stream.length; i += width) parts.push(stream.subarray(i, i + width));
  for (const p of parts) done = framed.reply.push(p, isStderr) || done;
  return done;
}

/**
 * The box's side of the persistent shell without SSH: SHELL_COMMAND run by a local sh, fed framed lines. Node gives
 * the child sockets, not pipes, for stdio, so the shell reads its script on stdin (Framing.stdin 'script'). `env`
 * reaches the shell, so a test can take its temp dir away or choose what `sh` is.
 */
function localShell(env: NodeJS.ProcessEnv = process.env) {
  const sh = spawn('sh', ['-c', SHELL_COMMAND], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let current: Framed | undefined;
  let settle: (() => void) | undefined;
  const onData = (isStderr: boolean) => (d: Buffer) => {
    if (current?.reply.push(d, isStderr)) settle?.();
  };
  sh.stdout.on('data', onData(false));
  sh.stderr.on('data', onData(true));
  const send = (f: Framed) =>
    withTimeout(
      new Promise<void>((resolve) => {
        current = f;
        settle = resolve;
        sh.stdin.write(f.script);
      }),
      5000,
      () => new Error(`no reply to ${f.script}`),
    ).then(() => f.reply.result());
  return {
    setup: async () => parseSetup((await send(setupScript([]))).stdout)?.framing,
    send,
    close: () => sh.kill(),
  };
}

describe('SSH shell framing', function () {
  it('finds the marker wherever chunk boundaries fall, and keeps the bytes before it exactly', function () {
    const { marker } = frame('true');
    const stream = Buffer.concat([Buffer.from('abc\n\u00e9'), Buffer.from('042'), marker, Buffer.from('late')]);
    for (let cut1 = 0; cut1 <= stream.length; cut1++) {
      for (const width of [1, 3, 7, 40]) {
        const m = new MarkedStream(marker);
        const parts = [stream.subarray(0, cut1)];
        for (let i = cut1; i < stream.length; i += width) parts.push(stream.subarray(i, i + width));
        let seen = false;
        for (const p of parts) seen = m.push(p);
        expect(seen, `cut ${cut1}/${width}`).to.equal(true);
        const { out, code } = splitStatus(m.bytes());
        expect(out.toString(), `cut ${cut1}/${width}`).to.equal('abc\n\u00e9');
        expect(code).to.equal(42);
      }
    }
  });

  it('never puts the whole marker in the script the box reads', function () {
    for (const stderr of ['file', 'pipe'] as const) {
      const f = frame("echo 'it''s'", { stderr, stdin: 'null' });
      expect(f.script, stderr).to.not.include(f.marker.toString());
    }
    // Commands get /dev/null on stdin: for good from the start, or else per command.
    expect(SHELL_COMMAND).to.include('</dev/null');
    expect(frame('true', { stderr: 'file', stdin: 'script' }).script).to.include('</dev/null');
  });

  it('reads a reply with stderr relayed on stdout (status, flag, stderr) wherever chunk boundaries fall', function () {
    const { marker } = frame('true');
    const withErr = (flag: string) => (m: Buffer) =>
      Buffer.concat([Buffer.from('out\n\u00e9'), Buffer.from(`042${flag}`), m, Buffer.from('err\n\u00e9'), m, Buffer.from('late')]);
    const noErr = (flag: string) => (m: Buffer) => Buffer.concat([Buffer.from('out'), Buffer.from(`007${flag}`), m, Buffer.from('late')]);
    for (const [stream, want] of [
      [withErr('E'), { stdout: 'out\n\u00e9', stderr: 'err\n\u00e9', code: 42, ends: false }],
      [noErr('-'), { stdout: 'out', stderr: '', code: 7, ends: false }],
      // From the EXIT trap: the shell is ending.
      [withErr('X'), { stdout: 'out\n\u00e9', stderr: 'err\n\u00e9', code: 42, ends: true }],
      [noErr('x'), { stdout: 'out', stderr: '', code: 7, ends: true }],
    ] as const) {
      for (let cut = 0; cut <= stream(marker).length; cut++) {
        for (const width of [1, 5, 40]) {
          const f = frame('true');
          expect(feed(f, stream(f.marker), cut, width), `cut ${cut}/${width}`).to.equal(true);
          const r = f.reply.result();
          const got = { stdout: r.stdout.toString(), stderr: r.stderr.toString(), code: r.code, ends: f.reply.shellEnds };
          expect(got, `cut ${cut}/${width}`).to.deep.equal(want);
        }
      }
    }
  });

  it('waits for the markers on both streams in the fallback framing', function () {
    const f = frame('true', { stderr: 'pipe', stdin: 'null' });
    expect(f.reply.push(Buffer.concat([Buffer.from('out000'), f.marker]), false)).to.equal(false);
    expect(f.reply.push(Buffer.concat([Buffer.from('err'), f.marker]), true)).to.equal(true);
    const r = f.reply.result();
    expect([r.stdout.toString(), r.stderr.toString(), r.code]).to.deep.equal(['out', 'err', 0]);
  });

  it('frames commands the same whichever shell is sh: dash, bash, busybox ash', async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eve-qual-sh-'));
    try {
      for (const shell of ['/bin/dash', '/bin/bash', '/bin/busybox'].filter((p) => existsSync(p))) {
        await rm(path.join(dir, 'sh'), { force: true });
        await symlink(shell, path.join(dir, 'sh'));
        const sh = localShell({ ...process.env, PATH: `${dir}:${process.env.PATH}` });
        try {
          const framing = await sh.setup();
          expect(framing?.stderr, shell).to.equal('file');
          const pid = (await sh.send(frame('echo $$', framing))).stdout.toString();
          // bash, after a syntax error in eval, fails to parse a next line that starts with `{`.
          const bad = await sh.send(frame("echo 'unbalanced", framing));
          expect(bad.code, shell).to.equal(2);
          expect(bad.stderr.toString(), shell).to.not.equal('');
          const r = await sh.send(frame('echo $$; echo err >&2', framing));
          expect([r.stdout.toString(), r.stderr.toString(), r.code], shell).to.deep.equal([pid, 'err\n', 0]);
        } finally {
          sh.close();
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('sets up a local sh, falling back to stderr on the channel without a usable temp dir', async function () {
    for (const [env, stderr] of [
      [process.env, 'file'],
      [{ ...process.env, TMPDIR: '/nonexistent/eve-qual' }, 'pipe'],
    ] as const) {
      const sh = localShell(env);
      try {
        const framing = await sh.setup();
        expect(framing).to.deep.equal({ stderr, stdin: 'script' });
        const r = await sh.send(frame('echo out; echo err >&2; cat; (exit 3)', framing));
        expect([r.stdout.toString(), r.stderr.toString(), r.code], stderr).to.deep.equal(['out\n', 'err\n', 3]);
        const quiet = await sh.send(frame('printf x', framing));
        expect([quiet.stdout.toString(), quiet.stderr.toString(), quiet.code], stderr).to.deep.equal(['x', '', 0]);
      } finally {
        sh.close();
      }
    }
  });
});

describe('SshShell over OpenSSH sshd', function () {
  let sshd: Sshd;
  let shell: SshShell;
  const extraShells: SshShell[] = [];
  const track = (s: SshShell) => {
    extraShells.push(s);
    return s;
  };

  before(async function () {
    sshd = await startSshd();
    shell = new SshShell(optionsFor(sshd));
  });

  after(async function () {
    await Promise.all([shell?.close(), ...extraShells.map((s) => s.close())]);
    await sshd?.stop();
  });

  describe('commands on the persistent shell', function () {
    it('keeps stdout, stderr and the exit status apart', async function () {
      const r = await shell.run('echo out; echo err >&2; echo more; (exit 3)');
      expect(r.stdout).to.equal('out\nmore\n');
      expect(r.stderr).to.equal('err\n');
      expect(r.code).to.equal(3);
      expect(r.durationMs).to.be.a('number').and.be.greaterThan(0);
      expect(shell.where).to.equal(`ssh:${sshd.user}@${sshd.host}:${sshd.port}`);
    });

    it('keeps output byte-exact: no trailing newline added or removed', async function () {
      expect((await shell.run('printf abc')).stdout).to.equal('abc');
      expect((await shell.run("printf 'a\\n\\n'")).stdout).to.equal('a\n\n');
      expect((await shell.run("printf 'x' >&2")).stderr).to.equal('x');
      const empty = await shell.run('true');
      expect([empty.stdout, empty.stderr, empty.code]).to.deep.equal(['', '', 0]);
    });

    it('passes binary output and multi-byte text split across packets intact', async function () {
      const small = await shell.run("printf '\\000\\001\\377\\376abc'");
      expect(small.stdoutBytes).to.deep.equal(Buffer.from([0, 1, 0xff, 0xfe, 0x61, 0x62, 0x63]));

      const file = path.join(sshd.dir, 'random.bin');
      const sum = await shell.run(`head -c 300000 /dev/urandom > ${file} && sha256sum ${file}`);
      expect(sum.code).to.equal(0);
      const cat = await shell.run(`cat ${file}`);
      expect(cat.stdoutBytes.length).to.equal(300_000);
      expect(cat.stdoutBytes).to.deep.equal(await readFile(file));

      const text = await shell.run("yes 'é' | head -n 100000 | tr -d '\\n'");
      expect(text.stdout).to.equal('é'.repeat(100_000));
    });

    it('runs many commands in a row, and concurrent callers one at a time', async function () {
      for (let i = 0; i < 300; i++) {
        const r = await shell.run(`echo ${i}`);
        expect(r.stdout).to.equal(`${i}\n`);
      }
      const all = await Promise.all(Array.from({ length: 50 }, (_, i) => shell.run(`echo ${i}; echo e${i} >&2`)));
      all.forEach((r, i) => {
        expect(r.stdout).to.equal(`${i}\n`);
        expect(r.stderr).to.equal(`e${i}\n`);
      });
    });

    it('gives each command an empty stdin, so it cannot eat the commands queued behind it', async function () {
      const [a, b] = await Promise.all([shell.run('cat; read x; echo "[$x]"'), shell.run('echo next')]);
      expect(a.stdout).to.equal('[]\n');
      expect(b.stdout).to.equal('next\n');
    });

    it('keeps a syntax error inside its command', async function () {
      const r = await shell.run("echo 'unbalanced");
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.not.equal('');
      expect((await shell.run('echo fine')).stdout).to.equal('fine\n');
    });

    it('keeps the same shell across a syntax error', async function () {
      const before = (await shell.run('echo $$')).stdout;
      expect((await shell.run('echo "unbalanced')).code).to.equal(2);
      expect((await shell.run('echo $$')).stdout).to.equal(before);
    });

    it('keeps stderr in a file of its own on the box, and the channel out of reach of commands', async function () {
      // The fast setup is in use, not a fallback: the shell's stderr is an unlinked temp file, its stdin /dev/null.
      const fds = await shell.run('readlink /proc/$$/fd/2 /proc/$$/fd/0');
      expect(fds.stdout).to.match(/ \(deleted\)\n\/dev\/null\n$/);
      // fd 3, through which the shell reads its script, is closed before any command runs.
      const [a, b] = await Promise.all([shell.run('cat <&3; echo "[$?]"', { timeout: 5000 }), shell.run('echo next')]);
      expect(a.stdout).to.equal('[2]\n');
      expect(b.stdout).to.equal('next\n');
    });

    it('passes on large and binary stderr exactly', async function () {
      const file = path.join(sshd.dir, 'random-err.bin');
      await writeFile(file, randomBytes(200_000));
      const r = await shell.run(`printf out; cat ${file} >&2; printf '\\000' >&2`);
      expect(r.stdout).to.equal('out');
      expect(r.stderrBytes).to.deep.equal(Buffer.concat([await readFile(file), Buffer.from([0])]));
      const next = await shell.run('true');
      expect([next.stdout, next.stderr, next.code]).to.deep.equal(['', '', 0]);
    });

    it('reports what a command wrote to stderr before `exit`', async function () {
      const r = await shell.run('echo bye; echo gone >&2; exit 5');
      expect([r.stdout, r.stderr, r.code]).to.deep.equal(['bye\n', 'gone\n', 5]);
      expect((await shell.run('echo again')).stdout).to.equal('again\n');
    });

    it('runs a command queued behind `exit` in a fresh shell', async function () {
      const pid = (await shell.run('echo $$')).stdout;
      const [bye, next] = await Promise.all([shell.run('exit 4'), shell.run('echo $$; echo e >&2')]);
      expect(bye.code).to.equal(4);
      expect([next.stderr, next.code]).to.deep.equal(['e\n', 0]);
      expect(next.stdout).to.match(/^\d+\n$/).and.not.equal(pid);
    });

    it('still reports stderr after a command emptied PATH', async function () {
      const s = track(new SshShell(optionsFor(sshd)));
      await s.run('PATH=/nonexistent');
      const r = await s.run('echo err >&2; echo out');
      expect([r.stdout, r.stderr, r.code]).to.deep.equal(['out\n', 'err\n', 0]);
    });

    it('leaves a file a command bound to stderr alone', async function () {
      const s = track(new SshShell(optionsFor(sshd)));
      const log = path.join(sshd.dir, 'stderr.log');
      await s.run(`exec 2>>${log}`);
      expect((await s.run('echo one >&2')).stderr).to.equal('');
      expect((await s.run('echo two >&2; echo out')).stdout).to.equal('out\n');
      expect(await readFile(log, 'utf8')).to.equal('one\ntwo\n');
    });

    it('reports `exit N` as the status, then carries on in a fresh shell', async function () {
      const r = await shell.run('echo bye; exit 7');
      expect(r.stdout).to.equal('bye\n');
      expect(r.code).to.equal(7);
      expect((await shell.run('echo again')).stdout).to.equal('again\n');
    });

    it('rejects a command that overruns its deadline with a DeadlineError, kills it, and the next command works', async function () {
      const t0 = Date.now();
      const err = await rejection(shell.run('sleep 3141', { timeout: 500 }));
      expect(err).to.be.instanceOf(DeadlineError);
      expect(err.message).to.include(`${sshd.host}:${sshd.port}`).and.include('sleep 3141');
      expect(Date.now() - t0).to.be.lessThan(3000);

      const next = await shell.run('echo alive');
      expect(next.stdout).to.equal('alive\n');
      // The runaway is reaped on the box, not left to finish its 52 minutes.
      await waitFor('sleep 3141 to be killed', async () => {
        const ps = await shell.run("ps -eo stat=,args= | grep -v '^Z' | grep -c '[s]leep 3141'");
        return ps.stdout.trim() === '0';
      });
    });

    it('rejects a command that waited in the queue past its deadline', async function () {
      const slow = shell.run('sleep 1; echo slow', { timeout: 10_000 });
      const err = await rejection(shell.run('echo queued', { timeout: 200 }));
      expect(err).to.be.instanceOf(DeadlineError);
      expect((await slow).stdout).to.equal('slow\n');
    });

    it('carries shell state between commands; isolated commands start clean', async function () {
      await shell.run('cd /tmp; EVE_QUAL_X=1');
      expect((await shell.run('pwd; echo "$EVE_QUAL_X"')).stdout).to.equal('/tmp\n1\n');
      const iso = await shell.run('echo "[$EVE_QUAL_X]"; echo err >&2; exit 4', { isolated: true });
      expect(iso.stdout).to.equal('[]\n');
      expect(iso.stderr).to.equal('err\n');
      expect(iso.code).to.equal(4);
      await shell.run('cd; unset EVE_QUAL_X');
    });

    it('rejects an isolated command that overruns its deadline', async function () {
      const err = await rejection(shell.run('sleep 2718', { isolated: true, timeout: 300 }));
      expect(err).to.be.instanceOf(DeadlineError);
      expect((await shell.run('echo ok', { isolated: true })).stdout).to.equal('ok\n');
      await waitFor('sleep 2718 to be killed', async () => {
        const ps = await shell.run("ps -eo stat=,args= | grep -v '^Z' | grep -c '[s]leep 2718'");
        return ps.stdout.trim() === '0';
      });
    });
  });

  describe('host key policy', function () {
    it('refuses a host key that does not match the pinned fingerprint, before authenticating', async function () {
      const wrong = 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, '');
      const accepted = () => (sshd.output().match(/Accepted publickey/g) ?? []).length;
      const before = accepted();
      const s = track(new SshShell(optionsFor(sshd, { hostKey: { fingerprint: wrong } })));
      const err = await rejection(s.run('true'));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`${sshd.host}:${sshd.port}`).and.include(wrong).and.include(sshd.fingerprint);
      expect(accepted()).to.equal(before);
    });

    it('records the key on first use when asked to, then pins to it', async function () {
      const file = path.join(sshd.dir, 'pinned-host-key');
      const first = track(new SshShell(optionsFor(sshd, { hostKey: { recordTo: file } })));
      expect((await first.run('echo hi')).stdout).to.equal('hi\n');
      expect(await readFile(file, 'utf8')).to.include(sshd.fingerprint);

      const second = track(new SshShell(optionsFor(sshd, { hostKey: { recordTo: file } })));
      expect((await second.run('echo again')).stdout).to.equal('again\n');

      const other = 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, '');
      await writeFile(file, `${other}\n`);
      const third = track(new SshShell(optionsFor(sshd, { hostKey: { recordTo: file } })));
      const err = await rejection(third.run('true'));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(other).and.include(sshd.fingerprint).and.include(file);
    });

    // EVE makes a new host key at every boot (pkg/debug/ssh-service.sh); the console shows it (lib/install/console-host-keys).
    it("holds SSH to the keys a trusted channel showed (EVE's console after a boot), recording the one offered", async function () {
      const shown = parsePublicKeys(await readFile(path.join(sshd.dir, 'ssh_host_ed25519_key.pub'), 'utf8'));
      const files = [path.join(sshd.dir, 'run', 'ssh_host_key'), path.join(sshd.dir, 'profile-known')];
      const s = track(new SshShell(optionsFor(sshd, { hostKey: { trusted: { source: 'the console of box1', keys: shown }, recordTo: files } })));
      expect((await s.run('echo ok')).stdout).to.equal('ok\n');
      for (const f of files) expect(await readFile(f, 'utf8')).to.include(sshd.fingerprint).and.include('the console of box1');
    });

    it('refuses a key the console did not show as possible interception, naming both fingerprints, before authenticating', async function () {
      const shownFp = 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, '');
      const accepted = () => (sshd.output().match(/Accepted publickey/g) ?? []).length;
      const before = accepted();
      const s = track(new SshShell(optionsFor(sshd, { hostKey: { trusted: { source: 'the console of box1', keys: [{ type: 'ssh-ed25519', fingerprint: shownFp }] } } })));
      const err = await rejection(s.run('true'));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(shownFp).and.include(sshd.fingerprint).and.include('interception').and.include('the console of box1');
      expect(accepted()).to.equal(before);
    });

    it('pinHostKey: the key learned after a reboot holds from the next connection on', async function () {
      const other = 'SHA256:' + randomBytes(32).toString('base64').replace(/=+$/, '');
      const s = track(new SshShell(optionsFor(sshd, { hostKey: { trusted: { source: 'an earlier boot', keys: [{ type: 'ssh-ed25519', fingerprint: other }] } } })));
      expect(await rejection(s.run('true'))).to.be.instanceOf(LabError);
      s.pinHostKey({ trusted: { source: 'the console after the reboot', keys: [{ type: 'ssh-ed25519', fingerprint: sshd.fingerprint }] } });
      expect((await s.run('echo again')).stdout).to.equal('again\n');
    });

    it('accepts ssh-keygen -lf output as a pin file', async function () {
      const file = path.join(sshd.dir, 'keygen-output');
      await writeFile(file, `256 ${sshd.fingerprint} eve-qual-test-host (ED25519)\n`);
      const s = track(new SshShell(optionsFor(sshd, { hostKey: { recordTo: file } })));
      expect((await s.run('echo ok')).code).to.equal(0);
    });

    it('refuses to exist without a policy, or with a malformed fingerprint (ConfigError)', function () {
      const { hostKey: _, ...noPolicy } = optionsFor(sshd);
      expect(() => new SshShell(noPolicy as SshShellOptions)).to.throw(ConfigError);
      expect(() => new SshShell(optionsFor(sshd, { hostKey: { fingerprint: 'MD5:aa:bb' } }))).to.throw(ConfigError);
    });
  });

  describe('connection failures', function () {
    it('reports a key the box does not accept as a LabError naming host:port and the cause', async function () {
      const key = path.join(sshd.dir, 'stranger');
      await generateKey(key);
      const s = track(new SshShell(optionsFor(sshd, { privateKey: key })));
      const t0 = Date.now();
      const err = await rejection(s.run('true'));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`${sshd.host}:${sshd.port}`).and.match(/authentication/i);
      expect(Date.now() - t0).to.be.lessThan(5000);
    });

    it('reports a missing key file as a ConfigError, and never repeats key material', async function () {
      const s = track(new SshShell(optionsFor(sshd, { privateKey: path.join(sshd.dir, 'no-such-key') })));
      expect(await rejection(s.run('true'))).to.be.instanceOf(ConfigError);
      const material = await readFile(sshd.clientKey, 'utf8');
      let thrown: unknown;
      try {
        new SshShell(optionsFor(sshd, { privateKey: material }));
      } catch (err) {
        thrown = err;
      }
      expect(thrown).to.be.instanceOf(ConfigError);
      expect((thrown as Error).message).to.not.include(material.split('\n')[1]!);
    });

    it('fails fast with a LabError when nothing listens', async function () {
      const port = await freePort();
      const s = track(new SshShell({ ...optionsFor(sshd), port }));
      const t0 = Date.now();
      const err = await rejection(s.run('true'));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`127.0.0.1:${port}`).and.include('ECONNREFUSED');
      expect(Date.now() - t0).to.be.lessThan(2000);
    });

    it('rejects commands after close()', async function () {
      const s = new SshShell(optionsFor(sshd));
      await s.run('true');
      await s.close();
      expect(await rejection(s.run('true'))).to.be.instanceOf(LabError);
    });
  });

  describe('a box that reboots', function () {
    let box: Sshd;
    let s: SshShell;

    beforeEach(async function () {
      box = await startSshd();
      s = new SshShell(optionsFor(box));
    });

    afterEach(async function () {
      await s?.close();
      await box?.stop();
    });

    it('rejects the running command with a LabError when the connection drops, and reconnects for the next', async function () {
      const started = path.join(box.dir, 'started');
      const running = rejection(s.run(`touch ${started}; sleep 30`, { timeout: 20_000 }));
      await waitFor('the command to start on the box', () => existsSync(started));
      const disconnected = nextEvent<[string]>(s, 'disconnect');
      const t0 = Date.now();
      await box.kill();
      const err = await running;
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`${box.host}:${box.port}`).and.include('sleep 30');
      expect(Date.now() - t0).to.be.lessThan(5000);
      await disconnected;

      await box.restart();
      const connected = nextEvent(s, 'connect');
      expect((await s.run('echo back')).stdout).to.equal('back\n');
      await connected;
    });

    it('notices a box that stops answering through keepalives, without waiting for the command deadline', async function () {
      await s.close();
      s = new SshShell(optionsFor(box, { keepaliveInterval: 200, keepaliveCountMax: 2 }));
      const started = path.join(box.dir, 'started');
      const running = rejection(s.run(`touch ${started}; sleep 30`, { timeout: 20_000 }));
      await waitFor('the command to start on the box', () => existsSync(started));
      await box.freeze();
      const t0 = Date.now();
      const err = await running;
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`${box.host}:${box.port}`).and.include('stopped answering');
      expect(Date.now() - t0).to.be.lessThan(5000);
      // Left frozen on purpose: stopping it whole (afterEach) also ends the session's shell, which a thawed sshd
      // would orphan when it finds its connection gone.
    });

    it('retries a command issued while the box is down until it is back, within the deadline', async function () {
      await s.run('true');
      const disconnected = nextEvent(s, 'disconnect');
      await box.kill();
      await disconnected;
      const retried = nextEvent(s, 'retry');
      const pending = s.run('echo back', { timeout: 20_000 });
      await retried;
      await box.restart();
      expect((await pending).stdout).to.equal('back\n');
    });

    it('gives up with a DeadlineError when the box stays down past the deadline', async function () {
      await s.run('true');
      const disconnected = nextEvent(s, 'disconnect');
      await box.kill();
      await disconnected;
      const err = await rejection(s.run('true', { timeout: 1000 }));
      expect(err).to.be.instanceOf(DeadlineError);
      expect(err.message).to.include(`${box.host}:${box.port}`);
    });

    it('waitReady() polls until a booting box accepts SSH', async function () {
      await box.kill();
      const retried = nextEvent(s, 'retry');
      const ready = s.waitReady({ timeout: 20_000 });
      await retried;
      await box.restart();
      await ready;
      expect((await s.run('echo up')).stdout).to.equal('up\n');
    });

    it('waitReady() times out with a DeadlineError naming the box', async function () {
      await box.kill();
      const err = await rejection(s.waitReady({ timeout: 800 }));
      expect(err).to.be.instanceOf(DeadlineError);
      expect(err.message).to.include(`${box.host}:${box.port}`).and.include('ECONNREFUSED');
    });
  });

  describe('file transfer', function () {
    let local: string;
    let content: Buffer;

    before(async function () {
      content = randomBytes(1024 * 1024);
      local = path.join(sshd.dir, 'payload.bin');
      await writeFile(local, content);
    });

    it('puts and gets a 1 MiB file over SFTP, verified by sha256 on both ends', async function () {
      const remote = path.join(sshd.dir, 'remote payload.bin');
      await shell.put(local, remote);
      expect(await readFile(remote)).to.deep.equal(content);
      const back = path.join(sshd.dir, 'back.bin');
      await shell.get(remote, back);
      expect(await readFile(back)).to.deep.equal(content);
    });

    it('reports a missing remote file as a LabError', async function () {
      const err = await rejection(shell.get(path.join(sshd.dir, 'does-not-exist'), path.join(sshd.dir, 'x')));
      expect(err).to.be.instanceOf(LabError);
      expect(err.message).to.include(`${sshd.host}:${sshd.port}`);
    });

    it('falls back to cat over exec when the server has no SFTP subsystem', async function () {
      const box = await startSshd({ sftp: false });
      const s = new SshShell(optionsFor(box));
      try {
        const remote = path.join(box.dir, 'remote.bin');
        await s.put(local, remote);
        expect(await readFile(remote)).to.deep.equal(content);
        const back = path.join(box.dir, 'back.bin');
        await s.get(remote, back);
        expect(await readFile(back)).to.deep.equal(content);
        // The server did refuse SFTP: the bytes went through the fallback.
        await waitFor('sshd to log the refused subsystem', () => /subsystem request for sftp.*failed/i.test(box.output()), 5000);
      } finally {
        await s.close();
        await box.stop();
      }
    });
  });
});
