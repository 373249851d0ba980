// The ipxe-http boot media method: the release's netboot set served over HTTP with an iPXE script, its installer.iso
// remastered with the harness's CONFIG (EVE's installer installs the ISO's config.img; the served config.img reaches
// only GRUB); then a real netboot: a QEMU amd64 VM (q35 + OVMF) boots the fixture's installer-net set (laid out as
// EVE's: iPXE chains GRUB, GRUB loop-mounts installer.iso) through QEMU's own iPXE option ROM, the installer installs
// to the VM's disk, and the VM boots that disk with the injected SSH key and serial console.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { qemuCommand, slirpGuestUrl } from '../../lib/box/qemu-machine.ts';
import { NetbootVirtualBox, virtualBoxWithMedia } from '../../lib/box/virtual-box.ts';
import { ConfigError } from '../../lib/errors.ts';
import { installRelease, type InstallOutcome } from '../../lib/install/install-release.ts';
import { StepLog } from '../../lib/install/steps.ts';
import type { InstallerMedia } from '../../lib/media/boot-media.ts';
import { IpxeHttpMedia, installerScript } from '../../lib/media/ipxe-http-media.ts';
import { findIsoFile } from '../../lib/media/iso9660.ts';
import { sha256File } from '../../lib/release/checksum.ts';
import { prepareInstaller } from '../../lib/media/prepare-installer.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import type { Profile } from '../../lib/profile/schema.ts';
import { locateLocalRelease, verifyRelease } from '../../lib/release/local-release.ts';
import { createRunKey, type RunKey } from '../../lib/run/run-key.ts';
import { freeLoopbackPort } from '../../lib/util/ports.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

/** GET a path of a local server, with an optional Host header; resolves with the status and body. */
function get(url: string, host?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: host ? { Host: host } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
  });
}

const MTOOLS = { env: { MTOOLS_SKIP_CHECK: '1' } };
const KEY_LINE = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHarnessKeyOfThisRun eve-qual@test\n';

/** A 1 MiB FAT labelled CONFIG holding `files` (name → content; a name may have one folder). */
async function configFat(file: string, files: Record<string, string>): Promise<Buffer> {
  fs.rmSync(file, { force: true });
  await execa('mkfs.vfat', ['-n', 'CONFIG', '-C', file, '1024']);
  for (const [name, content] of Object.entries(files)) {
    if (name.includes('/')) await execa('mmd', ['-D', 's', '-i', file, `::/${name.split('/')[0]}`], { ...MTOOLS, reject: false });
    const src = `${file}.${name.replace(/\//g, '_')}`;
    fs.writeFileSync(src, content);
    await execa('mcopy', ['-o', '-i', file, src, `::/${name}`], MTOOLS);
  }
  return fs.readFileSync(file);
}

/** A 3 MiB GPT disk image whose partition 1 is named CONFIG: a FAT with the harness's files, as prepareInstaller leaves it. */
async function imageWithConfig(dir: string): Promise<{ image: string; config: Buffer }> {
  const image = path.join(dir, 'installer.raw');
  fs.writeFileSync(image, Buffer.alloc(3 << 20));
  await execa('sfdisk', ['-q', image], { input: 'label: gpt\nstart=2048, size=2048, name="CONFIG"\n' });
  const config = await configFat(path.join(dir, 'prepared-config.img'), { authorized_keys: KEY_LINE, 'grub.cfg': 'set_getty\n', 'GlobalConfig/global.json': '{}\n' });
  const fd = fs.openSync(image, 'r+');
  fs.writeSync(fd, config, 0, config.length, 2048 * 512);
  fs.closeSync(fd);
  return { image, config };
}

/** `file` from the FAT inside an ISO's config.img, or undefined when it has none. */
async function fromIsoConfig(iso: string, file: string): Promise<string | undefined> {
  const ext = findIsoFile(iso, 'config.img');
  if (!ext) return undefined;
  const r = await execa('mtype', ['-i', `${iso}@@${ext.offset}`, `::/${file}`], { ...MTOOLS, reject: false });
  return r.exitCode === 0 ? r.stdout : undefined;
}

