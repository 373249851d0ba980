// The raw console log: every byte from the box, in one file per console, each line prefixed with the time its
// first byte arrived. Written synchronously as bytes arrive, so a crash or Ctrl-C loses nothing already received.
//
// Format, one record per line:
//   2026-11-24T20:38:55.123Z | <raw bytes of one console line, CR/ANSI/invalid UTF-8 kept>
//   2026-11-24T20:38:56.000Z # <a note from eve-qual: link lost, reconnected, power cycled...>
//   2026-11-24T20:38:56.000Z ~ line cut: ...   (the newline before this record is eve-qual's, not the box's)
// A note never splits a console line: one that arrives mid-line is written when the line ends (it carries its own
// time). Except at a discontinuity (`cut`: the box powered off or restarted): the box's partial line is over, and
// bytes of the next boot must not be glued to it, so the line is ended there and marked with a `~` record.
// Stripping the 27-character prefix of the `|` records (and the newline a `~` record marks) gives back the exact
// byte stream.
import fs from 'node:fs';
import path from 'node:path';
import { diskFault, reportDiskFault } from '../util/disk-fault.ts';

export const LOG_PREFIX_LENGTH = 27;

export class ConsoleLog {
  private fd: number | null;
  private atLineStart = true;
  private deferredNotes: string[] = [];
  private stampCache = { ms: -1, text: '' };

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'a');
  }

  /** The `|` record prefix, made once per millisecond (a fast console writes many chunks in one). */
  private stamp(at: Date): string {
    const ms = at.getTime();
    if (ms !== this.stampCache.ms) this.stampCache = { ms, text: `${at.toISOString()} | ` };
    return this.stampCache.text;
  }

  write(chunk: Buffer, at: Date = new Date()): void {
    if (this.fd === null || chunk.length === 0) return;
    try {
      this.record(this.fd, chunk, at);
    } catch (e) {
      this.fault(e);
    }
  }

  /** A full or failing disk: the log stops here (what it holds stays) and the run is told; anything else throws. */
  private fault(e: unknown): void {
    const f = diskFault(e, this.file);
    if (!f) throw e;
    const fd = this.fd;
    this.fd = null;
    this.deferredNotes = [];
    if (fd !== null) fs.closeSync(fd);
    reportDiskFault(f);
  }

  private record(fd: number, chunk: Buffer, at: Date): void {
    if (this.deferredNotes.length) {
      // Notes wait for the box's line to end: write through its newline, then the notes, then the rest as usual.
      const nl = chunk.indexOf(10);
      if (nl < 0) return this.writeLines(fd, chunk, at);
      this.writeLines(fd, chunk.subarray(0, nl + 1), at);
      fs.writeSync(fd, this.deferredNotes.splice(0).join(''));
      if (nl + 1 === chunk.length) return;
      chunk = chunk.subarray(nl + 1);
    }
    this.writeLines(fd, chunk, at);
  }

  /**
   * The hot path (every byte of a fast console goes through it): as a latin1 string, which maps each byte to one
   * character and back, the prefixes go in with one native replaceAll, and the record is one write.
   */
  private writeLines(fd: number, chunk: Buffer, at: Date): void {
    const prefix = this.stamp(at);
    const endsLine = chunk[chunk.length - 1] === 10;
    const s = chunk.toString('latin1', 0, endsLine ? chunk.length - 1 : chunk.length);
    const out = (this.atLineStart ? prefix : '') + s.replaceAll('\n', `\n${prefix}`) + (endsLine ? '\n' : '');
    this.atLineStart = endsLine;
    fs.writeSync(fd, out, null, 'latin1');
  }

  /**
   * A line of eve-qual's own (link gaps, power actions), kept apart from the box's bytes. `cut`: the note marks a
   * discontinuity (power off or on), so a partial line of the box ends here instead of waiting for its newline.
   */
  note(text: string, at: Date = new Date(), opts: { cut?: boolean } = {}): void {
    if (this.fd === null) return;
    try {
      this.noteRecord(this.fd, text, at, opts);
    } catch (e) {
      this.fault(e);
    }
  }

  private noteRecord(fd: number, text: string, at: Date, opts: { cut?: boolean }): void {
    const rec = `${at.toISOString()} # ${text.replace(/\n/g, ' ')}\n`;
    if (this.atLineStart) fs.writeSync(fd, rec);
    else if (!opts.cut) this.deferredNotes.push(rec);
    else {
      const mark = `\n${at.toISOString()} ~ line cut: no newline from the box before this\n`;
      fs.writeSync(fd, mark + this.deferredNotes.splice(0).join('') + rec);
      this.atLineStart = true;
    }
  }

  close(): void {
    if (this.fd === null) return;
    if (this.deferredNotes.length) fs.writeSync(this.fd, '\n' + this.deferredNotes.splice(0).join(''));
    fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** Read a console log back into the exact raw bytes (drops notes). */
export function rawBytesOfLog(content: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  let inLine = false;
  while (pos < content.length) {
    if (!inLine) {
      const kind = content[pos + LOG_PREFIX_LENGTH - 2];
      const nl = content.indexOf(10, pos);
      if (kind === 0x23 /* # */) {
        pos = nl < 0 ? content.length : nl + 1;
        continue;
      }
      if (kind === 0x7e /* ~ */) {
        // The newline that ended the record before this one was eve-qual's.
        const last = out.pop();
        if (last && last.length > 1) out.push(last.subarray(0, last.length - 1));
        pos = nl < 0 ? content.length : nl + 1;
        continue;
      }
      pos += LOG_PREFIX_LENGTH;
    }
    const nl = content.indexOf(10, pos);
    if (nl < 0) {
      out.push(content.subarray(pos));
      break;
    }
    out.push(content.subarray(pos, nl + 1));
    pos = nl + 1;
    inLine = false;
  }
  return Buffer.concat(out);
}
