// A full disk (or a failing one) under the run folder is a lab fault: the run must stop, say which disk and how full,
// keep every result finished so far, and never end in a stack trace. Writers that cannot throw to anyone who could
// act on it (the console log writes from a socket's data handler; results are written from mocha's events) report
// the fault here instead, and stop writing; the run that listens (lib/run) stops on the first one.
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../errors.ts';

const DISK_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EFBIG']);

export class DiskFaultError extends LabError {
  constructor(
    message: string,
    readonly file: string,
    cause: unknown,
  ) {
    super(message, { where: file, cause });
  }
}

/** The error as a DiskFaultError when it is one (no space, quota, I/O error, read-only), else null. */
export function diskFault(err: unknown, file: string): DiskFaultError | null {
  if (err instanceof DiskFaultError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (!code || !DISK_CODES.has(code)) return null;
  const what = code === 'ENOSPC' || code === 'EDQUOT' ? 'disk full' : `disk fault (${code})`;
  return new DiskFaultError(`${what}: cannot write ${file}: ${freeSpaceText(path.dirname(file))}`, file, err);
}

/** "12.0 MiB free of 64.0 MiB on the file system of DIR" (or why that could not be read). */
export function freeSpaceText(dir: string): string {
  const s = freeSpace(dir);
  return s ? `${mib(s.free)} free of ${mib(s.total)} on the file system of ${s.dir}` : `free space of ${dir} unreadable`;
}

/** Free bytes (for an unprivileged writer) and size of the file system holding `dir` or its nearest existing parent. */
export function freeSpace(dir: string): { free: number; total: number; dir: string } | null {
  let d = path.resolve(dir);
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  try {
    const s = fs.statfsSync(d);
    return { free: s.bavail * s.bsize, total: s.blocks * s.bsize, dir: d };
  } catch {
    return null;
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

type Listener = (e: DiskFaultError) => void;
const listeners = new Set<Listener>();

/** Listen for disk faults that writers report; returns the unsubscribe. */
export function onDiskFault(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Report a disk fault; when nobody listens it is thrown (a tool outside a run sees it as any error). */
export function reportDiskFault(e: DiskFaultError): void {
  if (!listeners.size) throw e;
  for (const l of listeners) l(e);
}
