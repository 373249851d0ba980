// Benchmark: per-command cost of SshShell's persistent-shell fast path against OpenSSH's best case for running
// commands one by one (`ssh host CMD` multiplexed over an existing ControlMaster connection, so no handshake per
// command). Both run against the same loopback sshd, started the way the tests start it.
//   npx tsx bench/shell-roundtrip.ts
//   → shell-roundtrip: eve_qual_ms=X openssh_ms=Y ratio=Z
import { execFile } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SshShell } from '../lib/shell/ssh-shell.ts';
import { startSshd, type Sshd } from '../test/helpers/sshd.ts';

const exec = promisify(execFile);

const EVE_WARMUP = 3000;
const EVE_COMMANDS = 500;
const SSH_WARMUP = 5;
const SSH_COMMANDS = 100;

export async function run(): Promise<string> {
  const sshd = await startSshd();
  try {
    const eve = await timeEveQual(sshd);
    const openssh = await timeOpenSsh(sshd);
    return `shell-roundtrip: eve_qual_ms=${eve.toFixed(3)} openssh_ms=${openssh.toFixed(2)} ratio=${(eve / openssh).toFixed(4)}`;
  } finally {
    await sshd.stop();
  }
}

async function timeEveQual(sshd: Sshd): Promise<number> {
  const shell = new SshShell({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.clientKey,
    hostKey: { fingerprint: sshd.fingerprint },
  });
  try {
    for (let i = 0; i < EVE_WARMUP; i++) await expectTrue(shell.run('true'));
    const t0 = performance.now();
    for (let i = 0; i < EVE_COMMANDS; i++) await expectTrue(shell.run('true'));
    return (performance.now() - t0) / EVE_COMMANDS;
  } finally {
    await shell.close();
  }
}

async function expectTrue(p: Promise<{ code: number }>): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`\`true\` exited ${r.code}`);
}

async function timeOpenSsh(sshd: Sshd): Promise<number> {
  const control = path.join(sshd.dir, 'cm');
  const common = [
    '-F', '/dev/null', // the machine's and the user's ssh_config stay out of the measurement
    '-o', `ControlPath=${control}`,
    '-o', `UserKnownHostsFile=${sshd.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-i', sshd.clientKey,
    '-p', String(sshd.port),
    '-l', sshd.user,
  ];
  // -f: ssh backgrounds itself once authenticated, so the master is up when this returns.
  await exec('ssh', ['-M', '-N', '-f', ...common, sshd.host]);
  let masterPid: number | undefined;
  try {
    const check = await exec('ssh', ['-O', 'check', ...common, sshd.host]);
    masterPid = Number(/pid=(\d+)/.exec(check.stderr + check.stdout)?.[1]) || undefined;
    const one = async () => {
      await exec('ssh', ['-o', 'ControlMaster=no', ...common, sshd.host, 'true']);
    };
    for (let i = 0; i < SSH_WARMUP; i++) await one();
    const t0 = performance.now();
    for (let i = 0; i < SSH_COMMANDS; i++) await one();
    return (performance.now() - t0) / SSH_COMMANDS;
  } finally {
    try {
      await exec('ssh', ['-O', 'exit', ...common, sshd.host]);
    } catch {
      if (masterPid) {
        try {
          process.kill(masterPid, 'SIGTERM');
        } catch {
          /* gone */
        }
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  run().then(
    (line) => console.log(line),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
