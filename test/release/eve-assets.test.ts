// EVE's real asset names, docker tags and version strings, and what eve-qual derives from them: hypervisor,
// platform, release version and the string the installed box must have in /run/eve-release. The cases come from
// EVE's sources (lf-edge/eve, master after 17.3.0):
//   .github/workflows/assets.yml  release assets `${ARCH}.${HV}.${platform}.installer.raw.zst` + `.sha256sums` for
//                                 arch amd64/arm64, hv kvm and k, platform generic and nvidia-jp5/jp6/jp7; they are
//                                 taken from the image `lfedge/eve:${TAG}-${PLATFORMVER}${HV}-${ARCH}`, where
//                                 PLATFORMVER is `<platform>-` for a non-generic platform;
//   .github/workflows/publish.yml images for hv kvm, xen, k (amd64, arm64) and mini (riscv64);
//   .github/workflows/buildondemand.yml platforms rt, imx8mp_pollux, imx8mp_epc_r3720;
//   Makefile                      ROOTFS_VERSION = the tag, then `-<platform>` unless generic; FULL_VERSION (what
//                                 `docker run lfedge/eve:<tag> version` prints and /run/eve-release holds) =
//                                 ROOTFS_VERSION-HV-ZARCH; release tags are X.Y.Z, X.Y.Z-lts, X.Y.Z-rcN.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { parseInstallerName } from '../../lib/release/asset-names.ts';
import { eveImage, fetchDockerRelease } from '../../lib/release/docker-release.ts';
import { locateLocalRelease } from '../../lib/release/local-release.ts';
import { resolveRelease } from '../../lib/release/resolve-release.ts';

