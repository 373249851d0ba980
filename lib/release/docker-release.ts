// A release taken from EVE's container image, as EVE documents it (pkg/eve/runme.sh):
//   docker run --rm lfedge/eve:<tag> installer_raw > <arch>.<hv>.<platform>.installer.raw
//   docker run --rm lfedge/eve:<tag> installer_net > <arch>.<hv>.generic.installer-net.tar   (generic images)
//   docker run --rm lfedge/eve:<tag> version
// into a cache folder laid out like a GitHub release, so the rest is the local-folder code. Docker publishes no
// checksum file, so one is written from the sha256 of the bytes as they streamed by: it guards the cache copy
// against later truncation or corruption, not the image against the registry (docker checks the layers itself).
import { createHash } from 'node:crypto';
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError, LabError, describeSystemError } from '../errors.ts';
import type { ReleaseArch } from './asset-names.ts';
import { parseEveReleaseString, splitHv, splitPlatform } from './eve-release-string.ts';
import { locateLocalRelease, verifyRelease, type Release } from './local-release.ts';
import type { FetchOptions } from './resolve-release.ts';

export const EVE_IMAGE = 'lfedge/eve';
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export interface EveImage {
  /** The full tag, always ending in -<hv>-<arch> (lfedge/eve publishes one image per platform, hypervisor and arch). */
  tag: string;
  image: string;
  hv: string;
  /** `generic`, or the platform the tag names before its hv (17.3.0-nvidia-jp6-kvm-arm64: nvidia-jp6). */
  platform: string;
}

/**
 * The image for a tag as EVE publishes them (<tag>[-<platform>]-<hv>-<arch>, assets.yml), completed for the box:
 * `14.5.1` → `14.5.1-kvm-amd64`, `17.3.0-k` → `17.3.0-k-amd64`, `17.3.0-nvidia-jp6` → `17.3.0-nvidia-jp6-kvm-arm64`.
 * A tag for another arch is refused.
 */
export function eveImage(tag: string, arch: ReleaseArch): EveImage {
  const where = `docker:${tag}`;
  if (!TAG.test(tag)) throw new ConfigError(`docker:${tag}: not a docker tag (give e.g. docker:14.5.1-kvm-${arch})`, { where });
  const full = parseEveReleaseString(tag);
  if (full) {
    if (full.arch !== arch) throw new ConfigError(`docker:${tag} is an image for ${full.arch}: the box is ${arch}`, { where });
    return { tag, image: `${EVE_IMAGE}:${tag}`, hv: full.hv, platform: full.platform };
  }
  const hvOnly = splitHv(tag);
  const hv = hvOnly?.hv ?? 'kvm';
  const t = `${hvOnly?.rest ?? tag}-${hv}-${arch}`;
  return { tag: t, image: `${EVE_IMAGE}:${t}`, hv, platform: splitPlatform(hvOnly?.rest ?? tag).platform };
}

/** The first executable `name` on PATH (looked up here, so a missing docker gets its own message). */
export function findOnPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      if (fs.statSync(p).isFile()) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

