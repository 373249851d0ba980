// The matching window. Text is appended as it arrives; a waiter scans only what it has not scanned yet plus a
// carry-over of `maxMatch` characters, so a match split across chunks is found however the bytes were chunked, and
// a huge chunk is scanned whole (pexpect's searchwindowsize looks only at the end of the buffer and misses matches
// early in a big chunk). Unconsumed text is kept as a list of chunks up to `retain` characters, so memory stays
// bounded on endless output and appending never copies what is already held (a growing string would be flattened
// by every search); `before` of a match is joined once, when the match is made, and is cut to `retain`.
import { CompiledPatterns, type PatternHit } from './pattern.ts';

export interface BufferHit extends PatternHit {
  /** Text between the previous consumption point and the match (at most `retain` chars). */
  before: string;
  /** True when `before` lost its head to the retention bound. */
  beforeTruncated: boolean;
}

export class StreamBuffer {
  /** Unconsumed text still held, oldest first; chunks[0] starts at absolute offset `base`. */
  private chunks: string[] = [];
  private held = 0;
  private base = 0;
  /** Absolute offset up to which the current waiter has scanned; -1 when it has scanned nothing yet. */
  private scannedTo = -1;
  /** Unconsumed text was dropped to the retention bound since the last match. */
  private truncated = false;

  constructor(
    readonly maxMatch = 8192,
    readonly retain = 1 << 20,
  ) {
    if (retain < maxMatch) throw new Error('retain must be >= maxMatch');
  }

  /** Characters held in memory (for checks that memory stays bounded). */
  get size(): number {
    return this.held;
  }

  /** Absolute offset of the end of the stream so far. */
  get end(): number {
    return this.base + this.held;
  }

  /** Add arriving text. Call bound() after a pending waiter has scanned it, so a big chunk is scanned whole. */
  append(s: string): void {
    if (s.length === 0) return;
    this.chunks.push(s);
    this.held += s.length;
  }

  /**
   * Keep unconsumed text bounded: past twice `retain`, cut back to `retain`. The slack lets a chained expect (which
   * starts a microtask after the previous match) still find what arrived in the same burst.
   */
  bound(): void {
    if (this.held > 2 * this.retain) this.dropTo(this.end - this.retain);
  }

  /** Forget held text before absolute offset `abs`. */
  private dropTo(abs: number): void {
    while (this.base < abs && this.chunks.length) {
      const first = this.chunks[0]!;
      const cut = abs - this.base;
      if (first.length <= cut) {
        this.chunks.shift();
        this.held -= first.length;
        this.base += first.length;
      } else {
        this.chunks[0] = first.slice(cut);
        this.held -= cut;
        this.base += cut;
      }
    }
    this.truncated = true;
  }

  /** Held text from absolute offset `abs` to the end, joined. */
  private textFrom(abs: number): string {
    let need = this.end - Math.max(abs, this.base);
    if (need <= 0) return '';
    const parts: string[] = [];
    for (let i = this.chunks.length - 1; i >= 0 && need > 0; i--) {
      const c = this.chunks[i]!;
      parts.push(need >= c.length ? c : c.slice(c.length - need));
      need -= c.length;
    }
    parts.reverse();
    const joined = parts.length === 1 ? parts[0]! : parts.join('');
    // Keep the joined form so the next join of the same text is free.
    if (parts.length > 1 && abs <= this.base) this.chunks = [joined];
    return joined;
  }

  /**
   * Scan for the first hit among `patterns` in text not scanned yet (plus the carry-over). On a hit, consume
   * through its end and return it (offsets absolute); otherwise remember how far we scanned.
   */
  scan(patterns: CompiledPatterns): BufferHit | null {
    const startAbs = this.scannedTo < 0 ? this.base : Math.max(this.base, this.scannedTo - this.maxMatch);
    const win = this.textFrom(startAbs);
    const hit = patterns.search(win, 0);
    if (!hit) {
      this.scannedTo = this.end;
      return null;
    }
    const startHit = startAbs + hit.start;
    const endHit = startAbs + hit.end;
    const beforeStart = Math.max(this.base, startHit - this.retain);
    const before = beforeStart >= startAbs ? win.slice(beforeStart - startAbs, hit.start) : this.textFrom(beforeStart).slice(0, startHit - beforeStart);
    const res: BufferHit = { ...hit, start: startHit, end: endHit, before, beforeTruncated: this.truncated || beforeStart > this.base };
    const rest = win.slice(hit.end);
    this.chunks = rest ? [rest] : [];
    this.held = rest.length;
    this.base = endHit;
    this.truncated = false;
    this.scannedTo = -1;
    return res;
  }

  /** A new waiter starts: its first scan covers all unconsumed text. */
  resetScan(): void {
    this.scannedTo = -1;
  }

  /** Drop all unconsumed text (e.g. before sending a command whose output must not match old text). */
  discard(): void {
    this.base = this.end;
    this.chunks = [];
    this.held = 0;
    this.truncated = false;
    this.scannedTo = -1;
  }

  /** Unconsumed text (for diagnostics). */
  pending(): string {
    return this.textFrom(this.base);
  }

  /** The line that `text` (a hit's `before` + matched text) ends on, completed with what has arrived after it. */
  static lineOf(before: string, matched: string, after: string): string {
    const start = before.lastIndexOf('\n') + 1;
    const m = matched.indexOf('\n');
    if (m >= 0) return before.slice(start) + matched.slice(0, m);
    const nl = after.indexOf('\n');
    return before.slice(start) + matched + (nl < 0 ? after : after.slice(0, nl));
  }
}
