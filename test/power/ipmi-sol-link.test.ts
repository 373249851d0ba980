// The IPMI SOL link against ipmi_sim's Serial over LAN wired to a fixture QEMU box's serial port: the box's UEFI
// firmware is read through the BMC, typed at, and followed across a power cycle; a stale session is cleared, a
// session held by someone else and wrong credentials are lab errors in time, and no password shows anywhere.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Console } from '../../lib/console/console.ts';
import { LabError } from '../../lib/errors.ts';
import { IpmiSolLink } from '../../lib/link/ipmi-sol-link.ts';
import { IpmiPower } from '../../lib/power/ipmi-power.ts';
import { Deadline, pause } from '../../lib/util/deadline.ts';
import { startIpmiSim, type IpmiSim } from '../helpers/ipmi-sim.ts';
import { startPeer, type Peer } from '../helpers/peer.ts';
import { waitForOutput } from '../helpers/socat.ts';

const PASSWORD = 'Sol-s3cret-5150';
const FIRMWARE_LINE = /BdsDxe|UEFI Interactive Shell|Shell> /;

async function solPids(port: number): Promise<number[]> {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (/ [ZX] /.test(stat.slice(stat.lastIndexOf(')')))) continue;
      if (cmd[0]?.endsWith('ipmitool') && cmd.includes(String(port)) && cmd.includes('activate')) out.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('IPMI SOL link against ipmi_sim SOL wired to a fixture QEMU box', function () {
  this.timeout(180_000);
  let dir: string;
  let bmc: IpmiSim;
  let power: IpmiPower;
  let holder: Peer | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-sol-'));
    bmc = await startIpmiSim({ dir, password: PASSWORD });
    power = new IpmiPower({ host: bmc.host, port: bmc.port, user: bmc.user, password: PASSWORD, minOffMs: 500 });
  });

  after(async () => {
    await holder?.stop();
    await bmc?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const solLink = (over: Partial<ConstructorParameters<typeof IpmiSolLink>[0]> = {}) =>
    new IpmiSolLink({ host: bmc.host, port: bmc.port, user: bmc.user, password: PASSWORD, reconnectDeadlineMs: 20_000, ...over });

  /** Someone else's SOL session: a plain `ipmitool sol activate` with its stdin held open. */
  async function startHolder(): Promise<Peer> {
    // The password reaches the holder through its environment (spawning is synchronous), as our link passes it.
    process.env.IPMI_PASSWORD = PASSWORD;
    try {
      return startPeer('sh', ['-c', `sleep 600 | stdbuf -oL ipmitool -I lanplus -C 3 -H ${bmc.host} -p ${bmc.port} -U ${bmc.user} -E sol activate`], { name: 'sol-holder' });
    } finally {
      delete process.env.IPMI_PASSWORD;
    }
  }

  it('reads the box firmware through SOL from power on, answers typed input, and follows a power cycle', async () => {
    const link = solLink();
    expect(link.name).to.equal(`ipmi-sol:127.0.0.1:${bmc.port}`);
    const logFile = path.join(dir, 'run', 'console', 'box.log');
    const con = new Console(link, { boxName: 'sol-box', logFile });
    try {
      await con.open();
      await power.on();
      await con.expect(FIRMWARE_LINE, { timeout: 120_000, awaited: 'UEFI firmware output through SOL' });
      await con.expect(/Shell> /, { timeout: 120_000, awaited: 'the UEFI shell prompt' });
      await con.send('ver\r');
      await con.expect(/UEFI Interactive Shell v[\d.]+/, { timeout: 30_000, awaited: "the shell's answer to ver" });
      con.discard();
      await power.cycle();
      await con.expect(FIRMWARE_LINE, { timeout: 120_000, awaited: 'firmware output after the power cycle' });
      expect(link.state).to.equal('open');
    } finally {
      await con.close();
      await power.off();
    }
    expect(await solPids(bmc.port)).to.deep.equal([]);
    const everything = fs.readFileSync(logFile, 'utf8');
    expect(everything).to.match(FIRMWARE_LINE);
    expect(everything).to.not.contain(PASSWORD);
    expect(everything).to.not.contain('SOL Session operational');
  });

  it('clears a stale SOL session (its ipmitool was killed) before activating', async () => {
    holder = await startHolder();
    await waitForOutput(holder, /SOL Session operational/, 15_000);
    // SIGKILL: the holder cannot deactivate, the BMC keeps the payload active for it.
    for (const pid of await solPids(bmc.port)) process.kill(pid, 'SIGKILL');
    await holder.stop();
    holder = undefined;
    const busy = await execa('ipmitool', ['-I', 'lanplus', '-C', '3', '-H', bmc.host, '-p', String(bmc.port), '-U', bmc.user, '-E', 'sol', 'activate'], {
      env: { IPMI_PASSWORD: PASSWORD },
      reject: false,
      input: '',
      timeout: 10_000,
    });
    expect(busy.stdout + busy.stderr).to.contain('already active');
    const link = solLink();
    try {
      await link.open();
      expect(link.state).to.equal('open');
    } finally {
      await link.close();
    }
  });

  it('SOL held by someone else (onBusy: fail): a lab error naming the BMC and the cause, in time', async () => {
    holder = await startHolder();
    await waitForOutput(holder, /SOL Session operational/, 15_000);
    const link = solLink({ onBusy: 'fail', connectTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await link.open().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`ipmi-sol:127.0.0.1:${bmc.port}`).and.contain('in use by another session');
    expect(Date.now() - started).to.be.below(10_000);
    await holder.stop();
    holder = undefined;
  });

  it('wrong password: a lab error naming the BMC, without the password', async () => {
    const wrong = 'Not-the-pass-909';
    const err = await solLink({ password: wrong }).open().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`ipmi-sol:127.0.0.1:${bmc.port}`).and.match(/authentication failed/);
    expect(err.message).to.not.contain(wrong);
  });

  it('leaves no ipmitool behind', async () => {
    const deadline = new Deadline(5000);
    while ((await solPids(bmc.port)).length && !deadline.expired()) await pause(50);
    expect(await solPids(bmc.port)).to.deep.equal([]);
  });
});
