// The lab health check on real-box profiles without a VM: a box played by the test on a pty behind a real ser2net
// (terminal server), power and virtual media through the stand-in Redfish BMC (no Redfish BMC emulator exists here;
// the stand-in follows the DMTF schema), PDU power through a real pdudaemon. Every path ok, then each broken one named.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkLab } from '../../lib/lab/health-check.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { freePort } from '../helpers/net.ts';
import { startPdudaemon, type Pdudaemon } from '../helpers/pdudaemon.ts';
import { startRedfishStandin, type RedfishStandin } from '../helpers/redfish-standin.ts';
import { startSer2net, type Ser2net } from '../helpers/ser2net.ts';
import { openPtyEnd, startPtyPair, type PtyEnd, type PtyPair } from '../helpers/socat.ts';
import { startSshd, type Sshd } from '../helpers/sshd.ts';

const PASSWORD = 'Lab-check-s3cret-77';

describe('lab health check: terminal server console, stand-in Redfish BMC (power + virtual media), pdudaemon', function () {
  this.timeout(60_000);
  let dir: string;
  let pty: PtyPair;
  let boxEnd: PtyEnd;
  let ser2net: Ser2net;
  let bmc: RedfishStandin;
  let pdud: Pdudaemon;
  let sshd: Sshd;
  let answering = true;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-labcheck-'));
    pty = await startPtyPair(dir);
    boxEnd = await openPtyEnd(pty.peer);
    // The box: at a login prompt, it answers a newline with the prompt again (unless the test silences it).
    let seen = 0;
    setInterval(() => {
      const t = boxEnd.received.text();
      if (t.length > seen) {
        seen = t.length;
        if (answering && t.endsWith('\r')) void boxEnd.write('\r\nlab-box login: ');
      }
    }, 20).unref();
    ser2net = await startSer2net({ dir, device: pty.device, port: await freePort(), accepter: 'raw' });
    bmc = await startRedfishStandin({ dir, password: PASSWORD });
    pdud = await startPdudaemon({ dir, outlets: { 2: { on: async () => undefined, off: async () => undefined } } });
    sshd = await startSshd();
    process.env.EQ_LABCHECK_PASSWORD = PASSWORD;
  });

  after(async () => {
    delete process.env.EQ_LABCHECK_PASSWORD;
    await boxEnd?.close();
    await ser2net?.stop();
    await pty?.stop();
    await bmc?.stop();
    await pdud?.stop();
    await sshd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function profile(name: string, power: string, media: string, consolePort = ser2net.port): string {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(
      file,
      [
        `box: { name: ${name}, vendor: Fixture, model: lab-check, arch: arm64 }`,
        `console: { link: { type: tcp, host: 127.0.0.1, port: ${consolePort}, protocol: raw, connectTimeoutMs: 3000 }, device: ttyAMA0 }`,
        `ssh: { host: 127.0.0.1, port: ${sshd.port}, hostKey: { fingerprint: '${sshd.fingerprint}' } }`,
        `power: ${power}`,
        `media: ${media}`,
        '',
      ].join('\n'),
    );
    return file;
  }
  const redfishPower = () => `{ type: redfish, url: '${bmc.url}', user: root, password: { env: EQ_LABCHECK_PASSWORD }, certificateSha256: '${bmc.fingerprint}' }`;
  const pduPower = (daemon = pdud.url, hostname = pdud.pdu) => `{ type: pdu, daemon: '${daemon}', hostname: ${hostname}, port: 2 }`;
  const byPath = (r: Awaited<ReturnType<typeof checkLab>>) => Object.fromEntries(r.results.map((x) => [x.path, x]));

  it('every path ok: console answers a newline, Redfish power readable, SSH banner, virtual media slots ready', async () => {
    bmc.system.PowerState = 'On';
    const r = await checkLab(loadProfile(profile('rf-box', redfishPower(), "{ type: redfish-virtual-media, listen: '127.0.0.1:0' }")), { consoleQuietMs: 1000 });
    const p = byPath(r);
    expect(r.ok, JSON.stringify(r.results, null, 1)).to.equal(true);
    expect(p.console!.detail).to.match(/open, answered a newline/);
    expect(p.power!.detail).to.equal(`redfish:127.0.0.1:${bmc.port}: on`);
    expect(p.ssh!.detail).to.match(/answers \(SSH-2\.0-OpenSSH/);
    expect(p.media!.detail).to.match(/virtual media: 2 slot\(s\) \(CD, DVD, USBStick\); serving from 127\.0\.0\.1:\d+/);
    expect(bmc.sessions()).to.equal(0);
  });

  it('a console that opens but stays silent while the box is on: console failed, named', async () => {
    answering = false;
    try {
      const r = await checkLab(loadProfile(profile('rf-silent', redfishPower(), '{ type: operator }')), { consoleQuietMs: 500 });
      expect(r.ok).to.equal(false);
      expect(byPath(r).console!.status).to.equal('failed');
      expect(byPath(r).console!.detail).to.match(/open but silent for 1 s and no answer to a newline while the box is on/);
      expect(byPath(r).media!.status).to.equal('skipped');
    } finally {
      answering = true;
    }
  });

  it('a BMC certificate that does not match the pin: power and media failed, naming the BMC', async () => {
    const file = profile('rf-pin', redfishPower().replace(bmc.fingerprint, 'AB:'.repeat(31) + 'AB'), "{ type: redfish-virtual-media, listen: '127.0.0.1:0' }");
    const r = await checkLab(loadProfile(file), { consoleQuietMs: 500 });
    const p = byPath(r);
    expect(p.power!.status).to.equal('failed');
    expect(p.power!.detail).to.contain(`redfish:127.0.0.1:${bmc.port}`).and.contain('does not match the pinned');
    expect(p.media!.status).to.equal('failed');
    expect(JSON.stringify(r)).to.not.contain(PASSWORD);
  });

  it('PDU power: pdudaemon answering is ok with state unknown; SSH is tried; pdudaemon down is named', async () => {
    const ok = await checkLab(loadProfile(profile('pdu-box', pduPower(), '{ type: operator }')), { consoleQuietMs: 500 });
    expect(byPath(ok).power!.status).to.equal('ok');
    expect(byPath(ok).power!.detail).to.match(/pdu:fixture-pdu\/2 via .*: pdudaemon answers \(HTTP 404\); outlet state cannot be read back \(unknown\)/);
    expect(byPath(ok).ssh!.status).to.equal('ok');
    const down = await checkLab(loadProfile(profile('pdu-down', pduPower(`http://127.0.0.1:${await freePort()}`), '{ type: operator }')), { consoleQuietMs: 500 });
    expect(down.ok).to.equal(false);
    expect(byPath(down).power!.detail).to.match(/cannot reach pdudaemon at http:\/\/127\.0\.0\.1:\d+: .*connect ECONNREFUSED/);
  });
});