/** A netboot tar as EVE's installer_net makes it (ipxe.efi.cfg, GRUB, installer.iso with its own config.img), listed in sums. */
async function netbootTar(dir: string, release: string, o: { isoConfig: boolean; listed: boolean }): Promise<void> {
  const set = path.join(dir, `set-${path.basename(release)}`);
  fs.mkdirSync(path.join(set, 'EFI', 'BOOT'), { recursive: true });
  fs.writeFileSync(path.join(set, 'ipxe.efi.cfg'), SET_CFG);
  fs.writeFileSync(path.join(set, 'kernel'), 'KERNEL');
  fs.writeFileSync(path.join(set, 'initrd.img'), 'INITRD');
  fs.writeFileSync(path.join(set, 'config.img'), 'THE RELEASE CONFIG');
  fs.writeFileSync(path.join(set, 'EFI', 'BOOT', 'BOOTX64.EFI'), 'GRUB');
  const isoConfig = path.join(dir, `iso-config-${path.basename(release)}.img`);
  await configFat(isoConfig, { 'server': 'zedcloud.example.org\n' });
  const parts = [`boot/kernel=${path.join(set, 'kernel')}`, ...(o.isoConfig ? [`config.img=${isoConfig}`] : [])];
  await execa('node', [path.join(repoRoot, 'tools', 'fixtures', 'ipxe', 'mkiso.mjs'), path.join(set, 'installer.iso'), 'EVEISO', ...parts]);
  fs.mkdirSync(release, { recursive: true });
  const tar = path.join(release, 'amd64.kvm.generic.installer-net.tar');
  await execa('tar', ['-C', set, '-cf', tar, '.']);
  const sums = o.listed ? `${await sha256File(tar)}  amd64.kvm.generic.installer-net.tar\n` : '';
  fs.writeFileSync(path.join(release, 'amd64.kvm.generic.sha256sums'), `${'0'.repeat(64)}  amd64.kvm.generic.installer.raw\n${sums}`);
}

const SET_CFG = [
  '#!ipxe',
  '# set url https://example.org/',
  'set url https://releases.example.org/eve/',
  'kernel ${url}kernel console=ttyS0 console=hvc0 find_boot=netboot eve_installer_url=${url} initrd=initrd.img',
  'initrd ${url}initrd.img',
  'boot',
  '',
].join('\n');

