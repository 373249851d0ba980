// Turns the raw console byte stream into text that patterns can match: UTF-8 decoded (invalid sequences become
// U+FFFD), ANSI/VT100 escape sequences removed, CR and other control characters (NUL, BEL, backspace...) dropped.
// It is streaming: a multi-byte character or an escape sequence split across chunks is carried to the next chunk,
// so the matcher sees the same text however the bytes were chunked.
import { isAscii } from 'node:buffer';

// One alternation, applied with a global regex: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC
// strings (ESC P/X/^/_ ... ST), two- and three-byte escapes (ESC [intermediates] final), and C0 controls other than
// TAB and LF (CR included: consoles send CR LF, and bare CRs redraw the line).
const SEQUENCE =
  /\x1b(?:\[[0-?]*[ -\/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|(?![\[\]PX^_])[ -\/]*[0-~])|[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]+/g;
const NEEDS_WORK = /[\x00-\x08\x0b-\x1f\x7f]/;
// A complete sequence anchored at the ESC we are checking (sticky).
const COMPLETE_AT = /\x1b(?:\[[0-?]*[ -\/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|(?![\[\]PX^_])[ -\/]*[0-~])/y;
// An unterminated string sequence longer than this is garbage: give up carrying it.
const MAX_CARRY = 4096;

export class TextNormalizer {
  // ignoreBOM: a BOM is text like any other wherever it comes; with the ASCII fast path below, the decoder's "start"
  // is not the stream's start.
  private readonly decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  private carry = '';
  /** The last byte pushed: below 0x80, the decoder holds no partial sequence. */
  private lastByte = 0;

  /** Normalise the next chunk; returns the text that became final. */
  push(chunk: Buffer): string {
    // Console output is mostly ASCII, which decodes to itself: a latin1 string of it is several times faster than
    // the UTF-8 decoder. Only when the decoder holds nothing (a pending sequence ends in a byte >= 0x80).
    let s = this.lastByte < 0x80 && isAscii(chunk) ? chunk.toString('latin1') : this.decoder.decode(chunk, { stream: true });
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1]!;
    if (this.carry) {
      s = this.carry + s;
      this.carry = '';
    }
    if (!NEEDS_WORK.test(s)) return s;
    const esc = s.lastIndexOf('\x1b');
    if (esc >= 0 && s.length - esc < MAX_CARRY) {
      COMPLETE_AT.lastIndex = esc;
      if (!COMPLETE_AT.test(s)) {
        this.carry = s.slice(esc);
        s = s.slice(0, esc);
      }
    }
    return s.replace(SEQUENCE, '');
  }

  /** Flush whatever is carried (at end of stream). */
  end(): string {
    const rest = this.carry + this.decoder.decode();
    this.carry = '';
    return rest.replace(SEQUENCE, '').replace(/\x1b/g, '');
  }
}
