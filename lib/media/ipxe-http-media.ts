// The ipxe-http boot media method: the release's netboot set served over HTTP from the runner, and an iPXE script
// (eve-qual.ipxe) that boots it with the harness's kernel arguments. The box gets there by itself: its DHCP boot
// file name (a lab's DHCP server, or QEMU's `bootfile=`) or an operator typing `chain URL` at an iPXE prompt; eve-qual
// prints that URL on attach.
//
// The netboot set, as EVE releases ship it:
//   15.3 on:      <arch>.<hv>.<platform>.installer-net.tar, unpacked into the work folder and served as its paths;
//   up to ~13.3:  loose <arch>.ipxe.efi.cfg, <arch>.kernel, <arch>.initrd.img (+ .initrd.bits, .rootfs.img, ...),
//                 served under their own names (their script fetches ${url}kernel with url = .../<arch>.).
// eve-qual.ipxe is the set's ipxe.efi.cfg with `set url` pointing at us (the address the box reached us on, from the
// request's Host header), its own `set url` lines disabled, and InstallerMedia.kernelArgs (consoles with the box's
// serial port last, getty, installer options) appended to every `kernel` line (console= tokens written literally
// there are dropped: ours replace them, as the CONFIG grub.cfg's dom0_console does). EVE's own ipxe.efi.cfg (13.4 on)
// has no kernel line: it chains GRUB, which never sees iPXE's arguments. GRUB loop-mounts installer.iso and sources
// the grub.cfg of ($cmddevice)/config.img, so the prepared CONFIG partition (authorized_keys, grub.cfg) is served
// as config.img at the top: that is how the installer's kernel gets the serial console and installer options. The
// installer itself installs the config.img inside installer.iso, so a tar set is first verified against the
// release's sha256sums and then remastered with the same CONFIG (netboot-remaster.ts), as `installer_net` with
// `-v <dir>:/in` builds it: otherwise the installed box would have neither the key nor a serial getty.
//
// detach keeps serving, but eve-qual.ipxe then only exits: iPXE hands back to the firmware, which boots the next
// device, the disk. A box whose firmware tries the network first on every boot so boots its disk after the install
// instead of installing again; stopping the server would leave such a box retrying DHCP and HTTP until its firmware
// gives up. close() stops serving.
import { execa } from 'execa';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ConfigError, LabError } from '../errors.ts';
import type { ReleaseArch } from '../release/asset-names.ts';
import { parseSums, sha256File } from '../release/checksum.ts';
import type { BootMedia, InstallerMedia } from './boot-media.ts';
import { configPartitionOf } from './gpt.ts';
import { requestHost, serveFolder, type FolderRequest, type FolderServer } from './http-folder-server.ts';
import { remasterNetbootIso } from './netboot-remaster.ts';

/** The path of the script the box chains. */
export const SCRIPT_NAME = 'eve-qual.ipxe';
/** Where the prepared CONFIG partition is served (beside the set's files). */
export const CONFIG_NAME = 'config.img';

const NET_TAR = /^(amd64|arm64)\.([a-z0-9]+)\.([a-z0-9-]+)\.installer-net\.tar$/;
/** The files of an older release's netboot set, after the `<arch>.` prefix. */
const LEGACY_PARTS = ['ipxe.efi.cfg', 'kernel', 'initrd.img', 'initrd.bits', 'rootfs.img', 'installer.img', 'ipxe.efi', 'ipxe.efi.ip.cfg'];
const LEGACY_REQUIRED = ['ipxe.efi.cfg', 'kernel', 'initrd.img'];

/** A netboot set found in a release folder (not yet unpacked). */
export type NetbootAsset =
  | { kind: 'tar'; dir: string; file: string; hv: string; platform: string }
  | { kind: 'legacy'; dir: string; arch: ReleaseArch; files: string[] };

/** A set ready to serve. */
export interface NetbootSet {
  /** What the release holds, as named in its folder (for messages). */
  source: string;
  /** URL path (no leading /) → file. */
  files: Map<string, string>;
  /** What ${url} ends with for the set's script: '' for a tar, '<arch>.' for the loose files of older releases. */
  urlPrefix: string;
  /** The set's own iPXE script. */
  script: string;
}

function expectedNames(arch: ReleaseArch): string {
  return `${arch}.<hv>.<platform>.installer-net.tar (EVE 15.3 on, e.g. ${arch}.kvm.generic.installer-net.tar) or ${LEGACY_REQUIRED.map((p) => `${arch}.${p}`).join(', ')} (older releases)`;
}

