// eve-qual power / console / check as a user runs them (a child process, exit codes, output), on a real-box profile
// whose BMC is ipmi_sim driving a fixture QEMU box (UEFI firmware only) with its serial console on a loopback TCP port
// as a terminal server exports one; the box has no OS, so a real OpenSSH sshd on loopback stands in for its SSH port.
// Also: the virtual profile, a broken console and broken power named by check, and a known secret that appears
// nowhere in what these commands print or write.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/net.ts';
import { startIpmiSim, type IpmiSim } from '../helpers/ipmi-sim.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const EVE_QUAL = path.join(root, 'bin', 'eve-qual');
const SECRET = 'Bmc-s3cret-6502'; // ipmi_sim keeps passwords of up to 16 bytes

function profileYaml(o: { bmcPort: number; consolePort: number; sshPort: number; passwordEnv?: string }): string {
  return [
    'box: { name: lab-x86, vendor: Fixture, model: ipmi-sim-box, arch: amd64, kind: real }',
    'console:',
    `  link: { type: tcp, host: 127.0.0.1, port: ${o.consolePort}, protocol: raw, connectTimeoutMs: 3000 }`,
    '  device: ttyS0',
    'ssh:',
    `  host: 127.0.0.1`,
    `  port: ${o.sshPort}`,
    '  hostKey: { recordTo: known_hosts }',
    'power:',
    `  { type: ipmi, host: 127.0.0.1, port: ${o.bmcPort}, user: admin, password: { env: ${o.passwordEnv ?? 'EQ_TEST_BMC_PASSWORD'} }, minOffSeconds: 1 }`,
    'media: { type: ipxe-http, listen: "127.0.0.1:0" }',
    '',
  ].join('\n');
}

