// EVE release asset names, both schemes (EVE's .github/workflows/assets.yml):
//   15.3.0 on: <arch>.<hv>.<platform>.installer.raw (17.0 on: .raw.zst) with <arch>.<hv>.<platform>.sha256sums;
//   up to about 13.3: <arch>.installer.img (no checksum file).
export type ReleaseArch = 'amd64' | 'arm64';

export interface InstallerAsset {
  file: string;
  arch: ReleaseArch;
  hv: string;
  platform: string;
  compressed: boolean;
  scheme: 'modern' | 'legacy';
  /** The checksum file that covers it, if the scheme has one. */
  sums?: string;
}

const MODERN = /^(amd64|arm64|riscv64)\.([a-z0-9]+)\.([a-z0-9-]+)\.installer\.raw(\.zst)?$/;
const LEGACY = /^(amd64|arm64|riscv64)\.installer\.img$/;

export function parseInstallerName(file: string): InstallerAsset | { arch: string; foreign: true } | null {
  const m = MODERN.exec(file);
  if (m) {
    if (m[1] !== 'amd64' && m[1] !== 'arm64') return { arch: m[1]!, foreign: true };
    return {
      file,
      arch: m[1] as ReleaseArch,
      hv: m[2]!,
      platform: m[3]!,
      compressed: Boolean(m[4]),
      scheme: 'modern',
      sums: `${m[1]}.${m[2]}.${m[3]}.sha256sums`,
    };
  }
  const l = LEGACY.exec(file);
  if (l) {
    if (l[1] !== 'amd64' && l[1] !== 'arm64') return { arch: l[1]!, foreign: true };
    return { file, arch: l[1] as ReleaseArch, hv: 'kvm', platform: 'generic', compressed: false, scheme: 'legacy' };
  }
  return null;
}

/** Preference among several installers of one arch: kvm before xen, generic before board-specific. */
export function rankInstaller(a: InstallerAsset): number {
  return (a.hv === 'kvm' ? 0 : 10) + (a.platform === 'generic' ? 0 : 1) + (a.scheme === 'legacy' ? 20 : 0);
}

/** The string EVE writes to /run/eve-release: `<version>-<hv>-<arch>`. */
export function eveReleaseString(version: string, hv: string, arch: ReleaseArch): string {
  return `${version}-${hv}-${arch}`;
}
