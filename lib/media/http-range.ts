// One `Range: bytes=...` header against a file of `size` bytes, as both media servers answer it (BMCs and iPXE fetch
// images in ranges): the bytes to send and the status, or null for 416. Only single ranges: no BMC asks for more.
import type http from 'node:http';

export interface ByteRange {
  start: number;
  end: number;
  status: 200 | 206;
}

export function byteRange(header: string | undefined, size: number): ByteRange | null {
  if (!header) return { start: 0, end: size - 1, status: 200 };
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end = size - 1;
  if (m[1] === '') start = Math.max(0, size - Number(m[2]));
  else {
    start = Number(m[1]);
    if (m[2] !== '') end = Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end, status: 206 };
}

/** The response head for a range of a file. */
export function rangeHeaders(r: ByteRange, size: number, mtime: Date): http.OutgoingHttpHeaders {
  return {
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(r.end - r.start + 1),
    'Accept-Ranges': 'bytes',
    'Last-Modified': mtime.toUTCString(),
    ...(r.status === 206 ? { 'Content-Range': `bytes ${r.start}-${r.end}/${size}` } : {}),
  };
}