describe('eve-qual power / console / check on a fixture box behind ipmi_sim (serial on a TCP port)', function () {
  this.timeout(180_000);
  let dir: string;
  let bmc: IpmiSim;
  let sshd: Sshd;
  let profile: string;
  const outputs: string[] = [];

  const cli = async (args: string[], opts: { input?: string; env?: Record<string, string> } = {}) => {
    const r = await execa(EVE_QUAL, [...args], {
      cwd: dir,
      reject: false,
      env: { EQ_TEST_BMC_PASSWORD: SECRET, ...opts.env },
      ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' }),
      timeout: 120_000,
    });
    const out = { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
    outputs.push(out.stdout, out.stderr);
    return out;
  };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-cli-lab-'));
    bmc = await startIpmiSim({ dir, password: SECRET, serial: 'tcp' });
    sshd = await startSshd();
    profile = path.join(dir, 'lab-x86.yaml');
    fs.writeFileSync(profile, profileYaml({ bmcPort: bmc.port, consolePort: bmc.serialPort, sshPort: sshd.port }));
  });

  after(async () => {
    await bmc?.stop();
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('power status / on (confirmed by reading the state back) / status', async () => {
    let r = await cli(['power', 'status', '--profile', profile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(`lab-x86: off (ipmi:127.0.0.1:${bmc.port})`);
    r = await cli(['power', 'on', '--profile', profile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('confirmed on').and.contain('lab-x86: on');
    await bmc.waitVm(true);
    r = await cli(['power', 'status', '--profile', profile]);
    expect(r.stdout).to.contain('lab-x86: on');
  });

  it('console: raw attach, keys reach the box (the UEFI shell answers), Ctrl-] . leaves, the log keeps it all', async () => {
    // Wait until the firmware has reached its shell: a line typed earlier goes to the boot manager instead.
    const deadline = Date.now() + 120_000;
    let seen = '';
    while (!/Shell> /.test(seen) && Date.now() < deadline) {
      seen += await new Promise<string>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: bmc.serialPort });
        let got = '';
        s.on('connect', () => s.write('\r'));
        s.on('data', (d) => (got += d.toString('latin1')));
        s.on('error', () => resolve(got));
        setTimeout(() => {
          s.destroy();
          resolve(got);
        }, 2000);
      });
    }
    expect(seen).to.match(/Shell> /);
    const log = path.join(dir, 'attach.log');
    const proc = execa(EVE_QUAL, ['console', '--profile', profile, '--log', log], { cwd: dir, reject: false, env: { EQ_TEST_BMC_PASSWORD: SECRET }, stdin: 'pipe', timeout: 60_000 });
    let out = '';
    const waiters = new Set<() => void>();
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      for (const w of [...waiters]) w();
    });
    const until = (re: RegExp, ms: number) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!re.test(out)) return;
          clearTimeout(t);
          waiters.delete(check);
          resolve();
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`console output never matched ${re}: ${JSON.stringify(out.slice(-300))}`));
        }, ms);
        waiters.add(check);
        check();
      });
    await until(/attached to tcp:127\.0\.0\.1:\d+ \(raw\)/, 30_000);
    proc.stdin!.write('ver\r');
    await until(/UEFI Interactive Shell v[\d.]+/, 30_000);
    proc.stdin!.write('\x1d.');
    const r = await proc;
    outputs.push(out, String(r.stderr));
    expect(r.exitCode, String(r.stderr)).to.equal(0);
    expect(out).to.contain('detached (escape)').and.contain(`console log: ${log}`);
    const text = fs.readFileSync(log, 'utf8');
    expect(text).to.contain('# attached (eve-qual console)').and.match(/UEFI Interactive Shell v[\d.]+/).and.contain('# detached (escape)');
  });

  it('check: a healthy real box (console answers, power on, SSH banner, media ready), in seconds, exit 0', async () => {
    const out = path.join(dir, 'check-ok');
    const started = Date.now();
    const r = await cli(['check', '--profile', profile, '--out', out]);
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/console\s+ok\s+tcp:127\.0\.0\.1:\d+ \(raw\): open, (traffic seen|answered a newline)/);
    expect(r.stdout).to.match(new RegExp(`power\\s+ok\\s+ipmi:127\\.0\\.0\\.1:${bmc.port}: on`));
    expect(r.stdout).to.match(/ssh\s+ok\s+127\.0\.0\.1:\d+ answers \(SSH-2\.0-OpenSSH/);
    expect(r.stdout).to.match(/media\s+ok\s+iPXE over HTTP: can serve from 127\.0\.0\.1:\d+/);
    expect(r.stdout).to.contain('lab path ok');
    expect(Date.now() - started).to.be.below(20_000);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'check.json'), 'utf8'));
    expect(report.ok).to.equal(true);
    expect(report.results.map((x: { path: string }) => x.path)).to.deep.equal(['console', 'power', 'ssh', 'media']);
  });

  it('check: a broken console (nothing on its port) is named, exit 3', async () => {
    const bad = path.join(dir, 'bad-console.yaml');
    fs.writeFileSync(bad, profileYaml({ bmcPort: bmc.port, consolePort: await freePort(), sshPort: sshd.port }));
    const r = await cli(['check', '--profile', bad, '--out', path.join(dir, 'check-bad-console')]);
    expect(r.code).to.equal(3);
    expect(r.stdout).to.match(/console\s+failed\s+cannot open tcp:127\.0\.0\.1:\d+ \(raw\): connection refused/);
    expect(r.stdout).to.match(/power\s+ok/);
    expect(r.stdout).to.contain('lab problem: console failed');
  });

  it('check: broken power (a wrong BMC password) is named, exit 3, the password nowhere', async () => {
    const wrong = 'Wrong-bmc-pass-1984';
    const r = await cli(['check', '--profile', profile, '--out', path.join(dir, 'check-bad-power')], { env: { EQ_TEST_BMC_PASSWORD: wrong } });
    expect(r.code).to.equal(3);
    expect(r.stdout).to.match(/power\s+failed\s+ipmi:127\.0\.0\.1:\d+: chassis power status failed: authentication failed for user "admin"/);
    expect(r.stdout).to.contain('lab problem: power failed');
    expect(r.stdout + r.stderr).to.not.contain(wrong);
    const p = await cli(['power', 'off', '--profile', profile], { env: { EQ_TEST_BMC_PASSWORD: wrong } });
    expect(p.code).to.equal(3);
    expect(p.stderr).to.contain('lab error').and.contain('authentication failed');
    expect(p.stdout + p.stderr).to.not.contain(wrong);
  });

  it('power off (confirmed), and a missing password variable is a config error (exit 2) before anything is touched', async () => {
    let r = await cli(['power', 'off', '--profile', profile]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('confirmed off');
    await bmc.waitVm(false);
    const noenv = path.join(dir, 'noenv.yaml');
    fs.writeFileSync(noenv, profileYaml({ bmcPort: bmc.port, consolePort: bmc.serialPort, sshPort: sshd.port, passwordEnv: 'EQ_TEST_UNSET_VAR' }));
    r = await cli(['power', 'on', '--profile', noenv]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('EQ_TEST_UNSET_VAR is not set');
    expect(await bmc.vmPid()).to.equal(undefined);
  });

  it('check on the box while it is off: power off, SSH skipped, console failed (the serial port of this box goes with it)', async () => {
    const r = await cli(['check', '--profile', profile, '--out', path.join(dir, 'check-off')]);
    expect(r.stdout).to.match(/power\s+ok\s+ipmi:127\.0\.0\.1:\d+: off/);
    expect(r.stdout).to.match(/ssh\s+skipped\s+.*the box is off/);
    expect(r.stdout).to.match(/console\s+failed\s+cannot open/); // QEMU's serial port is gone with the box
    expect(r.code).to.equal(3);
  });

  it('a known secret appears nowhere in what the commands printed or wrote', () => {
    const written: string[] = [];
    const walk = (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) walk(f);
        else if (!/lan\.conf$/.test(f)) written.push(fs.readFileSync(f, 'latin1')); // the fixture BMC's own config holds it
      }
    };
    for (const d of fs.readdirSync(dir).filter((n) => n.startsWith('check-'))) walk(path.join(dir, d));
    written.push(fs.readFileSync(path.join(dir, 'attach.log'), 'latin1'));
    expect(written.length).to.be.greaterThan(4);
    for (const text of [...written, ...outputs]) expect(text).to.not.contain(SECRET);
  });
});

