// The one entry point from a release source, as given to --release, to a verified Release:
//   a local folder              used where it is (or one installer file in it, for another hv or platform);
//   http(s)://…/<version>/      downloaded into a cache folder (url-release.ts); …/<version>/<installer> for one
//                               installer of that folder (another hv or platform);
//   docker:<tag>                taken from lfedge/eve:<tag> into a cache folder (docker-release.ts).
// The Release returned is always verified (its sha256 set): a download is only finished once it checks against
// its sums, so verifying is part of resolving for every kind and callers need not call verifyRelease again.
// The cache folder is <repo>/.cache/releases/<name from the source>/ unless given; it is itself a local release
// folder, so it can also be given to --release later.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReleaseArch } from './asset-names.ts';
import { eveImage, fetchDockerRelease } from './docker-release.ts';
import { locateLocalRelease, verifyRelease, type Release } from './local-release.ts';
import { fetchUrlRelease, parseReleaseUrl } from './url-release.ts';
import { displayUrl } from './download.ts';
import { lockFile } from '../util/file-lock.ts';

/** Progress of the long steps; `label` says which (`download <file>`, `verify <file>`, `docker <tag> installer_raw`). */
export type ReleaseProgress = (bytes: number, total: number | undefined, label: string) => void;

export interface FetchOptions {
  /** Where a URL or docker release is put (default <repo>/.cache/releases/<name>/); unused for a local folder. */
  cacheDir?: string;
  /** The release version, when the source does not tell (a URL not ending in the version). */
  version?: string;
  onProgress?: ReleaseProgress;
  /** One line per step worth telling an operator (what is fetched, retries, cache hits). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Retry tuning of downloads (tests shorten the backoff). */
  download?: { attempts?: number; backoffMs?: number; idleTimeoutMs?: number };
}

export type ReleaseSource = { kind: 'local'; dir: string } | { kind: 'url'; url: string } | { kind: 'docker'; tag: string };

export function parseReleaseSource(src: string): ReleaseSource {
  if (/^https?:\/\//i.test(src)) return { kind: 'url', url: src };
  if (src.startsWith('docker:')) return { kind: 'docker', tag: src.slice('docker:'.length) };
  return { kind: 'local', dir: src };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** <repo>/.cache/releases/<host_path> for a URL, …/docker_lfedge_eve_<tag> for docker; undefined for a folder. */
export function defaultCacheDir(src: string, arch: ReleaseArch): string | undefined {
  const s = parseReleaseSource(src);
  if (s.kind === 'local') return undefined;
  let name: string;
  if (s.kind === 'url') {
    const { base: u, installer } = parseReleaseUrl(s.url);
    // No credentials or query in a folder name; the hash keeps two long URLs with a common start apart. A URL naming
    // one installer gets a folder of its own (…_17.3.0_arm64.kvm.nvidia-jp6), apart from the folder's default one.
    name = `${u.host}${u.pathname}${installer ? installer.replace(/\.installer\.(raw(\.zst)?|img)$/, '') : ''}`;
    name = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[_.]+|_+$/g, '');
    if (name.length > 100) name = `${name.slice(0, 80)}-${createHash('sha256').update(u.href).digest('hex').slice(0, 12)}`;
  } else {
    name = `docker_lfedge_eve_${eveImage(s.tag, arch).tag}`;
  }
  return path.join(repoRoot, '.cache', 'releases', name);
}

/** The verified release for `arch` from a folder, a URL base or docker:<tag>. Bad input is a ConfigError (exit 2). */
export async function resolveRelease(src: string, arch: ReleaseArch, opts: FetchOptions = {}): Promise<Release> {
  const s = parseReleaseSource(src);
  if (s.kind === 'local') {
    const release = locateLocalRelease(s.dir, arch, opts.version ? { version: opts.version } : {});
    await verifyRelease(release, opts.onProgress ? (n, t) => opts.onProgress!(n, t, `verify ${release.installer.file}`) : undefined);
    return release;
  }
  const cacheDir = path.resolve(opts.cacheDir ?? defaultCacheDir(src, arch)!);
  // One fetch per cache folder at a time, across processes: runs on several boxes start together on one release, and
  // the ones that wait find the folder complete and verified. The lock sits beside the folder, never inside it
  // (a failed first fetch removes the folder it made).
  fs.mkdirSync(path.dirname(cacheDir), { recursive: true });
  const lock = await lockFile(path.join(path.dirname(cacheDir), `.${path.basename(cacheDir)}.lock`), {
    purpose: `fetching ${s.kind === 'url' ? displayUrl(s.url) : src} (${arch}) into ${cacheDir}`,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  try {
    return s.kind === 'url' ? await fetchUrlRelease(s.url, arch, { ...opts, cacheDir }) : await fetchDockerRelease(s.tag, arch, { ...opts, cacheDir });
  } finally {
    await lock.release();
  }
}
