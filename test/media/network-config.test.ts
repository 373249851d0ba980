// EVE's network config for the declared modems (lib/media/network-config.ts): the DevicePortConfig eve-qual writes
// into CONFIG, read back the way EVE's nim/dpcreconciler/mmagent read it, and written into a real installer image
// (the fixture release's) with mtools.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configPartitionOf } from '../../lib/media/gpt.ts';
import { addressMatches, configInEffect, networkConfigFor, parseDpc } from '../../lib/media/network-config.ts';
import { prepareInstaller } from '../../lib/media/prepare-installer.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { fixtureRelease, profileVariant } from '../helpers/fixture-release.ts';

const withModems = (modems: string) =>
  loadProfile(profileVariant('qemu-amd64.yaml', 'modems', [['  watchdog:', `  cellular:\n${modems}  watchdog:`]])).profile;

// The cellular example of EVE's docs/CONFIG.md ("To specify that a cellular modem should be secondary ...").
const EVE_DOCS_EXAMPLE = JSON.stringify({
  Version: 1,
  TimePriority: '2021-05-20T22:13:31.07683525Z',
  Ports: [
    { Dhcp: 4, Cost: 0, IfName: 'eth0', IsMgmt: true, Name: 'Management0' },
    {
      Dhcp: 4, Cost: 1, USBAddr: '1:1.4', PCIAddr: '0000:01:00.0', IsMgmt: true, Name: 'Management1',
      WirelessCfg: { WType: 1, CellularV2: { AccessPoints: [{ SIMSlot: 0, Activated: true, APN: 'internet' }] } },
    },
    { Dhcp: 4, Cost: 2, IfName: 'eth1', IsMgmt: true, Name: 'Management2' },
  ],
});

describe("EVE's network config for the declared modems (DevicePortConfig in CONFIG)", () => {
  it("reads EVE's documented cellular example as EVE does: the modem named by USB and PCI address, its activated APN", () => {
    const dpc = parseDpc(EVE_DOCS_EXAMPLE)!;
    expect(dpc.timePriority).to.equal('2021-05-20T22:13:31.07683525Z');
    expect(dpc.networks).to.deep.equal([{ logicalLabel: '', physAddrs: { usb: '1:1.4', pci: '0000:01:00.0', interface: '' }, apn: 'internet' }]);
    expect(addressMatches(dpc.networks[0]!.physAddrs, { usb: '1:1.4', pci: '0000:01:00.0', interface: 'wwan0' })).to.equal(true);
    expect(addressMatches(dpc.networks[0]!.physAddrs, { usb: '1:1.3', pci: '0000:01:00.0', interface: 'wwan0' })).to.equal(false);
    // EVE's deprecated Cellular list counts only without an activated CellularV2 access point; an inactive one lists nothing.
    const old = parseDpc(JSON.stringify({ Ports: [{ IfName: 'wwan1', WirelessCfg: { WType: 1, Cellular: [{ APN: 'old' }] } }] }))!;
    expect(old.networks).to.deep.equal([{ logicalLabel: 'wwan1', physAddrs: { usb: '', pci: '', interface: 'wwan1' }, apn: 'old' }]);
    const inactive = parseDpc(JSON.stringify({ Ports: [{ IfName: 'wwan1', WirelessCfg: { WType: 1, CellularV2: { AccessPoints: [{ APN: 'x' }] } } }] }))!;
    expect(inactive.networks).to.deep.equal([]);
    expect(parseDpc('{"Ports": [')).to.equal(null);
  });

  it('lists each identifiable modem with its APN beside every declared Ethernet port, and says why it leaves one out', () => {
    const profile = withModems(
      '    - { name: modem0, apn: internet, interface: wwan0 }\n    - { name: modem1, apn: lab, usbAddr: "2:1.4" }\n    - { name: modem2, apn: lab, model: EM7565 }\n    - { name: modem3, interface: wwan3 }\n',
    );
    const plan = networkConfigFor(profile, new Date('2026-12-03T10:00:00Z'));
    const dpc = JSON.parse(plan.json!) as { Version: number; TimePriority: string; Ports: Record<string, unknown>[] };
    expect(dpc.Version).to.equal(1);
    expect(dpc.TimePriority).to.equal('2026-12-03T10:00:00.000Z');
    expect(dpc.Ports.map((p) => p.IfName ?? p.USBAddr)).to.deep.equal(['eth0', 'eth1', 'wwan0', '2:1.4']);
    expect(dpc.Ports[0]).to.include({ IsMgmt: true, Dhcp: 4 });
    expect(dpc.Ports[2]!.WirelessCfg).to.deep.equal({ WType: 1, CellularV2: { AccessPoints: [{ SIMSlot: 0, Activated: true, APN: 'internet' }] }, Cellular: [{ APN: 'internet' }] });
    expect(parseDpc(plan.json!)!.networks).to.deep.equal(plan.listed);
    expect(plan.unlisted.map((u) => u.name)).to.deep.equal(['modem2', 'modem3']);
    expect(plan.unlisted[0]!.reason).to.contain('no usbAddr, pciAddr or interface');
    expect(plan.unlisted[1]!.reason).to.contain('no apn');
  });

  it('writes none when no modem can be listed, or when no Ethernet port is declared (it would take SSH away)', () => {
    expect(networkConfigFor(withModems('    - { name: modem0, model: EM7565 }\n'), new Date()).json).to.equal(null);
    const noEth = loadProfile(
      profileVariant('qemu-amd64.yaml', 'no-eth', [
        [/ {2}ethernet:\n(.*\n){2}/, ''],
        ['  watchdog:', '  cellular:\n    - { name: modem0, apn: internet, interface: wwan0 }\n  watchdog:'],
      ]),
    ).profile;
    const plan = networkConfigFor(noEth, new Date());
    expect(plan.json).to.equal(null);
    expect(plan.unlisted[0]!.reason).to.contain('declares no Ethernet port');
  });

  it("knows EVE ignores CONFIG's DevicePortConfig beside bootstrap-config.pb or once onboarded, and uses the newest file", () => {
    const a = { name: 'a.json', text: EVE_DOCS_EXAMPLE };
    const b = { name: 'b.json', text: JSON.stringify({ TimePriority: '2026-01-01T00:00:00Z', Ports: [] }) };
    expect(configInEffect({ dpcFiles: [a], bootstrapConfig: true, onboarded: false })).to.deep.include({ known: false });
    expect(configInEffect({ dpcFiles: [a], bootstrapConfig: false, onboarded: true })).to.deep.include({ known: false });
    expect(configInEffect({ dpcFiles: [a, b, { name: 'bad.json', text: '{' }], bootstrapConfig: false, onboarded: false })).to.deep.equal({ known: true, source: '/config/DevicePortConfig/b.json', networks: [] });
    expect(configInEffect({ dpcFiles: [a], bootstrapConfig: false, onboarded: false })).to.deep.include({ known: true, source: '/config/DevicePortConfig/a.json' });
  });
});

