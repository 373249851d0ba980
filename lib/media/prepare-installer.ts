// Media preparation: a working copy of the installer image with the harness's configuration in its CONFIG
// partition, written with mtools (no root, no loop devices):
//   authorized_keys  the run's public key (or the profile's), so SSH works on the installed box (and in
//                    GlobalConfig/global.json's debug.enable.ssh when the release brings one: EVE then reads that);
//   grub.cfg         the box's serial console LAST in dom0_console (EVE sends installer output to the last
//                    console=), getty for a root shell, and the installer options derived from the profile.
import { execa } from 'execa';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import type { Profile } from '../profile/schema.ts';
import { configPartitionOf } from './gpt.ts';
import { fatFile, fatHas, mtools } from './mtools.ts';
import { GLOBAL_CONFIG_PATH, withSshKey } from './global-config.ts';
import { DPC_PATH, networkConfigFor, type NetworkConfigPlan } from './network-config.ts';

export interface PreparedInstaller {
  image: string;
  grubCfg: string;
  installerArgs: string[];
  /** What the grub.cfg above adds to the kernel command line. */
  kernelArgs: string[];
  /** The network config listing the declared modems (EVE's DevicePortConfig), `written` false with `why` if none. */
  networkConfig: NetworkConfigPlan & { written: boolean; why?: string };
}

/** The installer options EVE reads from the kernel command line, derived from the profile. */
export function installerArgs(profile: Profile, opts: { rebootAfterInstall: boolean }): string[] {
  const args: string[] = [];
  const disk = profile.install.disk;
  if (disk) args.push(`eve_install_disk=${disk}`);
  // Wipe the target's partition table first: reinstalling over an old EVE can fail otherwise (EVE issue #4950).
  const nuke = profile.install.nukeDisks ?? (disk ? [disk] : []);
  if (nuke.length) args.push(`eve_nuke_disks=${nuke.join(',')}`);
  if (opts.rebootAfterInstall) args.push('eve_reboot_after_install');
  // Post-install verification needs Internet access, which lab networks often lack.
  if (!profile.install.verify) args.push('eve_disable_verify');
  args.push(...profile.install.extraArgs);
  return args;
}

/** The console= arguments: the box's serial console last (EVE's installer writes to the last one). */
export function consoleArgs(profile: Profile): string[] {
  const serial = `console=${profile.console.device},${profile.console.baud}`;
  return profile.box.arch === 'amd64' ? ['console=tty0', serial] : [serial];
}

/** The kernel command line additions the CONFIG grub.cfg makes, for boot methods that bypass that partition. */
export function installerKernelArgs(profile: Profile, args: string[]): string[] {
  return [...consoleArgs(profile), 'getty', ...args];
}

export function configGrubCfg(profile: Profile, args: string[]): string {
  return [
    '# Written by eve-qual: serial console last (EVE routes installer output to the last console=),',
    '# a root getty on it, and the installer options for this box.',
    `set_global dom0_console "${consoleArgs(profile).join(' ')}"`,
    'set_getty',
    `set_global dom0_extra_args "$dom0_extra_args ${args.join(' ')} "`,
    '',
  ].join('\n');
}

// EVE 17.1+ compresses with `zstd --long=30` (assets.yml): frames declare windows up to 1 GiB, past the 128 MiB a
// plain `zstd -d` accepts. --long=31 takes any window zstd can make (up to 2 GiB), streaming as ever; the memory
// it takes is the frame's window, capped at the image's size.
export const ZSTD_DECOMPRESS_ARGS = ['-d', '--long=31'] as const;

async function decompressZstd(source: string, target: string): Promise<void> {
  const r = await execa('zstd', [...ZSTD_DECOMPRESS_ARGS, '-q', '-f', '-o', target, source], { reject: false });
  if (r.exitCode !== 0) {
    throw new ConfigError(`cannot decompress ${source}: ${String(r.stderr || r.stdout || r.message || '').trim()} (is it a complete .zst? the zstd tool is in Debian's zstd package)`, { where: source });
  }
}

/** Enough of an image's start for its partition table and the first partitions' boot sectors. */
const HEAD_BYTES = 1 << 20;

