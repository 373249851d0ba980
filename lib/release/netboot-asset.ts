// A URL release's netboot set (<arch>.<hv>.<platform>.installer-net.tar, EVE 15.3 on), fetched beside its installer
// so the ipxe-http media finds it in the cache folder as in a local one. EVE's sha256sums lists every asset of the
// release (assets.yml: installer_net is made for generic platforms only), so the sums say whether there is one to
// fetch, and the download is only kept once it matches them.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { InstallerAsset } from './asset-names.ts';
import { parseSums, sha256File } from './checksum.ts';
import { displayUrl, downloadFile } from './download.ts';
import type { Release } from './local-release.ts';
import type { FetchOptions } from './resolve-release.ts';

/** The netboot tar published beside a modern-scheme installer; none for the older scheme. */
export function netbootTarName(installer: InstallerAsset): string | undefined {
  return installer.scheme === 'modern' ? `${installer.arch}.${installer.hv}.${installer.platform}.installer-net.tar` : undefined;
}

/** The sha256 the release's sums give `file`, if they list it. */
function listedSha(release: Release, file: string): string | undefined {
  const sums = release.installer.sums && path.join(release.dir, release.installer.sums);
  return sums && fs.existsSync(sums) ? parseSums(fs.readFileSync(sums, 'utf8')).get(file) : undefined;
}

/** Fetch the release's installer-net.tar into its cache folder when its sums list one; a copy there that matches is kept. */
export async function fetchNetbootTar(base: URL, release: Release, o: FetchOptions): Promise<void> {
  const name = netbootTarName(release.installer);
  if (!name) return;
  const want = listedSha(release, name);
  if (!want) {
    o.log?.(`${release.installer.sums} does not list ${name}: this release has no netboot set to fetch (media ipxe-http cannot use it)`);
    return;
  }
  const dest = path.join(release.dir, name);
  if (fs.existsSync(dest)) {
    if ((await sha256File(dest)) === want) {
      o.log?.(`${name}: already in ${release.dir} and verified, not downloaded again`);
      return;
    }
    o.log?.(`${name} in ${release.dir} does not match ${release.installer.sums}: downloading it again`);
    fs.rmSync(dest, { force: true });
  }
  const url = new URL(name, base).href;
  o.log?.(`GET ${displayUrl(url)}`);
  const r = await downloadFile(url, dest, {
    ...o.download,
    ...(o.log ? { log: o.log } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: (n: number, t: number | undefined) => o.onProgress!(n, t, `download ${name}`) } : {}),
  });
  if (!r.found) {
    o.log?.(`${name}: HTTP ${r.status} although ${release.installer.sums} lists it: no netboot set in ${release.dir}`);
    return;
  }
  const got = await sha256File(dest, o.onProgress ? (n) => o.onProgress!(n, fs.statSync(dest).size, `verify ${name}`) : undefined);
  if (got !== want) {
    fs.rmSync(dest, { force: true });
    throw new ConfigError(`release ${displayUrl(base)}: ${name} does not match ${release.installer.sums}: sha256 ${got}, expected ${want}; the download was removed`, { where: displayUrl(url) });
  }
}
