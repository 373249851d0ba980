// The IPMI power driver against a real BMC: OpenIPMI's ipmi_sim, whose chassis power starts, stops and resets a
// fixture QEMU box. Bad input: wrong credentials, an unreachable BMC; each a lab error naming the BMC, in time, and
// never showing the password.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabError } from '../../lib/errors.ts';
import { IpmiPower } from '../../lib/power/ipmi-power.ts';
import { freeUdpPort, startIpmiSim, type IpmiSim } from '../helpers/ipmi-sim.ts';

const PASSWORD = 'Ipmi-s3cret-7731';

describe('IPMI power through ipmitool against ipmi_sim driving a fixture QEMU box', function () {
  this.timeout(120_000);
  let dir: string;
  let bmc: IpmiSim;
  const log: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-ipmi-'));
    bmc = await startIpmiSim({ dir, password: PASSWORD, serial: 'none' });
  });

  after(async () => {
    await bmc?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const power = (over: Partial<ConstructorParameters<typeof IpmiPower>[0]> = {}) =>
    new IpmiPower({ host: bmc.host, port: bmc.port, user: bmc.user, password: PASSWORD, minOffMs: 500, confirmTimeoutMs: 20_000, log: (l) => log.push(l), ...over });

  it('reads the state, powers the box on (a QEMU process starts) and confirms it', async () => {
    const p = power();
    expect(p.where).to.equal(`ipmi:127.0.0.1:${bmc.port}`);
    expect(await p.state()).to.equal('off');
    await p.on();
    const pid = await bmc.waitVm(true);
    expect(pid).to.be.a('number');
    expect(await p.state()).to.equal('on');
    expect(log.join('\n')).to.contain('confirmed on');
  });

  it('powers the box off (the QEMU process ends) and confirms it', async () => {
    const p = power();
    await p.off();
    await bmc.waitVm(false);
    expect(await p.state()).to.equal('off');
  });

  it('cycles the box: off, the minimum off time, on (a new QEMU process)', async () => {
    const p = power({ minOffMs: 1500 });
    await p.on();
    const first = await bmc.waitVm(true);
    const started = Date.now();
    await p.cycle();
    const second = await bmc.waitVm(true);
    expect(second).to.not.equal(first);
    expect(Date.now() - started).to.be.at.least(1500);
    expect(log.some((l) => /keeping it off/.test(l))).to.equal(true);
    await p.off();
    await bmc.waitVm(false);
  });

  it('wrong password: a lab error naming the BMC and the cause, without the password', async () => {
    const wrong = 'Wrong-pass-4242';
    const started = Date.now();
    const err = await power({ password: wrong, callTimeoutMs: 8000 }).state().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`ipmi:127.0.0.1:${bmc.port}`).and.match(/authentication failed for user "admin"/);
    expect(err.message).to.not.contain(wrong).and.not.contain(PASSWORD);
    expect(Date.now() - started).to.be.below(8000);
  });

  it('wrong user name: a lab error saying so', async () => {
    const err = await power({ user: 'nobody', callTimeoutMs: 8000 }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.match(/authentication failed for user "nobody"/);
  });

  it('unreachable BMC: a lab error within its deadline naming the host', async () => {
    const port = await freeUdpPort();
    const started = Date.now();
    const err = await power({ port, callTimeoutMs: 6000 }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`ipmi:127.0.0.1:${port}`).and.match(/no answer/);
    expect(Date.now() - started).to.be.below(7000);
  });

  it('a BMC that accepts the command but never changes state: a lab error at the confirm deadline', async () => {
    // ipmitool replaced by a script that accepts every command and always reports the chassis off.
    const fake = path.join(dir, 'stuck-ipmitool');
    fs.writeFileSync(fake, '#!/bin/sh\ncase "$*" in *status*) echo "Chassis Power is off";; *) echo "Chassis Power Control: Up/On";; esac\n', { mode: 0o755 });
    const err = await power({ ipmitool: fake, confirmTimeoutMs: 1500 }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.match(/power on not confirmed: the state read back is still off after 1\.5 s/);
  });
});