describe("prepareInstaller writes EVE's network config into the installer's CONFIG (fixture release, mtools)", function () {
  this.timeout(1_800_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-netcfg-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const mtools = (tool: string, args: string[]) => execa(tool, args, { reject: false, env: { MTOOLS_SKIP_CHECK: '1' } });

  it('puts DevicePortConfig/override.json there, and none when the release brings bootstrap-config.pb', async () => {
    const release = await fixtureRelease();
    const source = path.join(release, 'amd64.kvm.generic.installer.raw');
    const profile = withModems('    - { name: modem0, apn: internet, interface: wwan0 }\n');
    const opts = { authorizedKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture test', rebootAfterInstall: false };
    const p = await prepareInstaller(source, path.join(tmp, 'a'), profile, opts);
    expect(p.networkConfig.written).to.equal(true);
    const at = `${p.image}@@${configPartitionOf(p.image, source).offset}`;
    const back = await mtools('mtype', ['-i', at, '::/DevicePortConfig/override.json']);
    expect(back.exitCode, back.stderr).to.equal(0);
    expect(parseDpc(back.stdout)!.networks).to.deep.equal([{ logicalLabel: 'modem0', physAddrs: { usb: '', pci: '', interface: 'wwan0' }, apn: 'internet' }]);

    // A release whose CONFIG carries a controller's bootstrap config: EVE would ignore ours, so none is written.
    const withBootstrap = path.join(tmp, 'bootstrap.installer.raw');
    fs.copyFileSync(source, withBootstrap);
    const pb = path.join(tmp, 'bootstrap-config.pb');
    fs.writeFileSync(pb, Buffer.from([0x0a, 0x00]));
    expect((await mtools('mcopy', ['-i', `${withBootstrap}@@${configPartitionOf(withBootstrap, withBootstrap).offset}`, pb, '::/bootstrap-config.pb'])).exitCode).to.equal(0);
    const q = await prepareInstaller(withBootstrap, path.join(tmp, 'b'), profile, opts);
    expect(q.networkConfig).to.deep.include({ written: false });
    expect(q.networkConfig.why).to.contain('bootstrap-config.pb');
    const none = await mtools('mdir', ['-b', '-i', `${q.image}@@${configPartitionOf(q.image, withBootstrap).offset}`, '::/DevicePortConfig']);
    expect(none.exitCode).to.not.equal(0);
  });
});
