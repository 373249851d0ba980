// The USB suite on the virtual box, through `eve-qual run --capability usb` as a user runs it, against what EVE does:
//   EVE blacklists usb_storage (blacklist-eve.conf) and its domainmgr loads it only while debug.enable.usb is true
//   (the default before onboarding; /config/GlobalConfig/global.json or a controller can set it false): a stick then
//   enumerates but has no block device, which is the box's configuration, not a missing stick;
//   the write/read-back check reads around the page cache without writing /proc/sys/vm/drop_caches, and puts the
//   stick's data back before it checks anything.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { configPartitionOf } from '../../lib/media/gpt.ts';
import type { RunResults, TestResult } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

const INSTALLER = 'amd64.kvm.generic.installer.raw';

/**
 * A copy of the fixture release whose installer carries `files` in its CONFIG partition, as EVE's
 * `docker run -v <dir>:/in lfedge/eve installer_raw` makes one, with its own sha256sums.
 */
async function releaseWithConfig(fixture: string, dir: string, files: Record<string, string>): Promise<string> {
  const rel = path.join(dir, path.basename(fixture));
  fs.mkdirSync(rel, { recursive: true });
  const image = path.join(rel, INSTALLER);
  fs.copyFileSync(path.join(fixture, INSTALLER), image);
  const target = `${image}@@${configPartitionOf(image).offset}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  for (const [name, content] of Object.entries(files)) {
    const src = path.join(dir, path.basename(name));
    fs.writeFileSync(src, content);
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) await execa('mmd', ['-D', 's', '-i', target, `::/${parts.slice(0, i).join('/')}`], { env, reject: false });
    await execa('mcopy', ['-o', '-i', target, src, `::/${name}`], { env });
  }
  const { stdout } = await execa('sha256sum', [INSTALLER], { cwd: rel });
  fs.writeFileSync(path.join(rel, 'amd64.kvm.generic.sha256sums'), `${stdout.trim()}\n`);
  return rel;
}

function result(out: string, id: string): TestResult {
  const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
  const t = res.tests.find((x) => x.id === id);
  expect(t, `${id} in ${res.tests.map((x) => x.id).join(', ')}`).to.not.equal(undefined);
  return t!;
}

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

  it("EVE loads usb_storage only while debug.enable.usb is true: with it false (CONFIG's GlobalConfig) the stick's storage check is an error naming that setting, not a hardware fail", async () => {
    const globalJson = JSON.stringify({ GlobalSettings: { 'debug.enable.usb': { Key: 'debug.enable.usb', ItemType: 2, BoolValue: false } }, AgentSettings: {} }, null, 2);
    const rel = await releaseWithConfig(release, path.join(tmp, 'usb-off'), { 'GlobalConfig/global.json': globalJson });
    const out = path.join(tmp, 'usb-off-run');
    const r = await eveQual(['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', rel, '--capability', 'usb', '--out', out]);
    expect(r.exitCode, r.all).to.equal(3);
    // EVE takes SSH keys from GlobalConfig's debug.enable.ssh when CONFIG holds global.json, ignoring authorized_keys
    // (zedagent loadGlobalConfigImpl): eve-qual put the run's key there too.
    expect(result(out, 'remote-shell/SSH with the injected key').outcome, r.all).to.equal('pass');
    expect(result(out, 'usb/stick0: enumerates').outcome, r.all).to.equal('pass');
    const storage = result(out, 'usb/stick0: stores data (written, read back, sha256)');
    expect(storage.outcome, storage.message).to.equal('error');
    expect(storage.reason).to.equal('config');
    expect(storage.message).to.contain('usb_storage');
    expect(storage.message).to.contain('debug.enable.usb');
    expect(JSON.stringify(storage.facts)).to.contain('/sys/module/usb_storage absent');
    // The fixture installer took the EFI boot entry step of EVE 16.13+ (it boots UEFI, so efivarfs mounts).
    const con = fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8');
    expect(con).to.match(/EVE-OS installation completed[^]*creating EFI boot entry for EVE-OS: \(X86_64\) \/dev\/vda EFI\\BOOT\\BOOTX64\.EFI[^]*NOTICE: Device will now power off/);
  });

  it("reads the stick back around the page cache (O_DIRECT, no /proc/sys/vm/drop_caches) and has put its data back before checking, with both recorded as facts", async () => {
    const out = path.join(tmp, 'usb-on-run');
    const r = await eveQual(['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--capability', 'usb', '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    const storage = result(out, 'usb/stick0: stores data (written, read back, sha256)');
    expect(storage.outcome, storage.message).to.equal('pass');
    const facts = storage.facts as Record<string, unknown>;
    expect(facts['read-back'], JSON.stringify(facts)).to.equal('O_DIRECT (dd iflag=direct)');
    const restored = facts['restored'] as { before: string; after: string };
    expect(restored.before).to.match(/^[0-9a-f]{64}$/);
    expect(restored.after).to.equal(restored.before);
    const sha = facts['sha256'] as { written: string; read: string };
    expect(sha.read).to.equal(sha.written);
    expect(sha.written).to.not.equal(restored.before);
  });
});
