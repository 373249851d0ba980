// The USB suite on the virtual box, through `eve-qual run --capability usb` as a user runs it, against what EVE does:
//   EVE blacklists usb_storage (blacklist-eve.conf) and its domainmgr loads it only while debug.enable.usb is true
//   (the default before onboarding; /config/GlobalConfig/global.json or a controller can set it false): a stick then
//   enumerates but has no block device, which is the box's configuration, not a missing stick;
//   the write/read-back check reads around the page cache without writing /proc/sys/vm/drop_caches, and puts the
//   stick's data back before it checks anything.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { parseProfile } from '../../lib/profile/load.ts';
import type { RunResults, TestResult } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease, releaseWithConfig, profileVariant, repoRoot } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';
import { matchDeclared, type UsbDeclaration } from '../../suites/usb-match.ts';
import { parseListing } from '../../suites/usb-sysfs.ts';


function result(out: string, id: string): TestResult {
  const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
  const t = res.tests.find((x) => x.id === id);
  expect(t, `${id} in ${res.tests.map((x) => x.id).join(', ')}`).to.not.equal(undefined);
  return t!;
}

// A listing as suites/usb-sysfs.ts's script prints it on a box with two root hubs, an external hub, an FTDI adapter
// (vendor class ff, ftdi_sio bound, ttyUSB0), a second FTDI chip no driver claimed, a CDC ACM device, a keyboard,
// a stick, and EVE installed on a USB stick (its /persist mounted from it).
const PCI = '/sys/devices/pci0000:00/0000:00:14.0';
const LISTING = [
  `dev usb1 1d6b:0002 09 0 480 ${PCI}/usb1`,
  'if usb1 1-0:1.0 09:00:00 hub - -',
  `dev usb2 1d6b:0003 09 0 5000 ${PCI}/usb2`,
  'if usb2 2-0:1.0 09:00:00 hub - -',
  `dev 1-1 0403:6001 00 1 12 ${PCI}/usb1/1-1`,
  'if 1-1 1-1:1.0 ff:ff:ff ftdi_sio ttyUSB0, -',
  `dev 1-2 0403:6015 00 2 12 ${PCI}/usb1/1-2`,
  'if 1-2 1-2:1.0 ff:ff:ff - - -',
  `dev 1-3 2341:0043 02 3 12 ${PCI}/usb1/1-3`,
  'if 1-3 1-3:1.0 02:02:01 cdc_acm ttyACM0, -',
  'if 1-3 1-3:1.1 0a:00:00 cdc_acm - -',
  `dev 1-4 046d:c31c 00 4 1.5 ${PCI}/usb1/1-4`,
  'if 1-4 1-4:1.0 03:01:01 usbhid - -',
  `dev 1-5 05e3:0608 09 5 480 ${PCI}/usb1/1-5`,
  'if 1-5 1-5:1.0 09:00:00 hub - -',
  `dev 2-1 0781:5583 00 1 5000 ${PCI}/usb2/2-1`,
  'if 2-1 2-1:1.0 08:06:50 usb-storage - -',
  `dev 2-2 0781:5583 00 2 5000 ${PCI}/usb2/2-2`,
  'if 2-2 2-2:1.0 08:06:50 usb-storage - -',
  `blk sda 60063744 0 ${PCI}/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0/block/sda`,
  `blk sdb 60063744 0 ${PCI}/usb2/2-2/2-2:1.0/host1/target1:0:0/1:0:0:0/block/sdb`,
  `sys mounted-on-/persist ${PCI}/usb2/2-2/2-2:1.0/host1/target1:0:0/1:0:0:0/block/sdb`,
].join('\n');

