// The matching window. Text is appended as it arrives; a waiter scans only what it has not scanned yet plus a
// carry-over of `maxMatch` characters, so a match split across chunks is found however the bytes were chunked, and
// a huge chunk is scanned whole (pexpect's searchwindowsize looks only at the end of the buffer and misses matches
// early in a big chunk). Unconsumed text is kept up to `retain` characters, so memory stays bounded on endless
// output; `before` of a match is the text since the previous match, cut to `retain` when it was longer.
import { CompiledPatterns, type PatternHit } from './pattern.ts';

export interface BufferHit extends PatternHit {
  /** Text between the previous consumption point and the match (at most `retain` chars). */
  before: string;
  /** True when `before` lost its head to the retention bound. */
  beforeTruncated: boolean;
}

export class StreamBuffer {
  private text = '';
  /** Absolute stream offset of text[0]. */
  private base = 0;
  /** Absolute offset: everything before it was consumed by a match. */
  private consumed = 0;
  /** Absolute offset up to which the current waiter has scanned; -1 when no scan since the last consumption. */
  private scannedTo = -1;
  private truncated = false;

  constructor(
    readonly maxMatch = 8192,
    readonly retain = 1 << 20,
  ) {
    if (retain < maxMatch) throw new Error('retain must be >= maxMatch');
  }

  /** Characters held in memory (for checks that memory stays bounded). */
  get size(): number {
    return this.text.length;
  }

  /** Absolute offset of the end of the stream so far. */
  get end(): number {
    return this.base + this.text.length;
  }

  append(s: string): void {
    if (s.length === 0) return;
    this.text += s;
    // Trim lazily (amortised): only when twice the retention, down to the retention.
    if (this.text.length > 2 * this.retain) this.trimTo(this.end - this.retain);
  }

  private trimTo(abs: number): void {
    const cut = abs - this.base;
    if (cut <= 0) return;
    this.text = this.text.slice(cut);
    this.base = abs;
    if (this.consumed < abs) {
      this.consumed = abs;
      this.truncated = true;
    }
  }

  /**
   * Scan for the first hit among `patterns` in unconsumed text not scanned yet (plus the carry-over). On a hit,
   * consume through its end and return it; otherwise remember how far we scanned.
   */
  scan(patterns: CompiledPatterns, consume = true): BufferHit | null {
    const startAbs = this.scannedTo < 0 ? this.consumed : Math.max(this.consumed, this.scannedTo - this.maxMatch);
    const from = Math.max(0, startAbs - this.base);
    const hit = patterns.search(this.text, from);
    if (!hit) {
      this.scannedTo = this.end;
      return null;
    }
    // Trimming is lazy, so cut `before` to the retention bound here.
    const consumedRel = Math.max(this.consumed - this.base, hit.start - this.retain);
    const res: BufferHit = {
      ...hit,
      before: this.text.slice(consumedRel, hit.start),
      beforeTruncated: this.truncated || consumedRel > this.consumed - this.base,
    };
    if (consume) {
      this.consumed = this.base + hit.end;
      this.truncated = false;
      this.scannedTo = -1;
    }
    // Offsets handed out are absolute, so they stay meaningful after trims.
    res.start += this.base;
    res.end += this.base;
    return res;
  }

  /** A new waiter starts: its first scan covers all unconsumed text. */
  resetScan(): void {
    this.scannedTo = -1;
  }

  /** Drop all unconsumed text (e.g. before sending a command whose output must not match old text). */
  discard(): void {
    this.consumed = this.end;
    this.truncated = false;
    this.scannedTo = -1;
    this.trimTo(this.end);
  }

  /** Unconsumed text (for diagnostics). */
  pending(): string {
    return this.text.slice(this.consumed - this.base);
  }

  /** The full line around absolute offset `abs` (from the previous newline to the next, or the end). */
  lineAt(abs: number): string {
    const rel = Math.max(0, abs - this.base);
    const start = this.text.lastIndexOf('\n', rel - 1) + 1;
    let end = this.text.indexOf('\n', rel);
    if (end < 0) end = this.text.length;
    return this.text.slice(start, end);
  }
}
