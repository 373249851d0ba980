// Where a file lies inside an ISO 9660 image, read from its directory records (no mount, no root): enough to
// rewrite a file of fixed size in place, as the netboot remaster does with installer.iso's config.img.
// EVE's ISO (xorriso -as mkisofs -R) records 8.3 upper-case names with ";1" beside Rock Ridge names; the ISO 9660
// name is matched, case-insensitively, without its version, which is the same for the short names looked up here.
import fs from 'node:fs';
import { ConfigError } from '../errors.ts';

const SECTOR = 2048;

export interface IsoExtent {
  /** Byte offset of the file's data in the image. */
  offset: number;
  size: number;
}

interface DirEntry extends IsoExtent {
  name: string;
  dir: boolean;
}

function readAt(fd: number, offset: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  const n = fs.readSync(fd, b, 0, length, offset);
  return b.subarray(0, n);
}

/** The records of one directory extent ('.' and '..' left out); records never cross a sector. */
function readDir(fd: number, extent: IsoExtent): DirEntry[] {
  const data = readAt(fd, extent.offset, extent.size);
  const out: DirEntry[] = [];
  let pos = 0;
  while (pos < data.length) {
    const len = data[pos]!;
    if (len === 0) {
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR;
      continue;
    }
    if (len < 34 || pos + len > data.length) break;
    const nameLen = data[pos + 32]!;
    const raw = data.subarray(pos + 33, pos + 33 + nameLen);
    if (!(nameLen === 1 && raw[0]! <= 1)) {
      const name = raw.toString('latin1').replace(/;\d+$/, '').replace(/\.$/, '');
      out.push({ name, offset: data.readUInt32LE(pos + 2) * SECTOR, size: data.readUInt32LE(pos + 10), dir: (data[pos + 25]! & 2) !== 0 });
    }
    pos += len;
  }
  return out;
}

/** The extent of `isoPath` (e.g. `config.img`, `EFI/BOOT/grub.cfg`) in the image, or undefined when absent. */
export function findIsoFile(image: string, isoPath: string): IsoExtent | undefined {
  const fd = fs.openSync(image, 'r');
  try {
    const pvd = readAt(fd, 16 * SECTOR, SECTOR);
    if (pvd.length < 190 || pvd[0] !== 1 || pvd.toString('latin1', 1, 6) !== 'CD001') {
      throw new ConfigError(`${image} is not an ISO 9660 image (no primary volume descriptor at sector 16)`, { where: image });
    }
    let here: IsoExtent = { offset: pvd.readUInt32LE(156 + 2) * SECTOR, size: pvd.readUInt32LE(156 + 10) };
    const parts = isoPath.split('/').filter(Boolean);
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const e = readDir(fd, here).find((d) => d.name.toLowerCase() === part.toLowerCase() && d.dir === !last);
      if (!e) return undefined;
      here = { offset: e.offset, size: e.size };
    }
    return here;
  } finally {
    fs.closeSync(fd);
  }
}