describe('eve-qual power / check on a virtual profile (the box exists only inside a run)', function () {
  this.timeout(60_000);
  const profile = path.join(root, 'hardware-profiles', 'qemu-amd64.yaml');
  const run = (args: string[]) => execa(EVE_QUAL, [...args], { reject: false, stdin: 'ignore', timeout: 60_000 });

  it('check reports a healthy virtual box: QEMU, firmware, acceleration, swtpm ok; power off; exit 0', async () => {
    const r = await run(['check', '--profile', profile]);
    expect(r.exitCode, String(r.stdout) + String(r.stderr)).to.equal(0);
    expect(r.stdout).to.match(/qemu\s+ok\s+QEMU emulator version/);
    expect(r.stdout).to.match(/firmware\s+ok\s+\/usr\/share\/OVMF\//);
    expect(r.stdout).to.match(/accel\s+ok\s+(KVM|TCG)/);
    expect(r.stdout).to.match(/tpm\s+ok\s+TPM emulator version/);
    expect(r.stdout).to.match(/power\s+ok\s+off \(a virtual box exists only inside eve-qual run\/install\)/);
    expect(r.stdout).to.contain('lab path ok');
  });

  it('power status says off; power on is a usage error (exit 2); console too', async () => {
    let r = await run(['power', 'status', '--profile', profile]);
    expect(r.exitCode).to.equal(0);
    expect(r.stdout).to.contain('qemu-amd64: off (a virtual box exists only inside eve-qual run/install)');
    r = await run(['power', 'on', '--profile', profile]);
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.contain('powered by the run');
    r = await run(['console', '--profile', profile]);
    expect(r.exitCode).to.equal(2);
    expect(r.stderr).to.contain('its console exists only inside eve-qual run/install');
  });
});

describe('console attach: the escape sequence (in-process, an in-memory link)', () => {
  it('passes keys through, sends one Ctrl-] for two, leaves on Ctrl-] . even split across reads, logs the box', async () => {
    const { MemoryLink } = await import('../helpers/memory-link.ts');
    const { PassThrough } = await import('node:stream');
    const { attachConsole } = await import('../../lib/cli/console-command.ts');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-attach-'));
    try {
      const link = new MemoryLink();
      await link.open();
      const input = new PassThrough();
      const output = new PassThrough();
      let shown = '';
      output.on('data', (d: Buffer) => (shown += d.toString('latin1')));
      const log = path.join(dir, 'c.log');
      const done = attachConsole({ link, input, output, logFile: log, notice: () => undefined });
      input.write('ls -l\r');
      link.feed('total 0\r\n# ');
      input.write('a\x1d\x1db');
      input.write('c\x1d');
      input.write('.ignored');
      expect(await done).to.equal('escape');
      expect(link.written()).to.equal('ls -l\ra\x1dbc');
      expect(shown).to.equal('total 0\r\n# ');
      const text = fs.readFileSync(log, 'utf8');
      expect(text).to.contain('| total 0').and.contain('# detached (escape)');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends when the link closes for good (a lab problem for the command)', async () => {
    const { MemoryLink } = await import('../helpers/memory-link.ts');
    const { PassThrough } = await import('node:stream');
    const { attachConsole } = await import('../../lib/cli/console-command.ts');
    const link = new MemoryLink();
    await link.open();
    const done = attachConsole({ link, input: new PassThrough(), output: new PassThrough(), notice: () => undefined });
    link.drop(new Error('terminal server gone'));
    expect(await done).to.equal('link-closed');
  });
});
