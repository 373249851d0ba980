// The netboot set with the harness's CONFIG inside, as `docker run -v <dir>:/in lfedge/eve installer_net` builds it.
// EVE's netbooted installer installs the config.img its installer.iso carries (runme.sh create_installer_iso puts
// /bits/config.img at the ISO's top; the ISO's grub.cfg hands it to the installer in its initramfs); a config.img
// served beside the set reaches only GRUB. installer_net with /in runs `mcopy -o -s /in/* ::/` on that config.img
// before making the ISO; here the same files (those of the prepared installer's CONFIG partition) are copied with
// mtools into the config.img inside the unpacked installer.iso, in place (a FAT image keeps its size), then read
// back and compared before any box is touched.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, LabError } from '../errors.ts';
import { sha256File } from '../release/checksum.ts';
import { configPartitionOf } from './gpt.ts';
import { findIsoFile } from './iso9660.ts';
import { mtools } from './mtools.ts';

export interface RemasteredIso {
  /** The remastered installer.iso (the unpacked set's own file, rewritten). */
  iso: string;
  sha256: string;
  /** The CONFIG files put in, relative paths. */
  files: string[];
}

/** Files under `dir`, relative, sorted. */
function filesUnder(dir: string, rel = ''): string[] {
  return fs
    .readdirSync(path.join(dir, rel), { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((e) => (e.isDirectory() ? filesUnder(dir, path.join(rel, e.name)) : e.isFile() ? [path.join(rel, e.name)] : []));
}

function digest(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every file of the FAT at `fat` (an mtools image spec: file@@offset) copied into a fresh `dir`. */
async function extractFat(fat: string, dir: string): Promise<void> {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  await mtools('mcopy', ['-s', '-n', '-i', fat, '::/*', dir]);
}

/**
 * Put the CONFIG of the prepared installer `image` into `iso`'s config.img. `source` names the set in messages;
 * `workDir` is ours to overwrite. A set without installer.iso, or an ISO without config.img, cannot carry a CONFIG
 * to the installed box: ConfigError.
 */
export async function remasterNetbootIso(source: string, iso: string | undefined, image: string, workDir: string): Promise<RemasteredIso> {
  if (!iso) throw new ConfigError(`${source} has no installer.iso: eve-qual cannot put its CONFIG (SSH key, serial console) into this netboot set`, { where: source });
  const extent = findIsoFile(iso, 'config.img');
  if (!extent) {
    throw new ConfigError(`installer.iso of ${source} carries no config.img: its installer would install its built-in CONFIG, without the harness's SSH key and serial console`, { where: source });
  }
  const config = configPartitionOf(image);
  const given = path.join(workDir, 'config-in');
  await extractFat(`${image}@@${config.offset}`, given);
  const files = filesUnder(given);
  const target = `${iso}@@${extent.offset}`;
  const top = fs.readdirSync(given).sort().map((n) => path.join(given, n));
  await mtools('mcopy', ['-o', '-s', '-i', target, ...top, '::/']);

  // Read back what the installer will find: every file the same as in the prepared CONFIG.
  const back = path.join(workDir, 'config-check');
  await extractFat(target, back);
  for (const f of files) {
    const got = fs.existsSync(path.join(back, f)) ? digest(path.join(back, f)) : 'missing';
    const want = digest(path.join(given, f));
    if (got !== want) throw new LabError(`remastered ${path.basename(iso)}: config.img's ${f} is ${got === 'missing' ? 'missing' : `sha256 ${got}`} after writing, expected sha256 ${want}`);
  }
  return { iso, sha256: await sha256File(iso), files };
}
