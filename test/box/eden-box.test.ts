// The EdenBox against a STAND-IN `eden` (test/fixtures/eden/eden): real Eden needs Docker, Adam and downloads that
// cannot exist here, so the stand-in follows Eden's commands, config keys and output lines and runs the fixture
// release in QEMU as Eden runs EVE (installer in the foreground until it powers off, then the disk, console on a
// telnet port, SSH forwarded). Every test name says "(stand-in eden)". The ports are free ones, written into the
// stand-in's Eden config by EdenBox.setup(), so parallel runs do not collide on 17777/2222/7788. One VM, 512 MB.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EdenBox, parseEdenStatus } from '../../lib/box/eden-box.ts';
import { ConfigError, DeadlineError, BoxError } from '../../lib/errors.ts';
import { bootToShell } from '../../lib/install/boot-to-shell.ts';
import { ConsoleShell } from '../../lib/shell/console-shell.ts';
import { SshShell } from '../../lib/shell/ssh-shell.ts';
import { freeLoopbackPort } from '../../lib/util/ports.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

const STAND_IN = path.join(repoRoot, 'test', 'fixtures', 'eden', 'eden');
const RELEASE_STRING = '0.0.0-fixture-kvm-amd64';

/** Running processes (not zombies) whose command line mentions `needle`. */
function processesWith(needle: string): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/^\d+ \(.*\) [ZX] /s.test(stat)) continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(needle) && /qemu-system|swtpm/.test(cmd)) found.push({ pid: Number(d), cmd });
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Whatever is left (a test failed half-way): SIGKILL what the pid files name, then anything still using our dir. */
function killLeftovers(dir: string): void {
  const pidFiles = [path.join(dir, 'eden', 'dist', 'eve.pid'), path.join(dir, 'eden', 'dist', 'default-images', 'eve', 'swtpm', 'swtpm.pid')];
  const pids = new Set<number>(processesWith(dir).map((p) => p.pid));
  for (const f of pidFiles) {
    const pid = Number(fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : NaN);
    if (Number.isInteger(pid) && pid > 0 && processesWith(dir).some((p) => p.pid === pid)) pids.add(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe('Eden box (stand-in eden): eden setup/start/onboard/status/stop on the fixture release', function () {
  this.timeout(1_800_000);
  let dir: string;
  let box: EdenBox;
  let env: Record<string, string>;
  let ssh: SshShell | undefined;
  const printed: string[] = [];

  before(async () => {
    const release = await fixtureRelease();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-eden-'));
    fs.mkdirSync(path.join(dir, 'eden'));
    env = { EDEN_HOME: path.join(dir, 'home'), EDEN_STANDIN_RELEASE: release };
    const [telnetPort, sshPort, monitorPort] = [await freeLoopbackPort(), await freeLoopbackPort(), await freeLoopbackPort()];
    box = new EdenBox({
      name: 'eden-fixture',
      eden: STAND_IN,
      cwd: path.join(dir, 'eden'),
      env,
      telnetPort,
      sshPort,
      monitorPort,
      config: { 'eve.arch': 'amd64', 'eve.ram': 512, 'eve.cpu': 1 },
      consoleLog: path.join(dir, 'console.log'),
      timeouts: { start: 900_000, onboard: 300_000 },
      onOutput: (l) => {
        printed.push(l);
        if (printed.length > 5000) printed.splice(0, 1000);
      },
    });
  });

  after(async () => {
    await ssh?.close().catch(() => undefined);
    await box?.close().catch(() => undefined);
    if (!dir) return;
    // Belt and braces: eden stop by hand, then kill by pid file, so no QEMU outlives a failed test.
    await execa(STAND_IN, ['stop'], { cwd: path.join(dir, 'eden'), env, reject: false, timeout: 60_000 });
    killLeftovers(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('sets up Eden with the ports in its config and an SSH key (stand-in eden)', async () => {
    const r = await box.setup();
    expect(r.output).to.match(/level=info msg="?Eden setup done/);
    const get = async (key: string) =>
      (await box.eden(['config', 'get', 'default', '--key', key], { timeout: 30_000 })).output.trim();
    expect(await get('eve.telnet-port')).to.equal(String(box.telnetPort));
    expect(JSON.parse(await get('eve.hostfwd'))).to.deep.equal({ [String(box.sshPort)]: '22' });
    expect(await get('eve.qemu.monitor-port')).to.equal(String(box.monitorPort));
    expect(fs.existsSync(box.sshKey) && fs.existsSync(`${box.sshKey}.pub`)).to.equal(true);
    expect((await box.status()).eve).to.equal('stopped');
    expect(await box.power.state()).to.equal('off');
  });

  it('starts EVE: the installer runs inside eden start, then the installed disk boots (stand-in eden)', async () => {
    const r = await box.start();
    expect(r.output).to.contain('EVE-OS installation started');
    expect(r.output).to.contain('NOTICE: Device will now power off.');
    expect(r.output).to.match(/msg="EVE is starting"/);
    expect(printed.some((l) => l.includes('EVE-OS installation started')), 'onOutput saw the installer lines').to.equal(true);
    const st = await box.status();
    expect(st.eve).to.equal('running');
    expect(st.pid).to.be.a('number');
    expect(await box.power.state()).to.equal('on');
    expect(processesWith(dir).some((p) => p.cmd.includes(`port=${box.telnetPort}`) && p.cmd.includes('telnet=on'))).to.equal(true);
  });

  it("shows EVE's banner on Eden's telnet console and gives a login shell there (stand-in eden)", async () => {
    await bootToShell(box.console, { timeout: 600_000 });
    const r = await new ConsoleShell(box.console).run('cat /run/eve-release', { timeout: 60_000 });
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(RELEASE_STRING);
    expect(box.console.link.name).to.equal(`tcp:127.0.0.1:${box.telnetPort} (telnet)`);
  });

  it("answers SSH on Eden's forwarded port with the key eden setup made (stand-in eden)", async () => {
    const ep = box.sshEndpoint();
    expect(ep).to.deep.equal({ host: '127.0.0.1', port: box.sshPort });
    ssh = new SshShell({ host: ep.host, port: ep.port, privateKey: box.sshKey, hostKey: { recordTo: path.join(dir, 'host-key') } });
    await ssh.waitReady({ timeout: 300_000 });
    const r = await ssh.run('cat /run/eve-release');
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal(RELEASE_STRING);
  });

  it('onboards: eden eve onboard prints onboarded and the device UUID (stand-in eden)', async () => {
    const r = await box.onboard();
    expect(r.output).to.match(/level=info msg=onboarded\b/);
    const serial = (await ssh!.run('cat /config/soft_serial')).stdout.trim();
    expect(r.deviceUuid).to.equal(serial);
  });

  it('reads eden status: EVE running with its pid, registered (stand-in eden)', async () => {
    const st = await box.status();
    expect(st.output).to.match(/EVE on Qemu status: running with pid \d+/);
    expect(st.eve).to.equal('running');
    expect(st.onboarding).to.equal('registered');
    const pidFile = path.join(dir, 'eden', 'dist', 'eve.pid');
    expect(st.pid).to.equal(Number(fs.readFileSync(pidFile, 'utf8')));
  });

  it('sets and clears Eden\'s installer knob for attach/detachInstaller (stand-in eden)', async () => {
    const get = async () =>
      (await box.eden(['config', 'get', 'default', '--key', 'eve.custom-installer.path'], { timeout: 30_000 })).output.trim();
    await box.attachInstaller({ image: path.join(dir, 'some-installer.raw'), kernelArgs: [], releaseDir: dir, arch: 'amd64' });
    expect(await get()).to.equal(path.join(dir, 'some-installer.raw'));
    await box.detachInstaller();
    expect(await get()).to.equal('');
    expect(box.poweredOff()).to.equal(null);
  });

  it('an eden call past its deadline is killed and reported with what was awaited (stand-in eden)', async () => {
    const err = await box.eden(['status', '--config', 'default'], { timeout: 1, awaited: 'a quick status' }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect((err as Error).message).to.contain('a quick status').and.contain('eden status');
  });

  it('stops: eden stop leaves no qemu or swtpm, and status says so (stand-in eden)', async () => {
    await ssh?.close();
    ssh = undefined;
    await box.power.off();
    expect(processesWith(dir), 'qemu/swtpm still running').to.deep.equal([]);
    const st = await box.status();
    expect(st.eve).to.equal('stopped');
    expect(st.detail).to.equal("process doesn't exist");
    expect(await box.power.state()).to.equal('off');
  });

  it("onboarding a stopped EVE fails as a box error with eden's output (stand-in eden)", async () => {
    const err = await box.onboard({ timeout: 60_000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BoxError);
    expect((err as Error).message).to.contain('eden eve onboard').and.contain('Eve onboard failed: EVE is not running');
  });
});

describe('Eden box without eden (stand-in eden not needed)', () => {
  it('a missing eden executable is a config error', async () => {
    const box = new EdenBox({ name: 'nowhere', cwd: os.tmpdir(), eden: '/nonexistent/eden' });
    const err = await box.status().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.contain('/nonexistent/eden');
    await box.close();
  });

  it("parses eden status output as real Eden prints it", () => {
    const real = [
      '✔ Adam status: running',
      '--- context: default ---',
      'EVE state: not onboarded',
      '',
      '\x1b[32m✔\x1b[0m EVE on Qemu status: running with pid 23943',
      '\tLogs for local EVE at: /home/u/eden/dist/default-eve.log',
    ].join('\n');
    const st = parseEdenStatus(real);
    expect(st).to.include({ eve: 'running', pid: 23943, onboarding: 'not onboarded' });
    expect(parseEdenStatus('✘ EVE on Qemu status: process not running').eve).to.equal('stopped');
    expect(parseEdenStatus('--- context: default ---').eve).to.equal('unknown');
  });
});
