// The example real-box profiles validate, and their power, console and media sections build the drivers they name
// (nothing is contacted: building resolves secrets and checks fields only).
import { expect } from 'chai';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleLinkFor } from '../../lib/lab/console-link.ts';
import { createRedfishVirtualMedia } from '../../lib/media/redfish-virtual-media.ts';
import { createPower } from '../../lib/power/create-power.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { realBoxFromProfile } from '../../lib/box/create-box.ts';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'hardware-profiles', 'examples');

describe('example real-box profiles', () => {
  before(() => {
    process.env.EQ_IPC1_BMC_PASSWORD = 'example-only';
    process.env.EQ_SRV1_BMC_PASSWORD = 'example-only';
  });
  after(() => {
    delete process.env.EQ_IPC1_BMC_PASSWORD;
    delete process.env.EQ_SRV1_BMC_PASSWORD;
  });

  it('x86 industrial PC: Redfish power and virtual media, serial console, two NICs, an LTE modem', async () => {
    const loaded = loadProfile(path.join(examples, 'x86-ipc-bmc.yaml'));
    const p = loaded.profile;
    expect(p.box).to.include({ arch: 'amd64', kind: 'real' });
    expect(p.hardware.ethernet.map((e) => e.name)).to.deep.equal(['eth0', 'eth1']);
    expect(p.hardware.cellular).to.have.length(1);
    const power = createPower(p.power, { profileDir: loaded.dir, box: p.box.name });
    expect(power.where).to.equal('redfish:10.20.0.31');
    expect(consoleLinkFor(loaded).name).to.match(/usb-FTDI/);
    const media = createRedfishVirtualMedia(p, { profileDir: loaded.dir });
    expect(media.where).to.equal('redfish:10.20.0.31');
    await power.close?.();
  });

  it('ARM gateway: console through ser2net (RFC 2217), PDU power, watchdog and a USB port', () => {
    const loaded = loadProfile(path.join(examples, 'arm-gateway-pdu.yaml'));
    const p = loaded.profile;
    expect(p.box).to.include({ arch: 'arm64', kind: 'real' });
    expect(p.hardware.watchdog?.driver).to.equal('sp805-wdt');
    expect(p.hardware.usb).to.have.length(1);
    const power = createPower(p.power, { profileDir: loaded.dir, box: p.box.name });
    expect(power.where).to.equal('pdu:rack2-pdu/7 via pdu-svc.lab.example:16421');
    expect(power.readsState).to.equal(false);
    expect(consoleLinkFor(loaded).name).to.equal('tcp:lab-ts1.lab.example:4003 (rfc2217)');
  });

  it('x86 server board: IPMI power and SOL console, the installer netbooted over iPXE; builds as a real box', async () => {
    const loaded = loadProfile(path.join(examples, 'x86-netboot-ipmi.yaml'));
    const p = loaded.profile;
    expect(p.media).to.deep.equal({ type: 'ipxe-http', listen: '10.20.0.5:8088' });
    const box = realBoxFromProfile(loaded, { consoleLog: '/dev/null', say: () => undefined });
    expect(box.media.method).to.equal('ipxe-http');
    expect(box.power.where).to.match(/10\.20\.0\.33/);
    expect(box.console.where).to.match(/10\.20\.0\.33/);
    expect(box.sshEndpoint()).to.deep.equal({ host: '10.20.0.43', port: 22 });
    await box.close();
  });
});