/** The release's netboot set for `arch`: the installer-net.tar (kvm and generic preferred), else the loose files. */
export function findNetbootAsset(releaseDir: string, arch: ReleaseArch): NetbootAsset {
  let names: string[];
  try {
    names = fs.readdirSync(releaseDir);
  } catch (e) {
    throw new ConfigError(`release folder ${releaseDir} cannot be read: ${(e as Error).message}`, { where: releaseDir });
  }
  const tars = names
    .map((n) => ({ n, m: NET_TAR.exec(n) }))
    .filter((x) => x.m && x.m[1] === arch)
    .map((x) => ({ file: x.n, hv: x.m![2]!, platform: x.m![3]! }))
    .sort((a, b) => (a.hv === 'kvm' ? 0 : 10) + (a.platform === 'generic' ? 0 : 1) - ((b.hv === 'kvm' ? 0 : 10) + (b.platform === 'generic' ? 0 : 1)) || a.file.localeCompare(b.file));
  if (tars.length) return { kind: 'tar', dir: releaseDir, ...tars[0]! };
  const legacy = LEGACY_PARTS.map((p) => `${arch}.${p}`).filter((n) => names.includes(n));
  if (LEGACY_REQUIRED.every((p) => legacy.includes(`${arch}.${p}`))) return { kind: 'legacy', dir: releaseDir, arch, files: legacy };
  throw new ConfigError(`release folder ${releaseDir} has no netboot set for ${arch} (media ipxe-http needs one): expected ${expectedNames(arch)}`, { where: releaseDir });
}

/** Check the tar against the release's checksum file when that lists it. */
async function verifyTar(a: Extract<NetbootAsset, { kind: 'tar' }>, say: (l: string) => void): Promise<void> {
  const arch = a.file.split('.')[0]!;
  const sumsName = `${arch}.${a.hv}.${a.platform}.sha256sums`;
  const sumsFile = path.join(a.dir, sumsName);
  const want = fs.existsSync(sumsFile) ? parseSums(fs.readFileSync(sumsFile, 'utf8')).get(a.file) : undefined;
  if (!want) {
    // EVE lists every asset of a release in its sums (assets.yml), docker fetches write one: nothing unchecked is served.
    throw new ConfigError(`${sumsName} ${fs.existsSync(sumsFile) ? 'does not list' : 'is missing, so nothing verifies'} ${a.file}: the netboot set is not served unverified`, { where: sumsFile });
  }
  say(`ipxe-http: ${a.file} verified against ${sumsName}`);
  const got = await sha256File(path.join(a.dir, a.file));
  if (got !== want) {
    throw new ConfigError(`${a.file} does not match ${sumsName}: sha256 ${got}, expected ${want} (truncated or corrupt download?)`, { where: path.join(a.dir, a.file) });
  }
}

/** Regular files under `dir`, by path relative to it with / separators (symlinks are not served). */
function filesUnder(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = fs.lstatSync(path.join(dir, r));
    if (st.isDirectory()) for (const [k, v] of filesUnder(dir, r)) out.set(k, v);
    else if (st.isFile()) out.set(r, path.join(dir, r));
  }
  return out;
}

/** Unpack (a tar) or list (loose files) the set into something servable; `workDir` is ours to overwrite. */
export async function prepareNetbootSet(a: NetbootAsset, workDir: string, say: (l: string) => void = () => undefined): Promise<NetbootSet> {
  if (a.kind === 'legacy') {
    const files = new Map(a.files.map((n) => [n, path.join(a.dir, n)] as const));
    const cfg = `${a.arch}.ipxe.efi.cfg`;
    return { source: a.files.join(', '), files, urlPrefix: `${a.arch}.`, script: fs.readFileSync(path.join(a.dir, cfg), 'utf8') };
  }
  await verifyTar(a, say);
  const dir = path.join(workDir, 'net');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const r = await execa('tar', ['-xf', path.join(a.dir, a.file), '-C', dir, '--no-same-owner', '--no-same-permissions'], { reject: false });
  if (r.exitCode !== 0) {
    throw new ConfigError(`cannot unpack ${a.file}: ${String(r.stderr || r.message).trim()} (is it a complete tar?)`, { where: path.join(a.dir, a.file) });
  }
  const files = filesUnder(dir);
  const cfg = files.get('ipxe.efi.cfg');
  if (!cfg) throw new ConfigError(`${a.file} has no ipxe.efi.cfg at its top: not an EVE netboot set`, { where: path.join(a.dir, a.file) });
  return { source: a.file, files, urlPrefix: '', script: fs.readFileSync(cfg, 'utf8') };
}