describe('ipxe-http media: the netboot set served with the harness arguments', function () {
  this.timeout(30_000);
  let dir: string;
  let release: string;
  let media: InstallerMedia;
  let config: Buffer;
  const said: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-ipxe-'));
    release = path.join(dir, '1.2.3');
    await netbootTar(dir, release, { isoConfig: true, listed: true });
    const img = await imageWithConfig(dir);
    config = img.config;
    media = {
      image: img.image,
      kernelArgs: ['console=tty0', 'console=ttyS0,115200', 'getty', 'eve_install_disk=vda', 'eve_disable_verify'],
      releaseDir: release,
      arch: 'amd64',
    };
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a release without a netboot set is a ConfigError naming the folder and the names it looked for', async () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'amd64.kvm.generic.installer.raw'), '');
    const m = new IpxeHttpMedia({ listen: '127.0.0.1:0' });
    try {
      const err = await m.attach({ ...media, releaseDir: empty }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).to.contain(empty);
      expect(msg).to.contain('amd64.kvm.generic.installer-net.tar');
      expect(msg).to.contain('amd64.ipxe.efi.cfg');
      expect(msg).to.contain('amd64.kernel');
    } finally {
      await m.close();
    }
  });

  it('a listen address in use is a ConfigError naming it', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const listen = `127.0.0.1:${(busy.address() as net.AddressInfo).port}`;
    const m = new IpxeHttpMedia({ listen });
    try {
      const err = await m.attach(media).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(listen).and.to.contain('in use');
    } finally {
      await m.close();
      busy.close();
    }
  });

  it('serves the set and the prepared CONFIG; eve-qual.ipxe boots its kernel with the harness arguments, then exits once detached', async () => {
    const m = new IpxeHttpMedia({ listen: '127.0.0.1:0', box: 'box1', say: (l) => said.push(l) });
    let base = '';
    try {
      await m.attach(media);
      const url = m.scriptUrl!;
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/eve-qual\.ipxe$/);
      expect(said.join('\n')).to.contain(`the box must chain ${url}`);

      // As a VM on QEMU user networking asks for it: the script's url is the address the box reached.
      const script = (await get(url, '10.0.2.2:4242')).body.toString();
      const lines = script.split('\n');
      expect(lines[0]).to.equal('#!ipxe');
      expect(lines).to.include('set url http://10.0.2.2:4242/');
      expect(lines.filter((l) => /^\s*set url/.test(l))).to.have.length(1);
      const kernel = lines.find((l) => l.startsWith('kernel '))!;
      expect(kernel).to.equal(
        'kernel ${url}kernel find_boot=netboot eve_installer_url=${url} initrd=initrd.img console=tty0 console=ttyS0,115200 getty eve_install_disk=vda eve_disable_verify',
      );
      expect(lines).to.include('initrd ${url}initrd.img');
      expect(lines[lines.length - 2]).to.equal('boot');

      base = m.base!;
      expect((await get(`${base}kernel`)).body.toString()).to.equal('KERNEL');
      expect((await get(`${base}EFI/BOOT/BOOTX64.EFI`)).body.toString()).to.equal('GRUB');
      const served = (await get(`${base}config.img`)).body;
      expect(served.equals(config), 'config.img is the prepared CONFIG partition, not the release one').to.equal(true);
      expect((await get(`${base}ipxe.efi.cfg`)).body.toString()).to.equal(SET_CFG);
      expect((await get(`${base}../etc/passwd`)).status).to.equal(404);
      expect((await get(`${base}nothing`)).status).to.equal(404);
      expect(said.join('\n')).to.contain('fetched kernel');

      await m.detach();
      const after = (await get(url)).body.toString();
      expect(after).to.match(/^#!ipxe\n/);
      expect(after).to.contain('\nexit');
      expect(after).not.to.contain('kernel');
    } finally {
      await m.close();
    }
    const gone = await get(base).then(
      () => 'answered',
      () => 'refused',
    );
    expect(gone).to.equal('refused');
  });

  it("EVE netboot: the installer installs installer.iso's own config.img, so the served set's ISO carries the prepared CONFIG (as installer_net -v dir:/in), read back before serving", async () => {
    const m = new IpxeHttpMedia({ listen: '127.0.0.1:0', say: (l) => said.push(l) });
    try {
      await m.attach(media);
      const iso = path.join(dir, 'served.iso');
      fs.writeFileSync(iso, (await get(`${m.base}installer.iso`)).body);
      expect(await fromIsoConfig(iso, 'authorized_keys')).to.equal(KEY_LINE.trim());
      expect(await fromIsoConfig(iso, 'grub.cfg')).to.equal('set_getty');
      expect(await fromIsoConfig(iso, 'GlobalConfig/global.json')).to.equal('{}');
      // What the release's CONFIG held and the prepared one does not name stays, as mcopy -o of /in leaves it.
      expect(await fromIsoConfig(iso, 'server')).to.equal('zedcloud.example.org');
      expect(said.join('\n')).to.contain('verified against amd64.kvm.generic.sha256sums');
      expect(said.join('\n')).to.match(/installer\.iso of amd64\.kvm\.generic\.installer-net\.tar remastered with the prepared CONFIG \(GlobalConfig\/global\.json, authorized_keys, grub\.cfg; read back and compared\), sha256 [0-9a-f]{64}/);
    } finally {
      await m.close();
    }
    // The release's own tar is untouched: the remaster works on the unpacked copy.
    const again = path.join(dir, 'again');
    fs.mkdirSync(again);
    await execa('tar', ['-xf', path.join(release, 'amd64.kvm.generic.installer-net.tar'), '-C', again]);
    expect(await fromIsoConfig(path.join(again, 'installer.iso'), 'authorized_keys')).to.equal(undefined);
  });

  it('a netboot tar its sha256sums does not list, or whose installer.iso carries no config.img, is a ConfigError before anything is served', async () => {
    for (const [name, o, want] of [
      ['unlisted', { isoConfig: true, listed: false }, /sha256sums does not list amd64\.kvm\.generic\.installer-net\.tar/],
      ['noconfig', { isoConfig: false, listed: true }, /installer\.iso of amd64\.kvm\.generic\.installer-net\.tar carries no config\.img/],
    ] as const) {
      const rel = path.join(dir, name, '1.2.3');
      await netbootTar(path.join(dir, name), rel, o);
      const m = new IpxeHttpMedia({ listen: '127.0.0.1:0' });
      try {
        const err = await m.attach({ ...media, releaseDir: rel }).then(() => null, (e: unknown) => e);
        expect(err, name).to.be.instanceOf(ConfigError);
        expect((err as Error).message).to.match(want);
        expect(m.scriptUrl && (await get(m.scriptUrl)).body.toString()).not.to.contain('chain');
      } finally {
        await m.close();
      }
    }
  });

  it("serves an older release's loose files under their own names (url ends with <arch>.)", async () => {
    const old = path.join(dir, '7.1.0');
    fs.mkdirSync(old);
    fs.writeFileSync(path.join(old, 'amd64.ipxe.efi.cfg'), '#!ipxe\nkernel ${url}kernel initrd=amd64.initrd.img\ninitrd ${url}initrd.img\nboot\n');
    fs.writeFileSync(path.join(old, 'amd64.kernel'), 'OLDKERNEL');
    fs.writeFileSync(path.join(old, 'amd64.initrd.img'), 'OLDINITRD');
    fs.writeFileSync(path.join(old, 'amd64.initrd.bits'), 'BITS');
    const m = new IpxeHttpMedia({ listen: '127.0.0.1:0' });
    try {
      await m.attach({ ...media, releaseDir: old });
      const script = (await get(m.scriptUrl!)).body.toString();
      expect(script).to.contain(`set url ${m.base}amd64.`);
      expect((await get(`${m.base}amd64.kernel`)).body.toString()).to.equal('OLDKERNEL');
      expect((await get(`${m.base}amd64.initrd.bits`)).body.toString()).to.equal('BITS');
    } finally {
      await m.close();
    }
  });

  it('a script that chains GRUB is left as it is (the arguments travel in config.img), and spaces in an argument are refused', () => {
    const r = installerScript('#!ipxe\nset url https://x/\niseq ${buildarch} x86_64 && chain ${url}EFI/BOOT/BOOTX64.EFI\nboot\n', {
      url: 'http://h:1/',
      kernelArgs: ['getty'],
      title: 't',
    });
    expect(r.kernelLines).to.equal(0);
    expect(r.text).to.contain('iseq ${buildarch} x86_64 && chain ${url}EFI/BOOT/BOOTX64.EFI');
    expect(() => installerScript(SET_CFG, { url: 'http://h:1/', kernelArgs: ['a b'], title: 't' })).to.throw(ConfigError);
  });

  it("the fixture's installer-net.tar is laid out as EVE's installer_net: ipxe.efi.cfg chains GRUB (no kernel line), GRUB's grub.cfg loop-mounts installer.iso, which carries its own config.img", async function () {
    this.timeout(600_000);
    const fixture = await fixtureRelease();
    for (const arch of ['amd64', 'arm64'] as const) {
      const loader = arch === 'amd64' ? 'BOOTX64.EFI' : 'BOOTAA64.EFI';
      const tar = path.join(fixture, `${arch}.kvm.generic.installer-net.tar`);
      const names = (await execa('tar', ['-tf', tar])).stdout.split('\n').filter((n) => !n.endsWith('/'));
      expect(names).to.have.members(['ipxe.efi.cfg', `EFI/BOOT/${loader}`, 'EFI/BOOT/grub.cfg', 'installer.iso']);
      const out = path.join(dir, `fixture-net-${arch}`);
      fs.mkdirSync(out, { recursive: true });
      await execa('tar', ['-xf', tar, '-C', out]);
      const cfg = fs.readFileSync(path.join(out, 'ipxe.efi.cfg'), 'utf8');
      expect(cfg.split('\n').filter((l) => /^\s*kernel\s/.test(l))).to.deep.equal([]);
      expect(cfg).to.contain(`chain \${url}EFI/BOOT/${loader}`);
      expect(fs.readFileSync(path.join(out, 'EFI', 'BOOT', 'grub.cfg'), 'utf8')).to.match(/^loopback loop0 \(\$cmddevice\)\/installer\.iso$/m);
      const iso = path.join(out, 'installer.iso');
      for (const f of ['boot/kernel', 'boot/initrd.img', 'EFI/BOOT/grub.cfg', 'config.img']) expect(findIsoFile(iso, f), f).not.to.equal(undefined);
      const label = await execa('mlabel', ['-s', '-i', `${iso}@@${findIsoFile(iso, 'config.img')!.offset}`, '::'], MTOOLS);
      expect(label.stdout).to.contain('CONFIG');
    }
  });

  it('a virtual arm64 box cannot netboot (QEMU ships x86 iPXE ROMs only): ConfigError before anything starts', () => {
    const arm = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-arm64.yaml')).profile;
    const p: Profile = { ...arm, media: { type: 'ipxe-http', listen: '127.0.0.1:0' } };
    expect(() => virtualBoxWithMedia(p, { stateDir: path.join(dir, 'arm'), sshPort: 1 })).to.throw(ConfigError, /arm64/);
    expect(fs.existsSync(path.join(dir, 'arm'))).to.equal(false);
  });

  it('QEMU: the NIC hands out the script URL (loopback as 10.0.2.2) and boots first', () => {
    expect(slirpGuestUrl('http://127.0.0.1:8080/eve-qual.ipxe')).to.equal('http://10.0.2.2:8080/eve-qual.ipxe');
    expect(slirpGuestUrl('http://192.168.1.5:8080/eve-qual.ipxe')).to.equal('http://192.168.1.5:8080/eve-qual.ipxe');
    const { args } = qemuCommand({
      arch: 'amd64', memoryMb: 512, cpus: 1, accel: 'tcg', firmware: { code: 'c', vars: 'v' }, disks: [],
      nics: [{ id: 'n0', model: 'virtio-net-pci', bootFile: 'http://10.0.2.2:1/eve-qual.ipxe', bootIndex: 0 }],
      consoleSocket: 's', qmpSocket: 'q',
    });
    expect(args).to.include('user,id=n0,bootfile=http://10.0.2.2:1/eve-qual.ipxe');
    expect(args).to.include('virtio-net-pci,netdev=n0,bootindex=0');
  });
});

