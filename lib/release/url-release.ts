// A release published as a folder of files over HTTP(S), laid out like lf-edge/eve's GitHub release download folder
// (https://github.com/lf-edge/eve/releases/download/14.5.1/). The installer for the arch is found by trying the
// names of both schemes in order (newest first; a 404 means "try the next"), downloaded with its sha256sums (and the
// netboot set the sums list, netboot-asset.ts) into a cache folder, and then handled exactly like a local folder
// (locateLocalRelease + verifyRelease), so a download is only done when it verifies. A URL naming one installer of the folder (arm64.kvm.nvidia-jp6.installer.raw.zst)
// fetches that one: the names tried are kvm/generic, and a GitHub download folder cannot be listed. A cache folder
// that already holds a verifying installer is used without the network.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { ReleaseArch } from './asset-names.ts';
import { namedInstaller, parseInstallerName } from './asset-names.ts';
import { displayUrl, downloadFile } from './download.ts';
import { locateLocalRelease, verifyRelease, type Release } from './local-release.ts';
import { fetchNetbootTar } from './netboot-asset.ts';
import type { FetchOptions } from './resolve-release.ts';

const VERSION_LIKE = /^\d+\.\d+\.\d+[0-9A-Za-z.+-]*$/;

interface Candidate {
  file: string;
  sums?: string;
}

/** Installer names in the order they are tried: EVE 17's .raw.zst, 15.3's .raw (both with sums), then up to 13.3's .img. */
export function installerCandidates(arch: ReleaseArch): Candidate[] {
  const sums = `${arch}.kvm.generic.sha256sums`;
  return [
    { file: `${arch}.kvm.generic.installer.raw.zst`, sums },
    { file: `${arch}.kvm.generic.installer.raw`, sums },
    { file: `${arch}.installer.img` },
  ];
}

/**
 * The release folder's URL, ending in '/' (so asset names resolve inside it), and the installer the URL names, if
 * it names one (…/17.3.0/arm64.kvm.nvidia-jp6.installer.raw.zst: a box that needs another hv or platform than
 * kvm/generic). A GitHub release page (…/releases/tag/X) becomes its download folder; a URL naming any other asset
 * is refused with the folder to give instead.
 */