/** Copy the prepared installer's CONFIG partition into a file of its own (EVE's config.img). */
export async function extractConfigPartition(image: string, target: string): Promise<void> {
  const config = configPartitionOf(image);
  await pipeline(fs.createReadStream(image, { start: config.offset, end: config.offset + config.size - 1 }), fs.createWriteStream(target));
}

function checkArgs(args: readonly string[]): void {
  for (const a of args) {
    if (!a || /\s/.test(a) || a.includes('${')) {
      throw new ConfigError(`kernel argument ${JSON.stringify(a)} cannot go on an iPXE kernel line (no spaces, no \${)`, { where: 'install.extraArgs' });
    }
  }
}

/**
 * eve-qual.ipxe for the installer: `set url`, then the set's script with its own `set url` lines disabled and the
 * harness's arguments on every `kernel` line. `kernelLines` says how many lines took them (0: the script chains
 * something else, such as GRUB, and the arguments travel only in config.img).
 */
export function installerScript(setScript: string, o: { url: string; kernelArgs: readonly string[]; title: string }): { text: string; kernelLines: number } {
  checkArgs(o.kernelArgs);
  const ourConsoles = o.kernelArgs.some((a) => a.startsWith('console='));
  const out = ['#!ipxe', `# ${o.title}`, `set url ${o.url}`];
  let kernelLines = 0;
  for (const line of setScript.replace(/\r\n/g, '\n').split('\n')) {
    if (/^#!ipxe\s*$/.test(line)) continue;
    if (/^\s*set\s+url(\s|$)/.test(line)) {
      out.push(`# eve-qual sets url above: ${line.trim()}`);
      continue;
    }
    const m = /^(\s*kernel\s+)(.*)$/.exec(line);
    if (m) {
      kernelLines++;
      const theirs = m[2]!.trim().split(/\s+/).filter((t) => !(ourConsoles && t.startsWith('console=')));
      out.push(`${m[1]}${[...theirs, ...o.kernelArgs].join(' ')}`);
      continue;
    }
    out.push(line);
  }
  return { text: `${out.join('\n').trimEnd()}\n`, kernelLines };
}

/** eve-qual.ipxe once the installer is detached: back to the firmware, which boots the next device (the disk). */
export function detachedScript(box: string): string {
  return ['#!ipxe', `echo eve-qual: the installer is detached from ${box}: leaving iPXE so the firmware boots the disk`, 'exit 1', ''].join('\n');
}

export interface IpxeHttpMediaOptions {
  /** The profile's media.listen: HOST:PORT the box reaches the runner on (port 0: any free port). */
  listen: string;
  /** The box's name, for messages and the script's comments. */
  box?: string;
  /** Progress lines (the URL the box must chain, what it fetched). */
  say?: (line: string) => void;
  /** Where the set is unpacked and config.img written (default: `ipxe-http/` beside the prepared image). */
  workDir?: string;
  /** The profile field of the listen address, for error messages. */
  field?: string;
}

export class IpxeHttpMedia implements BootMedia {
  readonly method = 'ipxe-http';
  private server: FolderServer | null = null;
  private starting: Promise<FolderServer> | null = null;
  private mode: 'none' | 'installer' | 'detached' = 'none';
  private set: NetbootSet | null = null;
  private kernelArgs: string[] = [];
  private served = new Set<string>();
  private closed = false;

  constructor(readonly opts: IpxeHttpMediaOptions) {}

  private get say(): (l: string) => void {
    return this.opts.say ?? (() => undefined);
  }

  private get box(): string {
    return this.opts.box ?? 'the box';
  }

  /** Bind the listen address (attach does it too): a port in use is a ConfigError raised before the box is touched. */
  async start(): Promise<string> {
    if (this.closed) throw new LabError(`ipxe-http media of ${this.box} is closed`);
    this.starting ??= serveFolder(this.opts.listen, {
      field: this.opts.field ?? 'media.listen',
      onRequest: (r) => this.onRequest(r),
    }).then((s) => (this.server = s));
    try {
      return (await this.starting).base;
    } catch (e) {
      this.starting = null;
      throw e;
    }
  }

  /** `http://HOST:PORT/` as the runner listens, once started. */
  get base(): string | undefined {
    return this.server?.base;
  }

  /** The URL the box must chain, as the runner listens (a VM on user networking reaches loopback at 10.0.2.2). */
  get scriptUrl(): string | undefined {
    return this.server ? `${this.server.base}${SCRIPT_NAME}` : undefined;
  }

  /** The script as a box reaching us on `host` (HOST:PORT) would get it now. */
  scriptFor(host?: string): string {
    if (this.mode !== 'installer' || !this.set) return detachedScript(this.box);
    const base = host ? `http://${host}/` : this.server!.base;
    return installerScript(this.set.script, {
      url: `${base}${this.set.urlPrefix}`,
      kernelArgs: this.kernelArgs,
      title: `eve-qual: ${this.set.source} for ${this.box}, with the harness's kernel arguments and CONFIG (${CONFIG_NAME})`,
    }).text;
  }

  async attach(media: InstallerMedia): Promise<void> {
    const base = await this.start();
    const server = this.server!;
    const work = this.opts.workDir ?? path.join(path.dirname(media.image), 'ipxe-http');
    fs.mkdirSync(work, { recursive: true });
    const asset = findNetbootAsset(media.releaseDir, media.arch);
    const set = await prepareNetbootSet(asset, work, this.say);
    const configImg = path.join(work, CONFIG_NAME);
    await extractConfigPartition(media.image, configImg);
    if (asset.kind === 'tar') {
      const r = await remasterNetbootIso(set.source, set.files.get('installer.iso'), media.image, work);
      this.say(`ipxe-http: installer.iso of ${set.source} remastered with the prepared CONFIG (${r.files.join(', ')}; read back and compared), sha256 ${r.sha256}`);
    } else {
      this.say(`ipxe-http: ${set.source} is an older loose set: its installer gets the CONFIG only from the served ${CONFIG_NAME} (not checked against a real one)`);
    }
    // Check the script can be made before anything is served (bad kernel arguments are a config error).
    const { kernelLines } = installerScript(set.script, { url: base, kernelArgs: media.kernelArgs, title: '' });
    if (this.set) for (const p of this.set.files.keys()) server.set(`/${p}`, null);
    for (const [p, file] of set.files) server.set(`/${p}`, { file });
    server.set(`/${CONFIG_NAME}`, { file: configImg });
    server.set(`/${SCRIPT_NAME}`, { body: (req: http.IncomingMessage) => this.scriptFor(requestHost(req)), contentType: 'text/plain; charset=utf-8' });
    this.set = set;
    this.kernelArgs = [...media.kernelArgs];
    this.mode = 'installer';
    this.served.clear();
    const url = this.scriptUrl!;
    this.say(`ipxe-http: serving ${set.source} (${set.files.size} files) and ${CONFIG_NAME} (the prepared CONFIG) on ${base}`);
    if (kernelLines === 0) this.say(`ipxe-http: ${set.source}'s ipxe.efi.cfg boots no kernel itself (it chains GRUB): the installer's kernel arguments reach it only through ${CONFIG_NAME}'s grub.cfg`);
    this.say(`ipxe-http: the box must chain ${url} (its DHCP boot file name, or at the iPXE prompt: chain ${url})`);
  }

  async detach(): Promise<void> {
    if (this.mode !== 'installer') return;
    this.mode = 'detached';
    this.say(`ipxe-http: installer detached: ${this.scriptUrl} now exits, so the firmware boots the disk`);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.mode = 'none';
    const s = this.server ?? (await this.starting?.catch(() => null));
    this.server = null;
    await s?.stop();
  }

  private onRequest(r: FolderRequest): void {
    const name = r.path.replace(/^\//, '');
    if (r.status >= 400) {
      this.say(`ipxe-http: ${r.remote} asked for ${r.path}: ${r.status === 404 ? 'not served (404)' : r.status}`);
      return;
    }
    if (name === SCRIPT_NAME) {
      this.say(`ipxe-http: ${r.remote} fetched ${SCRIPT_NAME} (${this.mode === 'installer' ? 'boots the installer' : 'exits to the disk'})`);
      return;
    }
    if (this.served.has(name)) return;
    this.served.add(name);
    this.say(`ipxe-http: ${r.remote} fetched ${name} (${r.bytes} bytes)`);
  }
}
