// EVE's release string, `<tag>[-<platform>]-<hv>-<arch>`: what /run/eve-release holds, what
// `docker run lfedge/eve:<tag> version` prints, and the shape of lfedge/eve's image tags. From EVE's Makefile:
// ROOTFS_VERSION is the release tag (X.Y.Z, X.Y.Z-lts, X.Y.Z-rcN) with `-<platform>` added for a non-generic
// PLATFORM, and FULL_VERSION = ROOTFS_VERSION-HV-ZARCH; .github/workflows/assets.yml pulls
// lfedge/eve:${TAG}-${PLATFORMVER}${HV}-${ARCH} the same way.

/**
 * Every hypervisor EVE has shipped: kvm (the default), xen and k (publish.yml, `make HV=xen|kvm|k`), mini
 * (riscv64, publish.yml), acrn (up to 7.x: `make HV=acrn|xen|kvm`).
 */
export const EVE_HYPERVISORS = ['kvm', 'xen', 'k', 'mini', 'acrn'] as const;
const HV = EVE_HYPERVISORS.join('|');
const ARCH = 'amd64|arm64|riscv64';

/**
 * EVE's non-generic platforms, told apart from a tag's own suffix (-lts, -rc1) by their shape: nvidia-jp5/6/7
 * (assets.yml; plain `nvidia` before the split), imx8mp_pollux, imx8mp_epc_r3720, imx8mq_evk and rt
 * (buildondemand.yml, pkg/eve/runme.sh). An asset name carries its platform in its own field and needs no list.
 */
const PLATFORM = 'nvidia(?:-jp\\d+)?|imx\\d[a-z0-9]*_[a-z0-9_]+|rt';

export const GENERIC = 'generic';

export interface EveReleaseParts {
  /** The release tag: 17.3.0, 14.5.1-lts, 17.0.0-rc1, or a snapshot's 0.0.0-<branch>-<sha>. */
  version: string;
  /** `generic`, or the board family the build is for (nvidia-jp6, imx8mp_pollux, rt). */
  platform: string;
  hv: string;
  arch: string;
}

/** `17.3.0` + nvidia-jp6 + kvm + arm64 → `17.3.0-nvidia-jp6-kvm-arm64` (the generic platform adds nothing). */
export function eveReleaseString(p: EveReleaseParts): string {
  return `${withPlatform(p.version, p.platform)}-${p.hv}-${p.arch}`;
}

/** The tag with the platform EVE adds to it (ROOTFS_VERSION, or a docker tag without its -<hv>-<arch>). */
function withPlatform(version: string, platform: string): string {
  return platform === GENERIC ? version : `${version}-${platform}`;
}

/**
 * `<tag>[-<platform>]` → its parts. `platform`, when the caller knows it (from an asset name), is taken off exactly,
 * so platforms of any shape work; otherwise one of EVE's known platforms is recognised, and anything else is tag.
 */
export function splitPlatform(s: string, platform?: string): { version: string; platform: string } {
  if (platform && platform !== GENERIC && s.endsWith(`-${platform}`) && s.length > platform.length + 1) {
    return { version: s.slice(0, -(platform.length + 1)), platform };
  }
  const m = new RegExp(`^(.+)-(${PLATFORM})$`).exec(s);
  return m ? { version: m[1]!, platform: m[2]! } : { version: s, platform: GENERIC };
}

/** `17.3.0-nvidia-jp6-kvm-arm64` → its parts; undefined when it does not end in -<hv>-<arch>. */
export function parseEveReleaseString(s: string, platform?: string): EveReleaseParts | undefined {
  const m = new RegExp(`^(.+)-(${HV})-(${ARCH})$`).exec(s);
  if (!m) return undefined;
  return { ...splitPlatform(m[1]!, platform), hv: m[2]!, arch: m[3]! };
}

/** `<tag>[-<platform>]-<hv>` → tag part and hv; undefined when it does not end in a known hypervisor. */
export function splitHv(s: string): { rest: string; hv: string } | undefined {
  const m = new RegExp(`^(.+)-(${HV})$`).exec(s);
  return m ? { rest: m[1]!, hv: m[2]! } : undefined;
}
