// A real OpenSSH sshd on a free loopback port, as the SSH peer for shell tests and the shell benchmark. Keys and
// config live in a temp dir of its own, so nothing of the machine's sshd setup is read or touched.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, waitForPort } from './net.ts';
import { startPeer, type Peer } from './peer.ts';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Offer the sftp subsystem (default true). false is a dropbear-like box: file transfer must fall back to cat. */
  sftp?: boolean;
  /** Port to listen on (default: a free one). */
  port?: number;
}

export interface Sshd {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Temp dir holding keys, config, pid file; removed by stop(). */
  readonly dir: string;
  /** Client private key (authorized) and its public half. */
  readonly clientKey: string;
  readonly clientPub: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it: `SHA256:...`. */
  readonly fingerprint: string;
  /** A known_hosts file pinning this sshd, for OpenSSH clients. */
  readonly knownHosts: string;
  /** What sshd printed (its log), for diagnostics. */
  output(): string;
  /** Kill sshd and every connection it serves at once, as a box losing power would. */
  kill(): Promise<void>;
  /** Stop (SIGSTOP) sshd and its connections: the box hangs, TCP stays up, nothing answers. */
  freeze(): Promise<void>;
  /** Let a frozen sshd carry on. */
  thaw(): Promise<void>;
  /** Start sshd again on the same port with the same keys (the box came back); waits until it accepts. */
  restart(): Promise<void>;
  /** Stop sshd and its connections, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Generate an ed25519 key pair without a passphrase at `file` (and `file.pub`). */
export async function generateKey(file: string, comment = 'eve-qual-test'): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
}

/** The `SHA256:...` fingerprint of a public key file, as OpenSSH prints it. */
export async function fingerprintOf(pubFile: string): Promise<string> {
  const { stdout } = await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', pubFile]);
  const fp = stdout.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -lf output: ${stdout}`);
  return fp;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  // sshd refuses to start without its privilege separation directory.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eve-qual-sshd-'));
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = path.join(dir, 'client_ed25519');
  await Promise.all([generateKey(hostKey, 'eve-qual-test-host'), generateKey(clientKey)]);
  await writeFile(path.join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`));
  const fingerprint = await fingerprintOf(`${hostKey}.pub`);
  const port = opts.port ?? (await freePort());
  const hostPub = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub}\n`);

  const config = path.join(dir, 'sshd_config');
  const lines = [
    'ListenAddress 127.0.0.1',
    `Port ${port}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    // The keys live in a temp dir, not in a home directory whose ownership sshd would insist on.
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    // bash sources ~/.bashrc for every command sshd runs (Debian's SSH_SOURCE_BASHRC) unless it is a nested shell;
    // a developer's rc file (pyenv init...) would otherwise add its own cost to every session and blur timings.
    'SetEnv SHLVL=1',
    'LogLevel VERBOSE',
  ];
  if (opts.sftp !== false) lines.push('Subsystem sftp internal-sftp');
  await writeFile(config, lines.join('\n') + '\n');

  let peer: Peer | undefined;
  let stopped = false;
  let log = '';

  const start = async () => {
    peer = startPeer(SSHD, ['-D', '-e', '-f', config], { name: `sshd:${port}` });
    const p = peer;
    try {
      await Promise.race([
        waitForPort(port, 10_000),
        p.proc.then(() => {
          throw new Error(`sshd exited before listening on 127.0.0.1:${port}:\n${p.output()}`);
        }),
      ]);
    } catch (err) {
      await p.stop();
      throw err;
    }
  };

  const killAll = async (signal: NodeJS.Signals) => {
    const p = peer;
    if (!p) return;
    const pid = p.proc.pid;
    if (pid !== undefined) await killTree(pid, signal);
    await p.stop();
    log += p.output();
    peer = undefined;
  };

  try {
    await start();
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    dir,
    clientKey,
    clientPub: `${clientKey}.pub`,
    fingerprint,
    knownHosts,
    output: () => log + (peer?.output() ?? ''),
    kill: () => killAll('SIGKILL'),
    async freeze() {
      const pid = peer?.proc.pid;
      if (pid !== undefined) await killTree(pid, 'SIGSTOP', false);
    },
    async thaw() {
      const pid = peer?.proc.pid;
      if (pid !== undefined) await killTree(pid, 'SIGCONT');
    },
    async restart() {
      if (stopped) throw new Error('sshd was stopped for good');
      await killAll('SIGKILL');
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await killAll('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Signal a process and all its descendants. sshd puts each connection in a session of its own (setsid), so killing
 * the listener's process group would leave live connections behind; the tree is found through /proc instead. Every
 * process is stopped first so that none is reparented (and lost from the tree) while its parent dies.
 */
async function killTree(root: number, signal: NodeJS.Signals, resume = true): Promise<void> {
  const seen = new Set<number>();
  for (;;) {
    const tree = await descendants(root);
    tree.add(root);
    const fresh = [...tree].filter((p) => !seen.has(p));
    if (fresh.length === 0) break;
    for (const p of fresh) {
      seen.add(p);
      signalQuietly(p, 'SIGSTOP');
    }
  }
  for (const p of seen) signalQuietly(p, signal);
  if (resume) for (const p of seen) signalQuietly(p, 'SIGCONT');
}

function signalQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* already gone */
  }
}

async function descendants(root: number): Promise<Set<number>> {
  const children = new Map<number, number[]>();
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = await readFile(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // The command name may hold spaces and parentheses: the fields we need follow the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  const out = new Set<number>();
  const todo = [root];
  while (todo.length > 0) {
    for (const c of children.get(todo.pop()!) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        todo.push(c);
      }
    }
  }
  return out;
}
