// `npm run fixtures [-- --arch amd64|arm64]`: builds the fixture release, an EVE-like release made only of Debian
// packages (kernel, busybox-static, dropbear, GRUB EFI, sfdisk), that eve-qual's own tests install and boot in QEMU.
// Prints the release directory (.cache/fixtures/0.0.0-fixture/) on stdout; progress goes to stderr.
//
// The release is laid out and named as a real EVE release of the 15.3+ scheme: <arch>.kvm.generic.installer.raw,
// <arch>.kvm.generic.installer-net.tar (the netboot set, for iPXE) and <arch>.kvm.generic.sha256sums, version
// 0.0.0-fixture (/run/eve-release reads 0.0.0-fixture-kvm-<arch>). What the images contain, and why, is in
// tools/fixtures/build.sh. An architecture is rebuilt only when its inputs change: the
// Debian package versions apt-cache resolves (the kernel from the linux-image-<arch> metapackage) and the files under
// tools/fixtures/.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ConfigError, LabError, exitCodeFor } from '../lib/errors.ts';

const run = promisify(execFile);

export type FixtureArch = 'amd64' | 'arm64';
export const FIXTURE_ARCHES: readonly FixtureArch[] = ['amd64', 'arm64'];
export const FIXTURE_VERSION = '0.0.0-fixture';
export const FIXTURE_HV = 'kvm';
export const FIXTURE_PLATFORM = 'generic';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NET_RETRY = path.join(REPO, 'tools/lib/net-retry.sh');
const TOOL_DIR = path.join(REPO, 'tools', 'fixtures');

/** Asset names of one architecture, as an EVE 15.3+ release names them. */
export function fixtureAssets(arch: FixtureArch): { installerRaw: string; installerNet: string; sha256sums: string } {
  const base = `${arch}.${FIXTURE_HV}.${FIXTURE_PLATFORM}`;
  return { installerRaw: `${base}.installer.raw`, installerNet: `${base}.installer-net.tar`, sha256sums: `${base}.sha256sums` };
}

/** What /etc/eve-release and /run/eve-release read on the fixture, as on EVE: <version>-<hv>-<arch>. */
export function fixtureReleaseString(arch: FixtureArch): string {
  return `${FIXTURE_VERSION}-${FIXTURE_HV}-${arch}`;
}