describe("EVE netboot: kernel args appended by iPXE go nowhere; the installer installs the image's own CONFIG (QEMU iPXE chaining GRUB, fixture installer-net set)", function () {
  this.timeout(900_000);
  let dir: string;
  let key: RunKey;
  let box: NetbootVirtualBox;
  let outcome: InstallOutcome | undefined;
  let profile: Profile;
  const said: string[] = [];
  const progress: string[] = [];

  before(async () => {
    const releaseDir = await fixtureRelease();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-ipxe-vm-'));
    const loaded = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'));
    // The profile loader only lets virtual boxes use media virtual today; the method itself does not care.
    profile = { ...loaded.profile, media: { type: 'ipxe-http', listen: '127.0.0.1:0' } };
    const release = locateLocalRelease(releaseDir, 'amd64');
    await verifyRelease(release);
    key = createRunKey('eve-qual@ipxe-test');
    const prepared = await prepareInstaller(release.installerPath, path.join(dir, 'media'), profile, { authorizedKey: key.publicKey, rebootAfterInstall: false });
    const made = virtualBoxWithMedia(profile, { stateDir: path.join(dir, 'state'), consoleLog: path.join(dir, 'console.log'), sshPort: await freeLoopbackPort(), say: (l) => said.push(l) });
    expect(made).to.be.instanceOf(NetbootVirtualBox);
    box = made as NetbootVirtualBox;
    outcome = await installRelease(box, {
      profile,
      release,
      media: { image: prepared.image, kernelArgs: prepared.kernelArgs, releaseDir: release.dir, arch: 'amd64' },
      privateKeyFile: key.privateKeyFile,
      recordHostKeyTo: [path.join(dir, 'ssh_host_key')],
      steps: new StepLog(path.join(dir, 'steps.log'), (l) => progress.push(l)),
    });
  });

  after(async () => {
    await outcome?.ssh.close();
    await box?.close();
    key?.dispose();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("booted the installer through QEMU's iPXE, GRUB and the served installer.iso, with no installer disk attached", () => {
    const con = fs.readFileSync(path.join(dir, 'console.log'), 'utf8');
    expect(con).to.match(/iPXE/);
    expect(con).to.match(/http:\/\/10\.0\.2\.2:\d+\/eve-qual\.ipxe/);
    expect(con).to.match(/http:\/\/10\.0\.2\.2:\d+\/EFI\/BOOT\/BOOTX64\.EFI/);
    expect(con).to.match(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d : EVE-OS installation started/);
    expect(con).to.contain('NOTICE: Device will now power off.');
    expect(box.qemu.disks.map((d) => d.id)).not.to.include('installer');
    const log = said.join('\n');
    expect(log).to.match(/the box must chain http:\/\/127\.0\.0\.1:\d+\/eve-qual\.ipxe/);
    for (const f of ['eve-qual.ipxe (boots the installer)', 'fetched EFI/BOOT/BOOTX64.EFI', 'fetched EFI/BOOT/grub.cfg', 'fetched installer.iso', 'fetched config.img']) expect(log).to.contain(f);
  });

  it('installed on the disk it was told to, and the disk boots without the network (detached)', () => {
    expect(outcome!.installDisk).to.match(/vda$/);
    expect(outcome!.eveRelease).to.equal('0.0.0-fixture-kvm-amd64');
    expect(box.qemu.netbootUrl).to.equal(null);
    expect(said.join('\n')).to.contain('installer detached');
  });

  it("the installed box has the run's key and a root getty on its serial console: the CONFIG built into the set's installer.iso", async () => {
    const r = await outcome!.ssh.run('cat /config/authorized_keys; cat /config/grub.cfg; cat /proc/cmdline; eve version');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain(key.publicKey.split(' ')[1]!);
    // The harness's grub.cfg in the installed CONFIG, and the command line it gave the installed system: the serial
    // console at the profile's speed, last, and getty (EVE runs its root agetty on the console= ttys with getty).
    expect(r.stdout).to.contain('set_getty');
    expect(r.stdout, r.stdout).to.match(/^BOOT_IMAGE=\S+ console=tty0 console=ttyS0,115200 .*\bgetty\b/m);
    expect(r.stdout.trim().split('\n').pop()).to.equal('0.0.0-fixture-kvm-amd64');
  });
});
