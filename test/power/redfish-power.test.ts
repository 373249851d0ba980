// The Redfish power driver against a stand-in Redfish BMC (no Redfish BMC emulator exists here: the stand-in is an
// HTTPS service following the DMTF schema for the resources used, with a self-signed certificate like a BMC's).
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, LabError } from '../../lib/errors.ts';
import { RedfishPower } from '../../lib/power/redfish-power.ts';
import { freePort } from '../helpers/net.ts';
import { startRedfishStandin, type RedfishStandin, type RedfishStandinOptions } from '../helpers/redfish-standin.ts';

const PASSWORD = 'Redfish-s3cret-8086';

describe('Redfish power against a stand-in Redfish BMC (HTTPS, DMTF schema, self-signed certificate)', function () {
  this.timeout(30_000);
  let dir: string;
  const standins: RedfishStandin[] = [];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-redfish-'));
  });
  after(async () => {
    await Promise.all(standins.map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function standin(over: Partial<RedfishStandinOptions> = {}): Promise<RedfishStandin> {
    const d = fs.mkdtempSync(path.join(dir, 'bmc-'));
    const s = await startRedfishStandin({ dir: d, password: PASSWORD, ...over });
    standins.push(s);
    return s;
  }
  const power = (s: RedfishStandin, over: Partial<ConstructorParameters<typeof RedfishPower>[0]> = {}) =>
    new RedfishPower({ url: s.url, user: 'root', password: PASSWORD, certificateSha256: s.fingerprint, minOffMs: 300, confirmTimeoutMs: 5000, requestTimeoutMs: 3000, ...over });

  it('powers on and off through #ComputerSystem.Reset, following the task and confirming PowerState', async () => {
    const bmc = await standin();
    const p = power(bmc);
    expect(p.where).to.equal(`redfish:127.0.0.1:${bmc.port}`);
    expect(await p.state()).to.equal('off');
    await p.on();
    expect(bmc.system.PowerState).to.equal('On');
    expect(await p.state()).to.equal('on');
    await p.off();
    expect(await p.state()).to.equal('off');
    const resets = bmc.requests.filter((r) => r.path.endsWith('ComputerSystem.Reset')).map((r) => r.body.ResetType);
    expect(resets).to.deep.equal(['On', 'ForceOff']);
    // The task monitor was followed through its 202s.
    expect(bmc.requests.filter((r) => r.path.includes('TaskMonitors')).length).to.be.at.least(4);
    await p.close();
  });

  it('uses a session: the password travels once, the token after, and the session is deleted on close', async () => {
    const bmc = await standin();
    const p = power(bmc);
    await p.cycle();
    expect(bmc.sessions()).to.equal(1);
    const authed = bmc.requests.filter((r) => r.path !== '/redfish/v1/' && !r.path.endsWith('/Sessions'));
    expect(authed.every((r) => r.auth === 'session')).to.equal(true);
    expect(bmc.requests.filter((r) => JSON.stringify(r.body ?? {}).includes(PASSWORD)).length).to.equal(1);
    await p.close();
    expect(bmc.sessions()).to.equal(0);
  });

  it('falls back to basic auth on a service without sessions', async () => {
    const bmc = await standin({ sessions: false });
    const p = power(bmc);
    await p.on();
    expect(bmc.requests.filter((r) => r.path !== '/redfish/v1/').every((r) => r.auth === 'basic')).to.equal(true);
  });

  it('a certificate that does not match its pin: a lab error naming the BMC, and nothing is sent', async () => {
    const bmc = await standin();
    const wrongPin = bmc.fingerprint.replace(/^../, bmc.fingerprint.startsWith('00') ? '11' : '00');
    const err = await power(bmc, { certificateSha256: wrongPin }).state().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`redfish:127.0.0.1:${bmc.port}`).and.contain('does not match the pinned').and.contain(bmc.fingerprint);
    expect(bmc.requests).to.deep.equal([]);
  });

  it('wrong credentials: a lab error naming the BMC and user, without the password', async () => {
    const bmc = await standin();
    const wrong = 'Wrong-redfish-pass';
    const err = await power(bmc, { password: wrong }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`redfish:127.0.0.1:${bmc.port}`).and.match(/authentication failed for user "root"/);
    expect(err.message).to.not.contain(wrong);
    const basic = await power(await standin({ sessions: false }), { password: wrong }).state().catch((e) => e);
    expect(basic.message).to.match(/authentication failed for user "root" \(HTTP 401/);
  });

  it('unreachable BMC: connection refused, and a BMC that never answers TLS, each a lab error in time', async () => {
    const port = await freePort();
    const refused = await power({ url: `https://127.0.0.1:${port}`, fingerprint: 'AA:'.repeat(31) + 'AA' } as RedfishStandin).state().catch((e) => e);
    expect(refused).to.be.instanceOf(LabError);
    expect(refused.message).to.contain(`redfish:127.0.0.1:${port}`).and.contain('connection refused');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sport = (silent.address() as net.AddressInfo).port;
    const started = Date.now();
    const hung = await power({ url: `https://127.0.0.1:${sport}`, fingerprint: 'AA:'.repeat(31) + 'AA' } as RedfishStandin, { requestTimeoutMs: 1000 }).state().catch((e) => e);
    silent.close();
    expect(hung).to.be.instanceOf(LabError);
    expect(hung.message).to.contain(`redfish:127.0.0.1:${sport}`).and.contain('no answer within 1 s');
    expect(Date.now() - started).to.be.below(3000);
  });

  it('a reset task that fails: a lab error with the BMC message', async () => {
    const bmc = await standin({ failTasks: 'Power supply 1 reports a fault' });
    const err = await power(bmc).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.match(/#ComputerSystem\.Reset On .* failed: task Exception: Power supply 1 reports a fault/);
  });

  it('a system whose PowerState never changes: a lab error at the confirm deadline', async () => {
    const bmc = await standin({ stuck: true, taskPolls: 0 });
    const err = await power(bmc, { confirmTimeoutMs: 1200 }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('power on not confirmed').and.contain('still off');
  });

  it('refuses plain http and malformed pins before touching anything (config errors)', () => {
    expect(() => new RedfishPower({ url: 'http://10.0.0.9', user: 'u', password: 'p', certificateSha256: 'AA:'.repeat(31) + 'AA' })).to.throw(ConfigError, /https/);
    expect(() => new RedfishPower({ url: 'https://10.0.0.9', user: 'u', password: 'p', certificateSha256: 'abc' })).to.throw(ConfigError, /fingerprint/);
  });
});
