// A release folder shaped like EVE 17.1.0 and later: amd64.kvm.generic.installer.raw.zst compressed as EVE's
// .github/workflows/assets.yml does it ("zstd -T0 --rm -q --long=30", since commit cbee1b17d), from an installer
// larger than zstd's default 128 MiB decompression window. The window a frame declares is the smaller of 2^30 and the
// input's size, so only an image past 128 MiB makes a plain `zstd -d` refuse it, as it refuses EVE's real files.
// The fixture's installer is grown with zeros after its last partition (cheap to compress, the window is the same)
// and its GPT backup header moved to the new end, as on a real image of that size.
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Past zstd's default window limit (2^27 bytes), so the frame declares a window a plain `zstd -d` refuses. */
export const LONG_WINDOW_SIZE = 136 * 1024 * 1024;

export interface LongWindowRelease {
  /** The release folder, named after the fixture's version so the installed box's /run/eve-release matches. */
  dir: string;
  /** The compressed installer in it. */
  zst: string;
  /** The uncompressed image it was made from (outside the folder), to compare a decompressed copy with. */
  raw: string;
}

/** Builds the folder under `parent` from the fixture release's amd64 installer. */
export async function longWindowRelease(fixtureDir: string, parent: string): Promise<LongWindowRelease> {
  const version = path.basename(fixtureDir);
  const dir = path.join(parent, version);
  fs.mkdirSync(dir, { recursive: true });
  const raw = path.join(parent, 'amd64.kvm.generic.installer.raw');
  fs.copyFileSync(path.join(fixtureDir, 'amd64.kvm.generic.installer.raw'), raw);
  fs.truncateSync(raw, LONG_WINDOW_SIZE);
  await execa('sfdisk', ['--quiet', '--relocate', 'gpt-bak-std', raw]);
  const zst = path.join(dir, 'amd64.kvm.generic.installer.raw.zst');
  // As assets.yml, less --rm: the raw image is kept for the comparison.
  await execa('zstd', ['-T0', '-q', '--long=30', '-o', zst, raw]);
  const sum = createHash('sha256').update(fs.readFileSync(zst)).digest('hex');
  fs.writeFileSync(path.join(dir, 'amd64.kvm.generic.sha256sums'), `${sum}  amd64.kvm.generic.installer.raw.zst\n`);
  return { dir, zst, raw };
}