export async function fetchDockerRelease(tag: string, arch: ReleaseArch, o: FetchOptions & { cacheDir: string }): Promise<Release> {
  const img = eveImage(tag, arch);
  const dir = o.cacheDir;
  // Named as assets.yml names the GitHub asset made from this image.
  const file = `${arch}.${img.hv}.${img.platform}.installer.raw`;
  const sums = `${arch}.${img.hv}.${img.platform}.sha256sums`;
  const netFile = img.platform === 'generic' ? `${arch}.${img.hv}.${img.platform}.installer-net.tar` : undefined;
  const versionFile = path.join(dir, 'version');

  // A versioned tag names fixed content, so its cache is reused; a moving tag (latest, snapshot) is fetched again.
  // The folder remembers its image: one reused (--dir) for another tag is not taken for this one.
  const sourceFile = path.join(dir, 'source');
  const source = fs.existsSync(sourceFile) ? fs.readFileSync(sourceFile, 'utf8').trim() : undefined;
  if (source === img.image && /^\d+\.\d+/.test(img.tag) && [file, sums, 'version', ...(netFile ? [netFile] : [])].every((f) => fs.existsSync(path.join(dir, f)))) {
    const release = locateLocalRelease(dir, arch, o.version ? { version: o.version } : {});
    if (release.installer.file === file) {
      try {
        await verifyRelease(release, o.onProgress ? (n, t) => o.onProgress!(n, t, `verify ${file}`) : undefined);
        o.log?.(`${file}: already in ${dir} and verified, not run again`);
        return release;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        o.log?.(`${file} in ${dir} does not verify (${e.message}): running ${img.image} again`);
      }
    }
  }

  const docker = findOnPath('docker');
  if (!docker) throw new ConfigError('docker: not found on PATH (install docker.io, or download the release assets into a folder)', { where: `docker:${tag}` });
  fs.mkdirSync(dir, { recursive: true });
  // --platform: a multi-arch tag must give the box's arch, not the host's; a foreign arch needs qemu-user binfmt.
  const run = (cmd: string) => ['run', '--rm', '--platform', `linux/${arch}`, img.image, cmd];

  let version = o.version;
  if (!version) {
    o.log?.(`docker ${run('version').join(' ')}`);
    const v = await execa(docker, run('version'), { reject: false, stdin: 'ignore', ...(o.signal ? { cancelSignal: o.signal } : {}) });
    if (o.signal?.aborted) throw o.signal.reason;
    if (v.exitCode !== 0) throw dockerFailed(img, 'version', v.exitCode, String(v.stderr), arch);
    version = String(v.stdout).trim().split('\n').pop()?.trim();
    if (!version) throw new ConfigError(`docker run ${img.image} version printed nothing: give --release-version`, { where: `docker:${img.tag}` });
  }
  // As `version` prints it (14.5.1-kvm-amd64, 17.3.0-nvidia-jp6-kvm-arm64); locateLocalRelease takes the tag from it.
  fs.writeFileSync(versionFile, `${version}\n`);

  // installer_net too (assets.yml publishes it for generic images only): the ipxe-http media serves it.
  const sumLines = [`${await dockerToFile(docker, run('installer_raw'), path.join(dir, file), img, arch, o)}  ${file}`];
  if (netFile) sumLines.push(`${await dockerToFile(docker, run('installer_net'), path.join(dir, netFile), img, arch, o)}  ${netFile}`);
  fs.writeFileSync(path.join(dir, sums), `${sumLines.join('\n')}\n`);
  fs.writeFileSync(sourceFile, `${img.image}\n`);

  // The version file (not `version`, which may carry -<hv>-<arch>) unless the caller named one.
  const release = locateLocalRelease(dir, arch, o.version ? { version: o.version } : {});
  await verifyRelease(release, o.onProgress ? (n, t) => o.onProgress!(n, t, `verify ${file}`) : undefined);
  return release;
}

/** `docker run ... CMD` streamed into `dest` (through dest.part, renamed once complete); its sha256 as it streamed by. */
async function dockerToFile(docker: string, args: string[], dest: string, img: EveImage, arch: ReleaseArch, o: FetchOptions): Promise<string> {
  const cmd = args[args.length - 1]!;
  const part = `${dest}.part`;
  o.log?.(`docker ${args.join(' ')} > ${dest}`);
  const proc = execa(docker, args, {
    reject: false,
    stdin: 'ignore',
    buffer: { stdout: false, stderr: true },
    // Ends docker (and with it the container: docker run proxies signals) on abort; execa also ends it on our exit.
    ...(o.signal ? { cancelSignal: o.signal } : {}),
    forceKillAfterDelay: 5000,
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const copied = pipeline(
    proc.stdout,
    async function* (src: AsyncIterable<Buffer>) {
      for await (const chunk of src) {
        hash.update(chunk);
        bytes += chunk.length;
        o.onProgress?.(bytes, undefined, `docker ${img.tag} ${cmd}`);
        yield chunk;
      }
    },
    fs.createWriteStream(part),
  );
  const [copy, result] = await Promise.allSettled([copied, proc]);
  if (o.signal?.aborted) {
    fs.rmSync(part, { force: true });
    throw o.signal.reason;
  }
  // A failed write (disk full) is the cause even though docker then dies of the closed pipe.
  if (copy.status === 'rejected') {
    fs.rmSync(part, { force: true });
    throw new LabError(`writing ${part}: ${describeSystemError(copy.reason)}`, { where: part, cause: copy.reason });
  }
  const r = result.status === 'fulfilled' ? result.value : undefined;
  if (!r || r.exitCode !== 0) {
    fs.rmSync(part, { force: true });
    throw dockerFailed(img, cmd, r?.exitCode, String(r?.stderr ?? (result as PromiseRejectedResult).reason), arch);
  }
  if (bytes === 0) {
    fs.rmSync(part, { force: true });
    throw new ConfigError(`docker run ${img.image} ${cmd} printed nothing (exit 0)`, { where: `docker:${img.tag}` });
  }
  fs.renameSync(part, dest);
  return hash.digest('hex');
}

function dockerFailed(img: EveImage, cmd: string, exitCode: number | undefined, stderr: string, arch: ReleaseArch): ConfigError {
  const tail = stderr.trim().split('\n').slice(-5).join('\n');
  const host = process.arch === 'x64' ? 'amd64' : process.arch;
  const hint = /exec format error/i.test(stderr) && host !== arch ? ` (an ${arch} image on this ${host} host needs qemu-user binfmt: apt-get install qemu-user-static)` : '';
  return new ConfigError(`docker run ${img.image} ${cmd} failed (exit ${exitCode ?? '?'}): ${tail || 'no output'}${hint}`, { where: `docker:${img.tag}` });
}
