// A release in a local directory laid out like an EVE GitHub release. Finds the installer for the profile's arch,
// checks it against the release's sha256sums before anything touches a box, and knows the version the installed
// system must report. Bad input here is a ConfigError (exit 2): nothing has been touched yet.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { namedInstaller, parseInstallerName, rankInstaller, type InstallerAsset, type ReleaseArch } from './asset-names.ts';
import { eveReleaseString, GENERIC, parseEveReleaseString } from './eve-release-string.ts';
import { parseSums, sha256File } from './checksum.ts';

export interface Release {
  dir: string;
  version: string;
  installer: InstallerAsset;
  /** Absolute path of the installer image (compressed if the asset is). */
  installerPath: string;
  /** What /run/eve-release must read on the installed box. */
  expectedEveRelease: string;
  sha256?: string;
}

const VERSION_LIKE = /^\d+\.\d+\.\d+[0-9A-Za-z._+-]*$/;

/**
 * The release version (the tag, without platform, hv or arch) for `installer`: as given, else from a `version` file
 * (as `docker run lfedge/eve version` prints it: 17.3.0-nvidia-jp6-kvm-arm64), else from the folder name (17.3.0,
 * as GitHub's download folders are named).
 */
function versionOf(dir: string, installer: InstallerAsset, given?: string): string {
  const vf = path.join(dir, 'version');
  const fromFile = !given && fs.existsSync(vf) ? fs.readFileSync(vf, 'utf8').trim() : '';
  const base = path.basename(path.resolve(dir));
  const named = given || fromFile || (VERSION_LIKE.test(base) ? base : '');
  if (!named) throw new ConfigError(`cannot tell the version of the release in ${dir}: add a 'version' file or name the folder after the version`, { where: dir });
  const full = parseEveReleaseString(named, installer.platform);
  if (full && installer.scheme === 'modern' && (full.hv !== installer.hv || full.platform !== installer.platform)) {
    // A version file comes from the image itself, the asset name from whoever saved it: the box reports the file's.
    const said = given ? 'the version given' : fromFile ? 'its version file' : 'its folder name';
    throw new ConfigError(
      `release ${dir}: ${said} says ${named} (hv ${full.hv}, platform ${full.platform}) but the installer is ${installer.file}: name the installer after its image (${installer.arch}.${full.hv}.${full.platform}.installer.raw) or fix the version`,
      { where: fromFile ? vf : dir },
    );
  }
  if (full) return full.version;
  // A tag with the platform EVE adds (ROOTFS_VERSION: 17.3.0-nvidia-jp6) names the same release.
  const p = installer.platform;
  return p !== GENERIC && named.endsWith(`-${p}`) ? named.slice(0, -(p.length + 1)) : named;
}

/**
 * The release in folder `src` for `arch`, its best-ranked installer; or, when `src` is an installer file in such a
 * folder (arm64.kvm.nvidia-jp6.installer.raw.zst), that one, for a box that needs another hv or platform.
 */
export function locateLocalRelease(src: string, arch: ReleaseArch, opts: { version?: string } = {}): Release {
  if (isFile(src)) {
    const dir = path.dirname(src);
    return releaseOf(dir, namedInstaller(path.basename(src), arch, src), arch, opts.version);
  }
  return releaseOf(src, bestInstaller(src, arch), arch, opts.version);
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function releaseOf(dir: string, installer: InstallerAsset, arch: ReleaseArch, given?: string): Release {
  const version = versionOf(dir, installer, given);
  return {
    dir,
    version,
    installer,
    installerPath: path.resolve(dir, installer.file),
    expectedEveRelease: eveReleaseString({ version, platform: installer.platform, hv: installer.hv, arch }),
  };
}

function bestInstaller(dir: string, arch: ReleaseArch): InstallerAsset {
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    throw new ConfigError(`release ${dir}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { where: dir });
  }
  const parsed = entries.map(parseInstallerName).filter((x) => x !== null);
  const mine = parsed.filter((x): x is InstallerAsset => !('foreign' in x) && x.arch === arch);
  if (mine.length === 0) {
    const other = [...new Set(parsed.map((x) => x.arch))];
    throw new ConfigError(
      other.length
        ? `release ${dir} has no ${arch} installer (it has ${other.join(', ')}): the profile's box is ${arch}`
        : `release ${dir} has no installer image (${arch}.<hv>.<platform>.installer.raw[.zst] or ${arch}.installer.img)`,
      { where: dir },
    );
  }
  mine.sort((a, b) => rankInstaller(a) - rankInstaller(b) || a.file.localeCompare(b.file));
  return mine[0]!;
}

/** Verify the installer against the release's checksum file. Throws ConfigError on a missing file or mismatch. */
export async function verifyRelease(r: Release, onProgress?: (bytes: number, total: number) => void): Promise<string> {
  const total = fs.statSync(r.installerPath).size;
  if (total === 0) throw new ConfigError(`${r.installerPath} is empty`, { where: r.installerPath });
  const digest = await sha256File(r.installerPath, (n) => onProgress?.(n, total));
  if (r.installer.sums) {
    const sumsFile = path.join(r.dir, r.installer.sums);
    if (!fs.existsSync(sumsFile)) throw new ConfigError(`release ${r.dir} lacks ${r.installer.sums}: cannot verify ${r.installer.file}`, { where: sumsFile });
    const want = parseSums(fs.readFileSync(sumsFile, 'utf8')).get(r.installer.file);
    if (!want) throw new ConfigError(`${sumsFile} has no line for ${r.installer.file}`, { where: sumsFile });
    if (want !== digest) {
      throw new ConfigError(`${r.installer.file} does not match ${r.installer.sums}: sha256 ${digest}, expected ${want} (truncated or corrupt download?)`, {
        where: r.installerPath,
      });
    }
  }
  r.sha256 = digest;
  return digest;
}