export interface FixtureBuildOptions {
  arches?: readonly FixtureArch[];
  /** Repository root (default: this checkout); the cache is <root>/.cache. */
  root?: string;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

export interface FixtureRelease {
  /** The release directory: every asset of every built architecture. */
  dir: string;
  /** Architectures rebuilt by this call (empty: everything was up to date). */
  built: FixtureArch[];
  /** Debian package=version per architecture, as used. */
  packages: Record<string, string[]>;
}

/** Debian packages one architecture is made of; the kernel is resolved from the linux-image-<arch> metapackage. */
function packageNames(arch: FixtureArch, kernel: string): string[] {
  return [
    kernel,
    'busybox-static',
    `grub-efi-${arch}-bin`,
    // dropbear and what it links
    'dropbear-bin',
    'libc6',
    'libcrypt1',
    'libtomcrypt1',
    'libtommath1',
    'libgmp10',
    'zlib1g',
    // sfdisk (the installer's partitioning tool) and what it links
    'fdisk',
    'libfdisk1',
    'libsmartcols1',
    'libreadline8',
    'libtinfo6',
    'libblkid1',
    'libuuid1',
    // socat (EVE's debug container has it: the ethernet suite sends through one port with so-bindtodevice)
    'socat',
    'libssl3',
    'libwrap0',
    'libnsl2',
    'libtirpc3',
    'libgssapi-krb5-2',
    'libkrb5-3',
    'libk5crypto3',
    'libkrb5support0',
    'libcom-err2',
    'libkeyutils1',
  ];
}

async function aptCacheShow(specs: string[]): Promise<Array<Record<string, string>>> {
  let stdout: string;
  try {
    ({ stdout } = await run('apt-cache', ['show', '--no-all-versions', ...specs], { maxBuffer: 64 << 20 }));
  } catch (err) {
    throw new LabError(`apt-cache show ${specs.join(' ')} failed: ${(err as Error).message.trim()}`, { cause: err });
  }
  return stdout
    .split(/\n\n+/)
    .filter((b) => b.trim())
    .map((block) => {
      const rec: Record<string, string> = {};
      for (const line of block.split('\n')) {
        const m = /^([A-Za-z-]+): (.*)$/.exec(line);
        if (m) rec[m[1]!] = m[2]!;
      }
      return rec;
    });
}

/**
 * package=version per architecture, resolved by apt. Foreign architectures need `dpkg --add-architecture` and fresh
 * package lists: as root we do both when resolving fails, else we say how. (apt-cache takes a second or more per
 * call where apt keeps no binary cache, so the common path is just the two calls of resolvePackages.)
 */
async function resolveWithLists(arches: readonly FixtureArch[], log: (l: string) => void): Promise<Record<string, string[]>> {
  const native = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  const foreign = (await run('dpkg', ['--print-foreign-architectures'])).stdout.split(/\s+/);
  const missing = arches.filter((a) => a !== native && !foreign.includes(a));
  let firstError: unknown;
  if (missing.length === 0) {
    try {
      return await resolvePackages(arches);
    } catch (err) {
      firstError = err;
    }
  }
  const cmds = [...missing.map((a) => `dpkg --add-architecture ${a}`), 'apt-get update'];
  if (process.getuid?.() !== 0) {
    throw new ConfigError(
      `the Debian package lists for ${arches.join(' and ')} are missing or stale; run as root:\n  ${cmds.join(' && ')}\n` +
        'then npm run fixtures again',
      { cause: firstError },
    );
  }
  log(`fixtures: ${cmds.join(' && ')}`);
  for (const a of missing) await run('dpkg', ['--add-architecture', a]);
  try {
    // Through net_retry: a name lookup of Debian's archive that fails for a minute must not fail the build.
    await run('bash', ['-c', 'source "$1" && net_retry "apt-get update" apt-get update -qq', 'bash', NET_RETRY], {
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    throw new LabError(`apt-get update failed: ${(err as Error).message.trim()}`, { cause: err });
  }
  return resolvePackages(arches);
}

/** package=version per architecture, as apt resolves them now (two apt-cache calls whatever the arches). */
export async function resolvePackages(arches: readonly FixtureArch[]): Promise<Record<string, string[]>> {
  const metas = await aptCacheShow(arches.map((a) => `linux-image-${a}:${a}`));
  const names = new Map<FixtureArch, string[]>();
  for (const arch of arches) {
    const meta = metas.find((r) => r.Package === `linux-image-${arch}` && r.Architecture === arch);
    const kernel = /^(linux-image-[^\s,(]+)/.exec(meta?.Depends ?? '')?.[1];
    if (!kernel) throw new LabError(`cannot resolve the kernel of linux-image-${arch} (Depends: ${meta?.Depends ?? 'none'})`);
    names.set(arch, packageNames(arch, kernel));
  }
  const recs = await aptCacheShow(arches.flatMap((a) => names.get(a)!.map((n) => `${n}:${a}`)));
  const out: Record<string, string[]> = {};
  for (const arch of arches) {
    out[arch] = names.get(arch)!.map((n) => {
      // arch-independent packages (none today) would show Architecture: all
      const rec = recs.find((r) => r.Package === n && (r.Architecture === arch || r.Architecture === 'all'));
      if (!rec?.Version) throw new LabError(`apt-cache knows no ${n}:${arch}`);
      return `${n}=${rec.Version}`;
    });
  }
  return out;
}

/** A digest of the build's own files (scripts, init, GRUB templates, module list). */
function toolDigest(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      const st = fs.lstatSync(p);
      const rel = path.relative(TOOL_DIR, p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.md')) continue; // documentation does not change the images
      else if (st.isSymbolicLink()) h.update(`L ${rel} ${fs.readlinkSync(p)}\n`);
      else {
        h.update(`F ${rel} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\n`);
        h.update(fs.readFileSync(p));
      }
    }
  };
  walk(TOOL_DIR);
  return h.digest('hex');
}

function stampFile(cache: string, arch: FixtureArch): string {
  return path.join(cache, 'fixtures', 'stamps', `${FIXTURE_VERSION}-${arch}`);
}

function upToDate(cache: string, dir: string, arch: FixtureArch, key: string): boolean {
  const a = fixtureAssets(arch);
  try {
    return (
      fs.readFileSync(stampFile(cache, arch), 'utf8').trim() === key &&
      fs.existsSync(path.join(dir, a.installerRaw)) &&
      fs.existsSync(path.join(dir, a.installerNet)) &&
      fs.existsSync(path.join(dir, a.sha256sums))
    );
  } catch {
    return false;
  }
}

function runBuild(args: string[], cache: string, log: (l: string) => void): Promise<void> {
  fs.mkdirSync(path.join(cache, 'fixtures'), { recursive: true });
  const lock = path.join(cache, 'fixtures', '.lock');
  return new Promise((resolve, reject) => {
    // flock: two builds (a test and a developer) never write the same files at once; the second finds the stamp
    const child = spawn('flock', [lock, 'bash', path.join(TOOL_DIR, 'build.sh'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let tail = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      tail = (tail + s).slice(-4000);
      for (const line of s.split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new LabError(`cannot run tools/fixtures/build.sh: ${err.message}`, { cause: err })));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new LabError(`tools/fixtures/build.sh ${args.slice(0, 2).join(' ')} failed (${signal ?? `exit ${code}`})`, {
            tail: tail.trim().split('\n').slice(-15),
          }),
        );
    });
  });
}

/** Builds (when needed) the fixture release for the given architectures and returns where it is. */
export async function buildFixtureRelease(opts: FixtureBuildOptions = {}): Promise<FixtureRelease> {
  const root = opts.root ?? REPO;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cache = path.join(root, '.cache');
  const dir = path.join(cache, 'fixtures', FIXTURE_VERSION);
  const arches = opts.arches ?? FIXTURE_ARCHES;
  const digest = toolDigest();
  const built: FixtureArch[] = [];
  const packages = await resolveWithLists(arches, log);
  for (const arch of arches) {
    const pkgs = packages[arch]!;
    const key = crypto.createHash('sha256').update(JSON.stringify({ arch, pkgs, digest })).digest('hex');
    if (upToDate(cache, dir, arch, key)) continue;
    log(`fixtures: building ${arch} (${pkgs[0]})`);
    await runBuild(['--arch', arch, '--release-dir', dir, '--cache', cache, '--key', key, ...pkgs], cache, log);
    built.push(arch);
  }
  return { dir, built, packages };
}

function parseArgs(argv: string[]): FixtureArch[] {
  const arches: FixtureArch[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = a === '--arch' ? argv[++i] : a.startsWith('--arch=') ? a.slice(7) : undefined;
    if (v === undefined) throw new ConfigError(`unknown argument ${a}\nusage: npm run fixtures [-- --arch amd64|arm64]`);
    if (v !== 'amd64' && v !== 'arm64') throw new ConfigError(`--arch takes amd64 or arm64, not ${v ?? 'nothing'}`);
    if (!arches.includes(v)) arches.push(v);
  }
  return arches.length ? arches : [...FIXTURE_ARCHES];
}

async function main(): Promise<void> {
  try {
    const arches = parseArgs(process.argv.slice(2));
    const release = await buildFixtureRelease({ arches });
    process.stdout.write(`${release.dir}\n`);
  } catch (err) {
    const e = err as Error & { describe?: () => string };
    process.stderr.write(`fixtures: ${e.describe ? e.describe() : e.message}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) {
  await main();
}
