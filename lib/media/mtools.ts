// mtools on FAT images without root: `-i image@@offset` addresses a partition inside a disk image (lib/media/gpt.ts
// finds the offset). MTOOLS_SKIP_CHECK: the images are made by others (EVE's build, mkfs.vfat) and mtools' geometry
// check refuses some that the kernel mounts fine.
import { execa } from 'execa';
import { LabError } from '../errors.ts';

const ENV = { MTOOLS_SKIP_CHECK: '1' };

/** Run an mtools command that must succeed; a failure is a LabError with mtools' own words. */
export async function mtools(tool: string, args: string[]): Promise<void> {
  const r = await execa(tool, args, { reject: false, env: ENV });
  if (r.exitCode !== 0) throw new LabError(`${tool} ${args.join(' ')} failed: ${String(r.stderr || r.stdout).trim()}`);
}

/** The content of `file` (`::/path`) in the FAT at `image`, or undefined when it is not there. */
export async function fatFile(image: string, file: string): Promise<string | undefined> {
  const r = await execa('mtype', ['-i', image, file], { reject: false, env: ENV });
  return r.exitCode === 0 ? String(r.stdout) : undefined;
}

/** Whether `entry` (`::/path`, a file or a folder) exists in the FAT at `image`. */
export async function fatHas(image: string, entry: string): Promise<boolean> {
  return (await execa('mdir', ['-b', '-i', image, entry], { reject: false, env: ENV })).exitCode === 0;
}
