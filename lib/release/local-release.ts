// A release in a local directory laid out like an EVE GitHub release. Finds the installer for the profile's arch,
// checks it against the release's sha256sums before anything touches a box, and knows the version the installed
// system must report. Bad input here is a ConfigError (exit 2): nothing has been touched yet.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseInstallerName, rankInstaller, eveReleaseString, type InstallerAsset, type ReleaseArch } from './asset-names.ts';
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

const VERSION_LIKE = /^\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/;

/** The release version: a `version` file (as `docker run lfedge/eve version` prints it), else the folder name. */
function versionOf(dir: string, given?: string): string {
  if (given) return given;
  const vf = path.join(dir, 'version');
  if (fs.existsSync(vf)) {
    const v = fs.readFileSync(vf, 'utf8').trim().replace(/-(kvm|xen|acrn|mini)-(amd64|arm64|riscv64)$/, '');
    if (v) return v;
  }
  const base = path.basename(path.resolve(dir));
  if (VERSION_LIKE.test(base)) return base;
  throw new ConfigError(`cannot tell the version of the release in ${dir}: add a 'version' file or name the folder after the version`, { where: dir });
}

export function locateLocalRelease(dir: string, arch: ReleaseArch, opts: { version?: string } = {}): Release {
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
  mine.sort((a, b) => rankInstaller(a) - rankInstaller(b));
  const installer = mine[0]!;
  const version = versionOf(dir, opts.version);
  return {
    dir,
    version,
    installer,
    installerPath: path.resolve(dir, installer.file),
    expectedEveRelease: eveReleaseString(version, installer.hv, arch),
  };
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