describe('usb suite: which enumerated device a declaration stands for', () => {
  const view = parseListing(LISTING);
  const decl = (u: Partial<UsbDeclaration>): UsbDeclaration => ({ name: 'x', storage: false, ...u });
  const match = (u: Partial<UsbDeclaration>, claimed: string[] = []) => matchDeclared(view, decl(u), new Set(claimed));

  it('never a root hub: class hub matches the external hub only, and nothing once it is claimed', () => {
    expect(match({ class: 'hub' }).device?.name).to.equal('1-5');
    const m = match({ class: 'hub' }, ['1-5']);
    expect(m.device).to.equal(undefined);
    expect(m.why).to.match(/usb1 is a root hub/);
    expect(match({ vendorProduct: '1d6b:0002' }).device).to.equal(undefined);
  });

  it('serial by what the device is: CDC ACM, and a vendor-class FTDI adapter only with a usb-serial driver bound', () => {
    expect(match({ class: 'serial' }).device?.name).to.equal('1-1');
    expect(match({ class: 'serial' }, ['1-1']).device?.name).to.equal('1-3');
    expect(match({ class: 'serial', vendorProduct: '0403:6015' }).device).to.equal(undefined);
    expect(match({ class: 'network' }).device).to.equal(undefined);
    expect(match({ class: 'hid' }).device?.name).to.equal('1-4');
  });

  it('never the disk EVE runs from, and only on the declared port', () => {
    expect(match({ class: 'mass-storage' }).device?.name).to.equal('2-1');
    const persist = match({ class: 'mass-storage', port: '2-2' });
    expect(persist.device).to.equal(undefined);
    expect(persist.why).to.match(/2-2 holds a disk EVE runs from \(mounted-on-\/persist/);
    const elsewhere = match({ vendorProduct: '0781:5583', port: '2-3' });
    expect(elsewhere.why).to.contain('found on 2-1');
  });

  it('a declaration without an identity matches nothing, and the profile refuses it', () => {
    expect(match({ port: '2-1' }).device).to.equal(undefined);
    const text = fs.readFileSync(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'), 'utf8').replace(/^( {4}- \{ name: stick0).*$/m, '$1, port: 2-1 }');
    expect(() => parseProfile(text, 'qemu-amd64.yaml')).to.throw(ConfigError, /qemu-amd64\.yaml:\d+:\d+: hardware\.usb\[0\]: declares neither vendorProduct nor class/);
  });
});

describe('usb suite on the virtual box (EVE behaviours)', function () {
  this.timeout(1_800_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-usb-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => expect(runningProcesses(/^qemu-system/, tmp), 'a qemu process was left behind').to.deep.equal([]));

  it("EVE loads usb_storage only while debug.enable.usb is true: with it false (CONFIG's GlobalConfig) the stick's size and storage checks are an error naming that setting, not a hardware fail; a declared speed the stick does not run at fails the speed check alone", async () => {
    const globalJson = JSON.stringify({ GlobalSettings: { 'debug.enable.usb': { Key: 'debug.enable.usb', ItemType: 2, BoolValue: false } }, AgentSettings: {} }, null, 2);
    const rel = await releaseWithConfig(release, path.join(tmp, 'usb-off'), { 'GlobalConfig/global.json': globalJson });
    const out = path.join(tmp, 'usb-off-run');
    // The stick runs at USB 3's 5000 Mbps; this profile says 480 (USB 2).
    const profile = profileVariant('qemu-amd64.yaml', 'usb-480', [['speedMbps: 5000', 'speedMbps: 480']]);
    const r = await eveQual(['run', '--profile', profile, '--release', rel, '--capability', 'usb', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    // EVE takes SSH keys from GlobalConfig's debug.enable.ssh when CONFIG holds global.json, ignoring authorized_keys
    // (zedagent loadGlobalConfigImpl): eve-qual put the run's key there too.
    expect(result(out, 'remote-shell/ssh-key').outcome, r.all).to.equal('pass');
    expect(result(out, 'usb/stick0/enumerates').outcome, r.all).to.equal('pass');
    const storage = result(out, 'usb/stick0/stores-data');
    expect(storage.outcome, storage.message).to.equal('error');
    expect(storage.reason).to.equal('config');
    expect(storage.message).to.contain('usb_storage');
    expect(storage.message).to.contain('debug.enable.usb');
    expect(JSON.stringify(storage.facts)).to.contain('/sys/module/usb_storage absent');
    const size = result(out, 'usb/stick0/size');
    expect([size.outcome, size.reason], size.message).to.deep.equal(['error', 'config']);
    const speed = result(out, 'usb/stick0/speed');
    expect(speed.outcome, speed.message).to.equal('fail');
    expect(speed.message).to.contain('runs at 5000 Mbps (/sys/bus/usb/devices/2-1/speed), not the 480 Mbps declared');
    expect(speed.facts).to.deep.equal({ 'declared-Mbps': 480, 'negotiated-Mbps': 5000 });
    // The fixture installer took the EFI boot entry step of EVE 16.13+ (it boots UEFI, so efivarfs mounts).
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8');
    expect(con).to.match(/EVE-OS installation completed[^]*creating EFI boot entry for EVE-OS: \(X86_64\) \/dev\/vda EFI\\BOOT\\BOOTX64\.EFI[^]*NOTICE: Device will now power off/);
  });

  it('matches each declared device by identity and port, never a root hub; a smaller stick fails only its size, a stick in another port does not enumerate, a write-protected stick does not store data; a healthy stick is read back around the page cache after its data was put back', async () => {
    const usb = [
      '  usb:',
      '    - { name: hub0, class: hub }',
      '    - { name: small, class: mass-storage, vendorProduct: 46f4:0001, port: 2-1, speedMbps: 5000, storage: true, sizeMb: 64 }',
      '    - { name: moved, class: mass-storage, vendorProduct: 46f4:0001, port: 2-4, storage: true, sizeMb: 64 }',
      '    - { name: readonly, class: mass-storage, vendorProduct: 46f4:0001, port: 2-2, speedMbps: 5000, storage: true, sizeMb: 64 }',
    ].join('\n');
    const profile = profileVariant('qemu-amd64.yaml', 'usb-defects', [
      [/^  usb:\n(    - .*\n)+/m, `${usb}\n`],
      ['  defects: []', '  defects:\n    - { plug: usb.small, sizeMb: 16 }\n    - { plug: usb.moved, port: 2-3 }\n    - { plug: usb.readonly, readOnly: true }'],
    ]);
    const out = path.join(tmp, 'usb-defects-run');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'usb', '--out', out]);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const usbTests = res.tests.filter((t) => t.capability === 'usb');
    const outcome = Object.fromEntries(usbTests.map((t) => [t.id, t.outcome]));
    // Every behaviour is compared at once, so one run shows all that differ.
    expect(outcome, r.all).to.deep.equal({
      'usb/hub0/enumerates': 'fail',
      'usb/small/enumerates': 'pass',
      'usb/small/speed': 'pass',
      'usb/small/size': 'fail',
      'usb/small/stores-data': 'pass',
      'usb/moved/enumerates': 'fail',
      'usb/moved/size': 'fail',
      'usb/moved/stores-data': 'fail',
      'usb/readonly/enumerates': 'pass',
      'usb/readonly/speed': 'pass',
      'usb/readonly/size': 'pass',
      'usb/readonly/stores-data': 'fail',
    });
    expect(r.exitCode, r.all).to.equal(1);
    const facts = (id: string) => result(out, id).facts as Record<string, unknown>;
    // The hub declaration saw the root hubs and refused them.
    expect(JSON.stringify(facts('usb/hub0/enumerates')), 'root hubs named as excluded').to.match(/usb1[^"]*root hub/);
    // The disks EVE runs from were found (the install disk, /persist's) and are not on USB.
    const eveDisks = (facts('usb/small/enumerates')['eve-disks'] as string[]).join('\n');
    expect(eveDisks).to.match(/^install\.disk: \/sys\/devices\/pci[^\n]*\/block\/vda$/m);
    expect(eveDisks).to.match(/^mounted-on-\/persist: \/sys\/devices\/pci[^\n]*\/block\/vda$/m);
    // The stick in another port is named where it is.
    expect(result(out, 'usb/moved/enumerates').message).to.contain('2-3');
    const size = facts('usb/small/size');
    expect(size['declared-MB'], JSON.stringify(size)).to.equal(64);
    expect(size['sectors']).to.equal((16 * 1024 * 1024) / 512);
    expect(result(out, 'usb/small/size').message).to.match(/16\.8 MB/);
    const ro = result(out, 'usb/readonly/stores-data');
    expect(ro.message).to.match(/write-protected/);
    expect((ro.facts as Record<string, unknown>)['ro']).to.match(/\/sys\/block\/sd[a-z]+\/ro = 1/);
    expect(facts('usb/readonly/enumerates')['matched']).to.include({ port: '2-2' });
    expect(facts('usb/small/speed')).to.deep.include({ 'declared-Mbps': 5000, 'negotiated-Mbps': 5000 });
    // The healthy write: around the page cache, restored before checking, both recorded.
    const stored = facts('usb/small/stores-data');
    expect(stored['read-back'], JSON.stringify(stored)).to.equal('O_DIRECT (dd iflag=direct)');
    const restored = stored['restored'] as { before: string; after: string };
    expect(restored.before).to.match(/^[0-9a-f]{64}$/);
    expect(restored.after).to.equal(restored.before);
    const sha = stored['sha256'] as { written: string; read: string };
    expect(sha.read).to.equal(sha.written);
    expect(sha.written).to.not.equal(restored.before);
  });
});