export function parseReleaseUrl(src: string): { base: URL; installer?: string } {
  let url: URL;
  try {
    url = new URL(src);
  } catch {
    throw new ConfigError(`release ${src}: not a valid URL`, { where: src });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`release ${src}: only http:// and https:// URLs are supported`, { where: src });
  if (url.hostname === 'github.com') url.pathname = url.pathname.replace(/\/releases\/tag\/([^/]+)\/?$/, '/releases/download/$1/');
  url.hash = '';
  const last = lastSegment(url);
  if (last && parseInstallerName(last) && !url.pathname.endsWith('/')) return { base: new URL('.', url), installer: last };
  if (last && /\.sha256sums$/.test(last)) {
    const folder = new URL('.', url);
    throw new ConfigError(`release ${displayUrl(url)}: give the release folder (${displayUrl(folder)}) or an installer in it, not its checksum file`, { where: displayUrl(url) });
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { base: url };
}

function lastSegment(url: URL): string | undefined {
  const segs = url.pathname.split('/').filter(Boolean);
  return segs.length ? decodeURIComponent(segs[segs.length - 1]!) : undefined;
}

/** The version a release URL names in its last path segment (…/download/14.5.1/), if it looks like one. */
export function versionFromUrl(url: URL): string | undefined {
  const last = lastSegment(url);
  return last && VERSION_LIKE.test(last) ? last : undefined;
}

export async function fetchUrlRelease(src: string, arch: ReleaseArch, o: FetchOptions & { cacheDir: string }): Promise<Release> {
  const { base, installer } = parseReleaseUrl(src);
  const shown = displayUrl(installer ? new URL(installer, base) : base);
  const version = o.version ?? versionFromUrl(base);
  if (!version) {
    throw new ConfigError(`release ${shown}: cannot tell the version from the URL (its last part is not like 14.5.1): give --release-version`, { where: shown });
  }
  const dir = o.cacheDir;
  const created = !fs.existsSync(dir);
  fs.mkdirSync(dir, { recursive: true });
  const named = installer ? namedInstaller(installer, arch, shown) : undefined;
  const candidates = named ? [{ file: named.file, ...(named.sums ? { sums: named.sums } : {}) }] : installerCandidates(arch);
  // The folder remembers where its files came from: one reused (--dir) for another URL must not pass off the old
  // release's installer, which still verifies against the old sums, as this one.
  const sourceFile = path.join(dir, 'source');
  const before = fs.existsSync(sourceFile) ? fs.readFileSync(sourceFile, 'utf8').trim() : undefined;
  if (before !== shown) {
    if (before !== undefined) o.log?.(`${dir} held ${before}: replacing its ${arch} files`);
    // Every installer of this arch goes, not only this source's names: one of another hv or platform would remain.
    for (const f of fs.readdirSync(dir)) {
      const a = parseInstallerName(f.replace(/\.part$/, ''));
      if (a && !('foreign' in a) && a.arch === arch) for (const g of [f, ...(a.sums ? [a.sums] : [])]) fs.rmSync(path.join(dir, g), { force: true });
    }
    fs.writeFileSync(sourceFile, `${shown}\n`);
  }
  // locateLocalRelease reads the version from here, so the cache folder is a complete local release on its own.
  fs.writeFileSync(path.join(dir, 'version'), `${version}\n`);

  try {
    const release = (await fromCache(dir, arch, version, candidates, o)) ?? (await download(base, dir, arch, version, candidates, o));
    await fetchNetbootTar(base, release, o);
    return release;
  } catch (e) {
    // A folder this call made and that holds nothing worth resuming is not left behind.
    if (created && fs.readdirSync(dir).every((f) => f === 'version' || f === 'source')) fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function download(base: URL, dir: string, arch: ReleaseArch, version: string, candidates: Candidate[], o: FetchOptions): Promise<Release> {
  const shown = displayUrl(base);

  const tried: string[] = [];
  let chosen: Candidate | undefined;
  for (const c of candidates) {
    tried.push(c.file);
    const dest = path.join(dir, c.file);
    // Complete from an earlier fetch that stopped before its sums (a .part is never at this name).
    if (fs.existsSync(dest)) {
      chosen = c;
      break;
    }
    const url = new URL(c.file, base).href;
    o.log?.(`GET ${displayUrl(url)}`);
    const r = await downloadFile(url, dest, {
      ...o.download,
      ...(o.log ? { log: o.log } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      ...(o.onProgress ? { onProgress: (n: number, t: number | undefined) => o.onProgress!(n, t, `download ${c.file}`) } : {}),
    });
    if (r.found) {
      chosen = c;
      break;
    }
    o.log?.(`${c.file}: HTTP ${r.status}, trying the next name`);
  }
  if (!chosen) {
    throw new ConfigError(`release ${shown} has no ${arch} installer: tried ${tried.join(', ')} (all not found)`, { where: shown });
  }
  if (chosen.sums) {
    // Always fresh (it is small): a stale .part of it is never resumed.
    const url = new URL(chosen.sums, base).href;
    const sumsFile = path.join(dir, chosen.sums);
    fs.rmSync(`${sumsFile}.part`, { force: true });
    const r = await downloadFile(url, sumsFile, { ...o.download, ...(o.log ? { log: o.log } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    if (!r.found) {
      throw new ConfigError(`release ${shown} has ${chosen.file} but no ${chosen.sums} (HTTP ${r.status}): cannot verify it`, { where: displayUrl(url) });
    }
  }
  // An installer of another name for this arch left from an earlier fetch would compete when the folder is given
  // to --release later.
  for (const c of candidates) if (c !== chosen) fs.rmSync(path.join(dir, c.file), { force: true });

  const release = locateLocalRelease(path.join(dir, chosen.file), arch, { version });
  try {
    await verifyRelease(release, o.onProgress ? (n, t) => o.onProgress!(n, t, `verify ${release.installer.file}`) : undefined);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    // A bad download must not be found "complete" next time: removed, so the next fetch downloads it again.
    fs.rmSync(release.installerPath, { force: true });
    throw new ConfigError(`release ${shown}: ${e.message}; the download was removed`, { where: shown, cause: e });
  }
  return release;
}

/** The release from the cache folder when its installer (and sums) are there and verify; else undefined. */
async function fromCache(dir: string, arch: ReleaseArch, version: string, candidates: Candidate[], o: FetchOptions): Promise<Release | undefined> {
  const present = candidates.find((c) => fs.existsSync(path.join(dir, c.file)));
  if (!present || (present.sums && !fs.existsSync(path.join(dir, present.sums)))) return undefined;
  const release = locateLocalRelease(path.join(dir, present.file), arch, { version });
  try {
    await verifyRelease(release, o.onProgress ? (n, t) => o.onProgress!(n, t, `verify ${present.file}`) : undefined);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    o.log?.(`${present.file} in ${dir} does not verify (${e.message}): downloading it again`);
    fs.rmSync(release.installerPath, { force: true });
    return undefined;
  }
  o.log?.(`${present.file}: already in ${dir} and verified, not downloaded again`);
  return release;
}
