// Benchmark: per-command cost of SshShell's persistent-shell fast path against OpenSSH's best case for running
// commands one by one (`ssh host CMD` multiplexed over an existing ControlMaster connection, so no handshake per
// command). Both run against the same loopback sshd, started the way the tests start it.
//
// Measured twice, in the same run: with every process of the benchmark on one CPU (the headline figures), and free
// to use all of them. Why: client, sshd and the shell all live on this machine, so each command wakes a process on
// another CPU some of the time, and on a VM that wake-up is an inter-processor interrupt and a VM exit: on this
// project's 2-vCPU CI machine it was half of eve-qual's round trip (0.09 ms on one CPU, 0.15-0.24 ms across two), and
// varied with where the scheduler put sshd. A real lab box is another machine, where that cost is not there at all.
// OpenSSH's figure is the same either way (~10 ms: it is a process start per command). Both lines are printed.
//   npx tsx bench/shell-roundtrip.ts
//   → shell-roundtrip: eve_qual_ms=X openssh_ms=Y ratio=Z cpus=one (any CPU: eve_qual_ms=… openssh_ms=… ratio=…)
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { SshShell } from '../lib/shell/ssh-shell.ts';
import { startSshd, type Sshd } from '../test/helpers/sshd.ts';

const exec = promisify(execFile);

const EVE_WARMUP = 3000;
const EVE_COMMANDS = 500;
const SSH_WARMUP = 5;
const SSH_COMMANDS = 100;

interface Figures {
  eve: number;
  openssh: number;
}

const line = (f: Figures) => `eve_qual_ms=${f.eve.toFixed(3)} openssh_ms=${f.openssh.toFixed(2)} ratio=${(f.eve / f.openssh).toFixed(4)}`;

export async function run(): Promise<string> {
  const one = await measureOnOneCpu();
  const any = await measure();
  if (!one) return `shell-roundtrip: ${line(any)} cpus=any (taskset not found: not measured on one CPU)`;
  return `shell-roundtrip: ${line(one)} cpus=one (any CPU: ${line(any)})`;
}

/** The same measurement in a child process that taskset keeps, with everything it starts, on one CPU. */
async function measureOnOneCpu(): Promise<Figures | undefined> {
  let cpu: string;
  try {
    // "pid N's current affinity list: 0-3" (or "0,2,5"): the first CPU this process may use.
    const { stdout } = await exec('taskset', ['-pc', String(process.pid)]);
    cpu = /:\s*(\d+)/.exec(stdout)?.[1] ?? '0';
  } catch {
    return undefined;
  }
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await exec('taskset', ['-c', cpu, process.execPath, '--import', 'tsx', self, '--figures'], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Figures;
}

async function measure(): Promise<Figures> {
  const sshd = await startSshd();
  try {
    return { eve: await timeEveQual(sshd), openssh: await timeOpenSsh(sshd) };
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
  const figures = process.argv.includes('--figures');
  (figures ? measure().then((f) => JSON.stringify(f)) : run()).then(
    (out) => console.log(out),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
