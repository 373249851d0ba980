// Console text made safe for reports: whatever a box printed (colour codes, cursor moves, NUL, invalid UTF-8,
// a megabyte without a newline, `]]>`, emoji), a report built from it is valid XML and readable HTML.
//   cleanText        decode bytes (invalid UTF-8 → U+FFFD), drop ANSI/VT100 sequences, control characters (tab and
//                    newline kept; CRs become one line end), code points XML 1.0 forbids (lone surrogates, U+FFFE/FFFF)
//                    and bidirectional overrides (which would reorder what a reader sees).
//   sanitizeExcerpt  cleanText, then long lines and the whole text cut to limits at code-point boundaries, keeping
//                    the end (the last lines before a failure matter most), with a note of what was cut.
//   sanitizeLine     one line for an attribute or a heading.
//   cdata            a CDATA section with every `]]>` split across two sections.

export interface ExcerptLimits {
  /** The whole excerpt, in UTF-16 units (JavaScript string length). */
  maxChars: number;
  /** One line. */
  maxLineChars: number;
}

export const DEFAULT_EXCERPT_LIMITS: ExcerptLimits = { maxChars: 64 * 1024, maxLineChars: 4096 };

// ESC-introduced sequences (ECMA-48): CSI with parameters, OSC/DCS/SOS/PM/APC strings (up to BEL or ST, and never
// past a line end, so a stray ESC ] cannot swallow the rest of an excerpt), and two- or three-byte escapes. The
// 8-bit CSI (U+009B) too.
const ANSI = new RegExp(
  [
    '\\x1b\\[[0-?]*[ -/]*[@-~]',
    '\\x1b\\][^\\x07\\x1b\\n]*(?:\\x07|\\x1b\\\\)?',
    '\\x1b[PX^_][^\\x1b\\n]*(?:\\x1b\\\\)?',
    '\\x1b[ -/]*[0-~]',
    '\\x9b[0-?]*[ -/]*[@-~]',
    '\\x1b',
  ].join('|'),
  'g',
);
// C0 except tab and newline, DEL, C1; with the u flag, [\uD800-\uDFFF] matches only unpaired surrogates.
const FORBIDDEN = /[\x00-\x08\x0b-\x1f\x7f-\x9f\uD800-\uDFFF\uFFFE\uFFFF\uFDD0-\uFDEF\u202A-\u202E\u2066-\u2069]/gu;

const decoder = new TextDecoder('utf-8', { fatal: false });

export function cleanText(input: string | Uint8Array): string {
  const text = typeof input === 'string' ? input : decoder.decode(input);
  return text.replace(ANSI, '').replace(/\r+\n?/g, '\n').replace(FORBIDDEN, '');
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** The first `n` UTF-16 units of `s`, one less if that would split a surrogate pair. */
export function headAt(s: string, n: number): string {
  if (s.length <= n) return s;
  return s.slice(0, n > 0 && isHighSurrogate(s.charCodeAt(n - 1)) ? n - 1 : n);
}

/** The last `n` UTF-16 units of `s`, one less if that would split a surrogate pair. */
export function tailAt(s: string, n: number): string {
  if (s.length <= n) return s;
  const start = s.length - n;
  return s.slice(isLowSurrogate(s.charCodeAt(start)) ? start + 1 : start);
}

function trimEndBlanks(line: string): string {
  let end = line.length;
  while (end > 0 && (line.charCodeAt(end - 1) === 32 || line.charCodeAt(end - 1) === 9)) end--;
  return end === line.length ? line : line.slice(0, end);
}

function plural(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

export function sanitizeExcerpt(input: string | Uint8Array, limits: Partial<ExcerptLimits> = {}): string {
  const { maxChars, maxLineChars } = { ...DEFAULT_EXCERPT_LIMITS, ...limits };
  // Trailing blanks of each line and blank lines at the end are noise of terminals (GRUB pads every line).
  // (No regex with a quantifier before `$` here: on a hostile megabyte of blanks it would backtrack quadratically.)
  let text = cleanText(input).split('\n').map(trimEndBlanks).join('\n');
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 10) end--;
  text = text.slice(0, end);
  if (text.length > maxLineChars) {
    text = text
      .split('\n')
      .map((line) => {
        if (line.length <= maxLineChars) return line;
        const head = headAt(line, maxLineChars);
        return `${head} [… ${plural(line.length - head.length, 'character')} of this line cut]`;
      })
      .join('\n');
  }
  if (text.length > maxChars) {
    let tail = tailAt(text, maxChars);
    // Start at a line boundary when one is near, so the excerpt does not open mid-line.
    const nl = tail.indexOf('\n');
    if (nl >= 0 && nl < maxLineChars) tail = tail.slice(nl + 1);
    text = `[… ${plural(text.length - tail.length, 'earlier character')} cut]\n${tail}`;
  }
  return text;
}

/** One line (newlines and tabs become spaces), cut to `maxChars` with an ellipsis. */
export function sanitizeLine(input: string | Uint8Array, maxChars = 300): string {
  const head = typeof input === 'string' ? headAt(input, maxChars * 4 + 64) : input.subarray(0, maxChars * 16 + 64);
  const line = cleanText(head)
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ⏎ ')
    .replaceAll('\t', ' ');
  if (line.length <= maxChars && head.length === input.length) return line;
  return `${headAt(line, maxChars - 1)}…`;
}

/** A CDATA section holding `text` exactly; every `]]>` is split so it cannot end the section early. */
export function cdata(text: string): string {
  return `<![CDATA[${text.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}
