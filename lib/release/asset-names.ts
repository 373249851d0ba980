// EVE release asset names, both schemes (EVE's .github/workflows/assets.yml):
//   15.3.0 on: <arch>.<hv>.<platform>.installer.raw (17.0 on: .raw.zst) with <arch>.<hv>.<platform>.sha256sums;
//   up to about 13.3: <arch>.installer.img (no checksum file).
import { ConfigError } from '../errors.ts';
import { EVE_HYPERVISORS, GENERIC } from './eve-release-string.ts';

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

// <hv> is any of EVE's (kvm, xen, k, ...: eve-release-string.ts); <platform> generic, nvidia-jp6, imx8mp_pollux, ...
const MODERN = /^(amd64|arm64|riscv64)\.([a-z0-9]+)\.([a-z0-9][a-z0-9_-]*)\.installer\.raw(\.zst)?$/;
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

/** The installer a source names by its file (to pick one hv and platform of a release), for the box's arch. */
export function namedInstaller(file: string, arch: ReleaseArch, where: string): InstallerAsset {
  const a = parseInstallerName(file);
  if (!a) throw new ConfigError(`${where}: ${file} is not an EVE installer (<arch>.<hv>.<platform>.installer.raw[.zst] or <arch>.installer.img)`, { where });
  if ('foreign' in a || a.arch !== arch) throw new ConfigError(`${where}: ${file} is an installer for ${a.arch}: the box is ${arch}`, { where });
  return a;
}

/** Preference among several installers of one arch: kvm, xen, k, ... in EVE's order, generic before board-specific. */
export function rankInstaller(a: InstallerAsset): number {
  const hv = (EVE_HYPERVISORS as readonly string[]).indexOf(a.hv);
  return (hv < 0 ? EVE_HYPERVISORS.length : hv) * 10 + (a.platform === GENERIC ? 0 : 1) + (a.scheme === 'legacy' ? 100 : 0);
}
