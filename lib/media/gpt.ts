// Reading a GPT partition table from a disk image file, enough to find EVE's partitions (CONFIG) by name or
// filesystem label without root (no loop devices): byte offsets for mtools' `-i image@@offset`.
import fs from 'node:fs';
import { ConfigError } from '../errors.ts';

export interface GptPartition {
  index: number; // 1-based, as the kernel numbers them
  name: string;
  firstLba: number;
  lastLba: number;
  offset: number;
  size: number;
  /** The FAT volume label, if the partition holds a FAT filesystem. */
  fatLabel?: string;
}

const SECTOR = 512;

/** Bytes of an image at an offset: from a file, or from the head of a compressed one (zeros past what it holds). */
type ReadAt = (offset: number, length: number) => Buffer;

function fileReader(fd: number): ReadAt {
  return (offset, length) => {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  };
}

function headReader(head: Buffer): ReadAt {
  return (offset, length) => {
    const b = Buffer.alloc(length);
    if (offset < head.length) head.copy(b, 0, offset, Math.min(head.length, offset + length));
    return b;
  };
}

function fatLabel(boot: Buffer): string | undefined {
  if (boot.readUInt16LE(510) !== 0xaa55) return undefined;
  // FAT32 keeps the label at 0x47 (signature 0x29 at 0x42); FAT12/16 at 0x2B (signature at 0x26).
  const fat32 = boot.readUInt16LE(0x16) === 0;
  const sigAt = fat32 ? 0x42 : 0x26;
  const labelAt = fat32 ? 0x47 : 0x2b;
  if (boot[sigAt] !== 0x29) return undefined;
  return boot.subarray(labelAt, labelAt + 11).toString('latin1').trim();
}

export function readGpt(image: string): GptPartition[] {
  const fd = fs.openSync(image, 'r');
  try {
    return gptOf(fileReader(fd), image);
  } finally {
    fs.closeSync(fd);
  }
}

function gptOf(readAt: ReadAt, image: string): GptPartition[] {
  const hdr = readAt(SECTOR, SECTOR);
  if (hdr.subarray(0, 8).toString('latin1') !== 'EFI PART') throw new Error(`${image} has no GPT partition table`);
  const entriesLba = Number(hdr.readBigUInt64LE(72));
  const count = hdr.readUInt32LE(80);
  const size = hdr.readUInt32LE(84);
  const table = readAt(entriesLba * SECTOR, count * size);
  const parts: GptPartition[] = [];
  for (let i = 0; i < count; i++) {
    const e = table.subarray(i * size, (i + 1) * size);
    if (e.subarray(0, 16).every((b) => b === 0)) continue;
    const firstLba = Number(e.readBigUInt64LE(32));
    const lastLba = Number(e.readBigUInt64LE(40));
    const name = e.subarray(56, 128).toString('utf16le').replace(/\0.*$/s, '');
    const p: GptPartition = { index: i + 1, name, firstLba, lastLba, offset: firstLba * SECTOR, size: (lastLba - firstLba + 1) * SECTOR };
    const label = fatLabel(readAt(p.offset, SECTOR));
    if (label) p.fatLabel = label;
    parts.push(p);
  }
  return parts;
}

/** EVE's CONFIG partition: by GPT name or FAT label. */
export function findConfigPartition(parts: GptPartition[]): GptPartition | undefined {
  return parts.find((p) => p.name === 'CONFIG') ?? parts.find((p) => p.fatLabel === 'CONFIG');
}

/** The CONFIG partition of an installer image; ConfigError naming `shownAs` (the file the user gave) otherwise. */
export function configPartitionOf(image: string, shownAs = image): GptPartition {
  let parts: GptPartition[];
  try {
    parts = readGpt(image);
  } catch (e) {
    // readGpt names the file it read (perhaps a working copy): the user is told of the file they gave.
    const m = (e as Error).message;
    const why = m.startsWith(`${image} `) ? `${shownAs}${m.slice(image.length)}` : `${shownAs}: ${m}`;
    throw new ConfigError(`${why} (is it an EVE installer image?)`, { where: shownAs });
  }
  const config = findConfigPartition(parts);
  if (!config) throw new ConfigError(`${shownAs} has no CONFIG partition (GPT name or FAT label CONFIG)`, { where: shownAs });
  return config;
}

/**
 * The CONFIG partition as the first bytes of an image show it (a compressed installer, checked before anything is
 * unpacked): ConfigError when they hold no GPT, or when every partition starts within them and none is CONFIG;
 * undefined when a partition they cannot show might still be it (media preparation checks the whole image).
 */
export function configPartitionInHead(head: Buffer, shownAs: string): GptPartition | undefined {
  let parts: GptPartition[];
  try {
    parts = gptOf(headReader(head), shownAs);
  } catch (e) {
    throw new ConfigError(`${(e as Error).message} (is it an EVE installer image?)`, { where: shownAs });
  }
  const config = findConfigPartition(parts);
  if (config || parts.some((p) => p.offset + SECTOR > head.length)) return config;
  throw new ConfigError(`${shownAs} has no CONFIG partition (GPT name or FAT label CONFIG)`, { where: shownAs });
}