describe("EVE's asset names, docker tags and release strings", function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-eve-assets-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('installer asset names (assets.yml, publish.yml, buildondemand.yml)', () => {
    const cases: Array<[string, { arch: string; hv: string; platform: string; compressed: boolean; sums: string }]> = [
      ['amd64.kvm.generic.installer.raw.zst', { arch: 'amd64', hv: 'kvm', platform: 'generic', compressed: true, sums: 'amd64.kvm.generic.sha256sums' }],
      ['amd64.k.generic.installer.raw.zst', { arch: 'amd64', hv: 'k', platform: 'generic', compressed: true, sums: 'amd64.k.generic.sha256sums' }],
      ['arm64.kvm.nvidia-jp6.installer.raw.zst', { arch: 'arm64', hv: 'kvm', platform: 'nvidia-jp6', compressed: true, sums: 'arm64.kvm.nvidia-jp6.sha256sums' }],
      ['arm64.k.nvidia-jp7.installer.raw.zst', { arch: 'arm64', hv: 'k', platform: 'nvidia-jp7', compressed: true, sums: 'arm64.k.nvidia-jp7.sha256sums' }],
      ['amd64.xen.generic.installer.raw', { arch: 'amd64', hv: 'xen', platform: 'generic', compressed: false, sums: 'amd64.xen.generic.sha256sums' }],
      ['amd64.kvm.rt.installer.raw', { arch: 'amd64', hv: 'kvm', platform: 'rt', compressed: false, sums: 'amd64.kvm.rt.sha256sums' }],
      ['arm64.kvm.imx8mp_pollux.installer.raw', { arch: 'arm64', hv: 'kvm', platform: 'imx8mp_pollux', compressed: false, sums: 'arm64.kvm.imx8mp_pollux.sha256sums' }],
      ['arm64.kvm.imx8mp_epc_r3720.installer.raw.zst', { arch: 'arm64', hv: 'kvm', platform: 'imx8mp_epc_r3720', compressed: true, sums: 'arm64.kvm.imx8mp_epc_r3720.sha256sums' }],
    ];
    for (const [name, want] of cases) {
      it(`${name}: hv ${want.hv}, platform ${want.platform}`, () => {
        expect(parseInstallerName(name)).to.include(want);
      });
    }
    it('riscv64.mini.generic.installer.raw.zst is another arch (publish.yml: hv mini on riscv64)', () => {
      expect(parseInstallerName('riscv64.mini.generic.installer.raw.zst')).to.deep.equal({ arch: 'riscv64', foreign: true });
    });
  });

  /** A folder holding one installer asset (a few bytes: only names and the version are read here). */
  const folder = (rel: string, asset: string, versionFile?: string): string => {
    const dir = path.join(tmp, 'folders', rel);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, asset), 'x');
    if (versionFile !== undefined) fs.writeFileSync(path.join(dir, 'version'), `${versionFile}\n`);
    return dir;
  };

  describe('a release folder named after the tag, as GitHub publishes it', () => {
    const cases: Array<[string, string, 'amd64' | 'arm64', string]> = [
      ['17.3.0', 'amd64.kvm.generic.installer.raw.zst', 'amd64', '17.3.0-kvm-amd64'],
      ['17.3.0', 'amd64.k.generic.installer.raw.zst', 'amd64', '17.3.0-k-amd64'],
      ['17.3.0', 'arm64.kvm.nvidia-jp6.installer.raw.zst', 'arm64', '17.3.0-nvidia-jp6-kvm-arm64'],
      ['17.3.0', 'arm64.k.nvidia-jp5.installer.raw.zst', 'arm64', '17.3.0-nvidia-jp5-k-arm64'],
      ['16.0.0', 'arm64.kvm.imx8mp_pollux.installer.raw', 'arm64', '16.0.0-imx8mp_pollux-kvm-arm64'],
      ['14.5.1-lts', 'amd64.xen.generic.installer.raw', 'amd64', '14.5.1-lts-xen-amd64'],
      ['17.0.0-rc1', 'arm64.kvm.nvidia-jp6.installer.raw.zst', 'arm64', '17.0.0-rc1-nvidia-jp6-kvm-arm64'],
    ];
    for (const [version, asset, arch, want] of cases) {
      it(`${version}/${asset}: version ${version}, the box must report ${want}`, () => {
        const r = locateLocalRelease(folder(path.join(asset, version), asset), arch);
        expect(r).to.include({ version, expectedEveRelease: want });
      });
    }
  });

  describe("a folder whose version file is what `docker run lfedge/eve:<tag> version` prints (Makefile FULL_VERSION)", () => {
    const cases: Array<[string, string, 'amd64' | 'arm64', string]> = [
      ['17.3.0-kvm-amd64', 'amd64.kvm.generic.installer.raw', 'amd64', '17.3.0'],
      ['17.3.0-k-amd64', 'amd64.k.generic.installer.raw', 'amd64', '17.3.0'],
      ['17.3.0-nvidia-jp6-kvm-arm64', 'arm64.kvm.nvidia-jp6.installer.raw', 'arm64', '17.3.0'],
      ['17.3.0-nvidia-jp6-k-arm64', 'arm64.k.nvidia-jp6.installer.raw', 'arm64', '17.3.0'],
      ['14.5.1-lts-xen-amd64', 'amd64.xen.generic.installer.raw', 'amd64', '14.5.1-lts'],
      // A build given KERNEL_TAG (Makefile SHORT_KERNEL_TAG, kernel-version.mk KERNEL_DOCKER_TAG): a -k- that is no hv.
      ['17.3.0-k-amd64-v6.12.96-generic-0123456789ab-gcc-kvm-amd64', 'amd64.kvm.generic.installer.raw', 'amd64', '17.3.0-k-amd64-v6.12.96-generic-0123456789ab-gcc'],
      // A snapshot: ROOTFS_VERSION = 0.0.0-<branch>-<sha>[-dirty][-dev].
      ['0.0.0-master-0123abcd-dev-kvm-amd64', 'amd64.kvm.generic.installer.raw', 'amd64', '0.0.0-master-0123abcd-dev'],
    ];
    for (const [full, asset, arch, version] of cases) {
      it(`${full} with ${asset}: version ${version}, the box must report ${full}`, () => {
        const r = locateLocalRelease(folder(`vf-${full}`, asset, full), arch);
        expect(r).to.include({ version, expectedEveRelease: full });
      });
    }
  });

  describe("a version file that names another hv or platform than the installer asset (a box would report the file's)", () => {
    const cases: Array<[string, string, 'amd64' | 'arm64']> = [
      ['17.3.0-nvidia-jp6-kvm-arm64', 'arm64.kvm.generic.installer.raw', 'arm64'],
      ['17.3.0-k-amd64', 'amd64.kvm.generic.installer.raw', 'amd64'],
    ];
    for (const [full, asset, arch] of cases) {
      it(`${full} with ${asset}: a config error naming both`, () => {
        expect(() => locateLocalRelease(folder(`mismatch-${full}`, asset, full), arch)).to.throw(ConfigError, new RegExp(`its version file says ${full}.*${asset.replace(/\./g, '\\.')}`));
      });
    }
  });

  describe('docker tags (assets.yml: lfedge/eve:${TAG}-${PLATFORMVER}${HV}-${ARCH})', () => {
    const cases: Array<[string, 'amd64' | 'arm64', { tag: string; hv: string; platform: string }]> = [
      ['17.3.0', 'amd64', { tag: '17.3.0-kvm-amd64', hv: 'kvm', platform: 'generic' }],
      ['17.3.0-kvm-amd64', 'amd64', { tag: '17.3.0-kvm-amd64', hv: 'kvm', platform: 'generic' }],
      ['17.3.0-k-amd64', 'amd64', { tag: '17.3.0-k-amd64', hv: 'k', platform: 'generic' }],
      ['17.3.0-k', 'arm64', { tag: '17.3.0-k-arm64', hv: 'k', platform: 'generic' }],
      ['17.3.0-xen-arm64', 'arm64', { tag: '17.3.0-xen-arm64', hv: 'xen', platform: 'generic' }],
      ['17.3.0-nvidia-jp6-kvm-arm64', 'arm64', { tag: '17.3.0-nvidia-jp6-kvm-arm64', hv: 'kvm', platform: 'nvidia-jp6' }],
      ['17.3.0-nvidia-jp7-k-arm64', 'arm64', { tag: '17.3.0-nvidia-jp7-k-arm64', hv: 'k', platform: 'nvidia-jp7' }],
      ['17.3.0-nvidia-jp5', 'arm64', { tag: '17.3.0-nvidia-jp5-kvm-arm64', hv: 'kvm', platform: 'nvidia-jp5' }],
      ['14.5.1-lts', 'amd64', { tag: '14.5.1-lts-kvm-amd64', hv: 'kvm', platform: 'generic' }],
      ['16.0.0-imx8mp_pollux-kvm-arm64', 'arm64', { tag: '16.0.0-imx8mp_pollux-kvm-arm64', hv: 'kvm', platform: 'imx8mp_pollux' }],
    ];
    for (const [tag, arch, want] of cases) {
      it(`docker:${tag} (${arch}): lfedge/eve:${want.tag}, hv ${want.hv}, platform ${want.platform}`, () => {
        expect(eveImage(tag, arch)).to.include({ ...want, image: `lfedge/eve:${want.tag}` });
      });
    }
    it('docker:17.3.0-nvidia-jp6-k-arm64 for an amd64 box is refused, naming the arch', () => {
      expect(() => eveImage('17.3.0-nvidia-jp6-k-arm64', 'amd64')).to.throw(ConfigError, 'is an image for arm64: the box is amd64');
    });
  });

  describe('docker: through a stand-in docker printing EVE\'s version string', () => {
    let savedPath: string | undefined;
    beforeEach(() => {
      savedPath = process.env.PATH;
    });
    afterEach(() => {
      process.env.PATH = savedPath;
    });

    /** A stand-in `docker` first on PATH: `version` prints `full`, `installer_raw` and `installer_net` a few bytes. */
    const standIn = (name: string, full: string): void => {
      const bin = path.join(tmp, `docker-${name}`);
      fs.mkdirSync(bin, { recursive: true });
      fs.writeFileSync(path.join(bin, 'docker'), `#!/bin/bash\ncase "\${@: -1}" in\n  version) echo '${full}' ;;\n  installer_raw) echo 'an installer' ;;\n  installer_net) echo 'a netboot set' ;;\n  *) exit 2 ;;\nesac\n`, { mode: 0o755 });
      process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    };

    const cases: Array<[string, 'amd64' | 'arm64', string, string]> = [
      ['17.3.0-k-amd64', 'amd64', '17.3.0-k-amd64', 'amd64.k.generic.installer.raw'],
      ['17.3.0-nvidia-jp6-kvm-arm64', 'arm64', '17.3.0-nvidia-jp6-kvm-arm64', 'arm64.kvm.nvidia-jp6.installer.raw'],
      ['17.3.0-nvidia-jp6-k', 'arm64', '17.3.0-nvidia-jp6-k-arm64', 'arm64.k.nvidia-jp6.installer.raw'],
    ];
    for (const [tag, arch, full, file] of cases) {
      it(`docker:${tag}: ${file}, version 17.3.0, the box must report ${full}`, async () => {
        standIn(tag, full);
        const r = await fetchDockerRelease(tag, arch, { cacheDir: path.join(tmp, `cache-${tag}`) });
        expect(r.installer.file).to.equal(file);
        expect(r).to.include({ version: '17.3.0', expectedEveRelease: full, sha256: createHash('sha256').update('an installer\n').digest('hex') });
      });
    }
  });

  // A GitHub release folder holds every platform's installer of an arch (assets.yml's matrix): a box that needs one
  // other than kvm/generic names that asset, in a local folder or at its URL.
  describe('naming one installer of a release folder that holds several (assets.yml: one per arch, hv and platform)', () => {
    const jp6 = 'arm64.kvm.nvidia-jp6.installer.raw.zst';
    const generic = 'arm64.kvm.generic.installer.raw.zst';
    let dir: string;
    before(() => {
      dir = path.join(tmp, 'github', '17.3.0');
      fs.mkdirSync(dir, { recursive: true });
      for (const f of [jp6, generic]) {
        fs.writeFileSync(path.join(dir, f), f);
        const sums = f.replace(/installer\.raw\.zst$/, 'sha256sums');
        fs.writeFileSync(path.join(dir, sums), `${createHash('sha256').update(f).digest('hex')}  ${f}\n`);
      }
    });

    it(`a local path to ${jp6}: that installer, and the box must report 17.3.0-nvidia-jp6-kvm-arm64`, async () => {
      expect(locateLocalRelease(dir, 'arm64').installer.file).to.equal(generic);
      const r = await resolveRelease(path.join(dir, jp6), 'arm64');
      expect(r.installer.file).to.equal(jp6);
      expect(r).to.include({ dir, version: '17.3.0', expectedEveRelease: '17.3.0-nvidia-jp6-kvm-arm64' });
    });

    it(`a URL to ${jp6}: downloaded with its sums, and the box must report 17.3.0-nvidia-jp6-kvm-arm64`, async () => {
      const served: string[] = [];
      const server = http.createServer((req, res) => {
        const file = path.join(tmp, 'github', decodeURIComponent(new URL(req.url!, 'http://x').pathname));
        served.push(path.basename(file));
        if (!fs.existsSync(file)) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-length': fs.statSync(file).size });
        fs.createReadStream(file).pipe(res);
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/17.3.0/${jp6}`;
        const r = await resolveRelease(url, 'arm64', { cacheDir: path.join(tmp, 'cache-url-jp6') });
        expect(r.installer.file).to.equal(jp6);
        expect(r).to.include({ version: '17.3.0', expectedEveRelease: '17.3.0-nvidia-jp6-kvm-arm64' });
        expect(served).to.deep.equal([jp6, 'arm64.kvm.nvidia-jp6.sha256sums']);
        const other = await resolveRelease(url, 'amd64', { cacheDir: path.join(tmp, 'cache-url-jp6-amd64') }).catch((e: unknown) => e);
        expect(other).to.be.instanceOf(ConfigError);
        expect((other as Error).message).to.contain(`${jp6} is an installer for arm64: the box is amd64`);
      } finally {
        server.closeAllConnections();
        await new Promise((ok) => server.close(ok));
      }
    });
  });
});
