// Releases: the installer located and verified before anything touches a box, in both naming schemes, and EVE 17's
// zstd-compressed images decompressed as a stream into the run's working copy.
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { findConfigPartition, readGpt } from '../../lib/media/gpt.ts';
import { prepareInstaller } from '../../lib/media/prepare-installer.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { parseInstallerName } from '../../lib/release/asset-names.ts';
import { locateLocalRelease } from '../../lib/release/local-release.ts';
import { eveQual, fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

describe('releases', function () {
  this.timeout(600_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-release-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('knows both naming schemes', () => {
    expect(parseInstallerName('amd64.kvm.generic.installer.raw.zst')).to.include({ arch: 'amd64', hv: 'kvm', platform: 'generic', compressed: true, sums: 'amd64.kvm.generic.sha256sums' });
    expect(parseInstallerName('arm64.installer.img')).to.include({ arch: 'arm64', scheme: 'legacy' });
    expect(parseInstallerName('amd64.rootfs.img')).to.equal(null);
  });

  it('eve-qual release verify: ok for the fixture, exit 2 for a corrupt copy', async () => {
    const ok = await eveQual(['release', 'verify', release, '--arch', 'amd64']);
    expect(ok.exitCode, ok.all).to.equal(0);
    expect(ok.all).to.contain('matches amd64.kvm.generic.sha256sums').and.contain('0.0.0-fixture-kvm-amd64');
    const dir = path.join(tmp, 'corrupt', '0.0.0-fixture');
    fs.mkdirSync(dir, { recursive: true });
    for (const f of ['amd64.kvm.generic.installer.raw', 'amd64.kvm.generic.sha256sums']) fs.copyFileSync(path.join(release, f), path.join(dir, f));
    fs.appendFileSync(path.join(dir, 'amd64.kvm.generic.installer.raw'), 'x');
    const bad = await eveQual(['release', 'verify', dir, '--arch', 'amd64']);
    expect(bad.exitCode).to.equal(2);
    expect(bad.all).to.contain('does not match');
  });

  it('a .raw.zst installer verifies and is decompressed into the working copy with the CONFIG written', async () => {
    const dir = path.join(tmp, 'zst', '17.0.0');
    fs.mkdirSync(dir, { recursive: true });
    const zst = path.join(dir, 'amd64.kvm.generic.installer.raw.zst');
    await execa('zstd', ['-q', '-o', zst, path.join(release, 'amd64.kvm.generic.installer.raw')]);
    const sum = createHash('sha256').update(fs.readFileSync(zst)).digest('hex');
    fs.writeFileSync(path.join(dir, 'amd64.kvm.generic.sha256sums'), `${sum}  amd64.kvm.generic.installer.raw.zst\n`);
    const r = await eveQual(['release', 'verify', dir, '--arch', 'amd64']);
    expect(r.exitCode, r.all).to.equal(0);
    const located = locateLocalRelease(dir, 'amd64');
    expect(located.installer.compressed).to.equal(true);
    expect(located.expectedEveRelease).to.equal('17.0.0-kvm-amd64');
    const profile = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml')).profile;
    const work = path.join(tmp, 'work');
    const prepared = await prepareInstaller(zst, work, profile, { authorizedKey: 'ssh-ed25519 AAAAtest eq@test', rebootAfterInstall: false });
    const config = findConfigPartition(readGpt(prepared.image))!;
    const keys = await execa('mtype', ['-i', `${prepared.image}@@${config.offset}`, '::/authorized_keys'], { env: { MTOOLS_SKIP_CHECK: '1' } });
    expect(keys.stdout.trim()).to.equal('ssh-ed25519 AAAAtest eq@test');
    const grub = await execa('mtype', ['-i', `${prepared.image}@@${config.offset}`, '::/grub.cfg'], { env: { MTOOLS_SKIP_CHECK: '1' } });
    expect(grub.stdout).to.contain('set_global dom0_console "console=tty0 console=ttyS0,115200"').and.contain('eve_install_disk=vda');
  });

  it('a truncated .zst is a config error naming the file', async () => {
    const zst = path.join(tmp, 'trunc.raw.zst');
    await execa('zstd', ['-q', '-o', zst, path.join(release, 'amd64.kvm.generic.installer.raw')]);
    fs.truncateSync(zst, 10_000);
    const profile = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml')).profile;
    const err = await prepareInstaller(zst, path.join(tmp, 'work2'), profile, { authorizedKey: 'k', rebootAfterInstall: false }).catch((e) => e);
    expect(err).to.be.instanceOf(ConfigError);
    expect(err.message).to.contain('trunc.raw.zst');
  });
});