/** The first bytes of a .zst installer, unpacked as a stream that is stopped once they are in. */
export async function zstdHead(source: string, bytes = HEAD_BYTES): Promise<Buffer> {
  const proc = execa('zstd', [...ZSTD_DECOMPRESS_ARGS, '-q', '-c', source], { reject: false, buffer: false, stderr: 'pipe' });
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const chunk of proc.stdout as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    got += chunk.length;
    if (got >= bytes) break;
  }
  proc.kill();
  const r = await proc;
  if (got < bytes && r.exitCode !== 0) {
    throw new ConfigError(`cannot decompress ${source}: ${String(r.stderr ?? r.message ?? '').trim()} (is it a complete .zst? the zstd tool is in Debian's zstd package)`, { where: source });
  }
  return Buffer.concat(chunks).subarray(0, bytes);
}

export async function prepareInstaller(
  source: string,
  workDir: string,
  profile: Profile,
  opts: { authorizedKey: string; rebootAfterInstall: boolean },
): Promise<PreparedInstaller> {
  fs.mkdirSync(workDir, { recursive: true });
  const image = path.join(workDir, 'installer.raw');
  // The source stays untouched (verified, shared between runs); the copy is ours to modify. EVE 17+ ships
  // installer.raw.zst: decompressed as a stream, never held in memory.
  if (source.endsWith('.zst')) await decompressZstd(source, image);
  else fs.copyFileSync(source, image);
  const config = configPartitionOf(image, source);
  const target = `${image}@@${config.offset}`;
  const keyFile = path.join(workDir, 'authorized_keys');
  fs.writeFileSync(keyFile, opts.authorizedKey.trim() + '\n');
  const args = installerArgs(profile, opts);
  const grubCfg = configGrubCfg(profile, args);
  const grubFile = path.join(workDir, 'config-grub.cfg');
  fs.writeFileSync(grubFile, grubCfg);
  await mtools('mcopy', ['-o', '-i', target, keyFile, '::/authorized_keys']);
  await mtools('mcopy', ['-o', '-i', target, grubFile, '::/grub.cfg']);
  await addKeyToGlobalConfig(target, workDir, opts.authorizedKey, source);
  const networkConfig = await writeNetworkConfig(target, workDir, profile);
  return { image, grubCfg, installerArgs: args, kernelArgs: installerKernelArgs(profile, args), networkConfig };
}

/**
 * A release whose CONFIG holds GlobalConfig/global.json: EVE takes SSH keys from its debug.enable.ssh and ignores
 * authorized_keys (lib/media/global-config.ts), so the key goes in there as well.
 */
export async function addKeyToGlobalConfig(target: string, workDir: string, publicKey: string, source: string): Promise<void> {
  const given = await fatFile(target, `::/${GLOBAL_CONFIG_PATH}`);
  if (given === undefined) return;
  const file = path.join(workDir, 'config-global.json');
  fs.writeFileSync(file, withSshKey(given, publicKey, `${source}: CONFIG ${GLOBAL_CONFIG_PATH}`));
  await mtools('mcopy', ['-o', '-i', target, file, `::/${GLOBAL_CONFIG_PATH}`]);
}

/** CONFIG's DevicePortConfig/override.json listing the declared modems (lib/media/network-config.ts says why). */
async function writeNetworkConfig(target: string, workDir: string, profile: Profile): Promise<PreparedInstaller['networkConfig']> {
  const plan = networkConfigFor(profile, new Date());
  if (plan.json === null) return { ...plan, written: false, why: plan.unlisted.map((u) => u.reason).join('; ') || 'no modem declared' };
  // A release whose CONFIG carries a bootstrap config (a controller's single-use installer): EVE ignores ours.
  if (await fatHas(target, '::/bootstrap-config.pb')) {
    return { ...plan, written: false, why: 'the release\'s CONFIG holds bootstrap-config.pb, with which EVE ignores DevicePortConfig' };
  }
  const file = path.join(workDir, 'config-override.json');
  fs.writeFileSync(file, plan.json);
  if (!(await fatHas(target, '::/DevicePortConfig'))) await mtools('mmd', ['-i', target, '::/DevicePortConfig']);
  await mtools('mcopy', ['-o', '-i', target, file, `::/${DPC_PATH}`]);
  return { ...plan, written: true };
}
