// Framing for the persistent shell channel: many commands share one `sh` reading from the channel, so each one is
// wrapped to report where its stdout and stderr end and what its exit status was, without a second round trip.
//
// Per command the box sees (one line):
//   { eval 'CMD'; } </dev/null; printf '%03d%s%s' $? A B; printf '%s%s' A B >&2
// - eval: a syntax error in CMD (an unbalanced quote) stays inside CMD instead of swallowing the framing after it;
// - </dev/null: CMD cannot read the commands queued behind it;
// - no subshell: a fork per command would cost more than the whole SSH round trip (the benchmark's budget), so
//   shell state (cwd, variables) carries over like lines of a script; `exit` in CMD ends the shell, which the
//   channel reports as the command's status;
// - the marker A+B is random per command, and printed from two halves so that it never appears whole in the
//   script text itself;
// - the status is fixed-width and sits right before the marker, so the output is exactly the bytes before it
//   (no trailing newline added or removed).
import { randomBytes } from 'node:crypto';
import { shellQuote } from './shell.ts';

/** Marker length in bytes (hex characters): 96 random bits. */
const MARKER_HEX = 24;
/** Exit status digits before the stdout marker. */
export const STATUS_DIGITS = 3;

// One randomBytes call per command shows up in profiles (a syscall each); a pool amortises it.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(chars: number): string {
  const bytes = chars / 2;
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const s = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}

export interface Framed {
  /** The line to write to the shell's stdin. */
  script: string;
  /** What ends the command's stdout (after the status digits) and its stderr. */
  marker: Buffer;
}

/** A fresh marker, and its two halves for printf (so the script never holds it whole). */
export function newMarker(): { a: string; b: string; marker: Buffer } {
  const m = randomHex(MARKER_HEX);
  return { a: m.slice(0, MARKER_HEX / 2), b: m.slice(MARKER_HEX / 2), marker: Buffer.from(m, 'latin1') };
}

export function frame(cmd: string): Framed {
  const { a, b, marker } = newMarker();
  return {
    script: `{ eval ${shellQuote(cmd)}; } </dev/null; printf '%03d%s%s' $? ${a} ${b}; printf '%s%s' ${a} ${b} >&2\n`,
    marker,
  };
}

const EMPTY = Buffer.alloc(0);

/** One output stream of one command: collects chunks until the marker shows up (possibly split across chunks). */
export class MarkedStream {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  /** The last marker.length-1 bytes seen, to find a marker split across chunks. */
  private tail: Buffer = EMPTY;
  /** Offset of the marker in the stream once seen, else -1. */
  end = -1;

  constructor(private readonly marker: Buffer) {}

  /** Add a chunk; true once the marker has been seen. Bytes after the marker belong to no command and are dropped. */
  push(chunk: Buffer): boolean {
    if (this.end >= 0) return true;
    const m = this.marker;
    let at = -1;
    // A marker split across chunks lies within the seam: the previous tail plus the start of this chunk. Searching
    // the seam and the chunk apart avoids copying large chunks.
    if (this.tail.length > 0) {
      const j = Buffer.concat([this.tail, chunk.subarray(0, m.length - 1)]).indexOf(m);
      if (j >= 0) at = this.length - this.tail.length + j;
    }
    if (at < 0) {
      const j = chunk.indexOf(m);
      if (j >= 0) at = this.length + j;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (at >= 0) {
      this.end = at;
      return true;
    }
    const keep = m.length - 1;
    this.tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return false;
  }

  /** Everything received, up to the marker if it was seen. */
  bytes(): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length);
    return this.end >= 0 ? all.subarray(0, this.end) : all;
  }
}

/** Split a finished stdout into the command's output and its exit status. */
export function splitStatus(stdoutWithStatus: Buffer): { out: Buffer; code: number } {
  const n = stdoutWithStatus.length - STATUS_DIGITS;
  const code = Number(stdoutWithStatus.toString('latin1', Math.max(0, n)));
  return { out: stdoutWithStatus.subarray(0, Math.max(0, n)), code: Number.isInteger(code) ? code : -1 };
}
