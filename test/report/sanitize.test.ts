import { expect } from 'chai';
import { cdata, cleanText, headAt, sanitizeExcerpt, sanitizeLine, tailAt } from '../../lib/report/sanitize.ts';
import { goldenConsoleLines } from '../golden/golden.ts';

describe('report: console text sanitizer', () => {
  it('removes ANSI/VT100 sequences of a real GRUB and EVE console, keeping the words', () => {
    const raw = goldenConsoleLines('amd64-level2').join('\n');
    expect(raw).to.include('\x1b[');
    const clean = cleanText(raw);
    expect(clean).to.not.match(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(clean).to.include('Welcome to GRUB!');
    expect(clean).to.include('GNU GRUB  version 2.06-13+deb12u2');
    expect(clean).to.include('Edge Virtualization Engine');
    expect(clean).to.include('NOTICE: Device will now power off.');
  });

  it('removes CSI, OSC, DCS, 8-bit CSI, NUL, BEL, backspace, DEL and C1 controls; CR ends a line once', () => {
    const s = '\x1b[1;31mred\x1b[0m \x1b]0;title\x07t\x1bPq#0;2;0;0;0\x1b\\ \u009b32mg\x00\x07\x08\x7f\u0085 a\r\nb\rc\r\r\nd\x1b(Be';
    expect(cleanText(s)).to.equal('red t g a\nb\nc\nde');
  });

  it('an unterminated OSC does not swallow the following lines', () => {
    expect(cleanText('a\x1b]0;no end\nnext line')).to.equal('a\nnext line');
  });

  it('decodes invalid UTF-8 to U+FFFD and drops lone surrogates, U+FFFE/U+FFFF and bidi overrides; keeps emoji', () => {
    expect(cleanText(Buffer.from([0x6f, 0x6b, 0xff, 0xc3, 0x28, 0x21]))).to.equal('ok\uFFFD\uFFFD(!');
    expect(cleanText('a\uD800b\uDC00c\uFFFEd\uFFFFe\u202Ef')).to.equal('abcdef');
    const emoji = '👍🏽 👨‍👩‍👧 🇫🇷';
    expect(cleanText(emoji)).to.equal(emoji);
  });

  it('cuts at code-point boundaries (never half a surrogate pair)', () => {
    const s = 'ab😀cd';
    expect(headAt(s, 3)).to.equal('ab');
    expect(headAt(s, 4)).to.equal('ab😀');
    expect(tailAt(s, 3)).to.equal('cd');
    expect(tailAt(s, 4)).to.equal('😀cd');
    const long = '😀'.repeat(10_000);
    for (const n of [1, 2, 3, 999, 1000, 1001]) {
      const cut = sanitizeExcerpt(long, { maxLineChars: n, maxChars: 100_000 });
      expect(cut.replace(/ \[….*$/, '')).to.match(/^(😀)*$/u);
    }
  });

  it('a 1 MiB line is cut to the line limit with a note, quickly', () => {
    const line = 'x'.repeat(1024 * 1024);
    const t0 = performance.now();
    const out = sanitizeExcerpt(`before\n${line}\nafter`, { maxLineChars: 4096, maxChars: 64 * 1024 });
    expect(performance.now() - t0).to.be.below(2000);
    const lines = out.split('\n');
    expect(lines[0]).to.equal('before');
    expect(lines[1]).to.have.length.below(4200);
    expect(lines[1]).to.match(/\[… 1,044,480 characters of this line cut\]$/);
    expect(lines[2]).to.equal('after');
  });

  it('keeps the end of a long excerpt, from a line start, and says how much was cut', () => {
    const text = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n');
    const out = sanitizeExcerpt(text, { maxChars: 1000, maxLineChars: 200 });
    expect(out.length).to.be.at.most(1100);
    expect(out).to.match(/^\[… [\d,]+ earlier characters cut\]\nline \d+\n/);
    expect(out.endsWith('line 4999')).to.equal(true);
  });

  it('hostile blanks do not make it slow (no quadratic regex)', () => {
    const blanks = ' '.repeat(512 * 1024);
    const t0 = performance.now();
    sanitizeExcerpt(`${blanks}x\n${blanks}`);
    sanitizeLine(`${blanks}x${blanks}`);
    expect(performance.now() - t0).to.be.below(2000);
  });

  it('one-line form for attributes: newlines marked, cut with an ellipsis', () => {
    expect(sanitizeLine('eth1:\n  no carrier\x1b[0m\n')).to.equal('eth1: ⏎ no carrier');
    expect(sanitizeLine('y'.repeat(1000), 10)).to.equal(`${'y'.repeat(9)}…`);
    expect(sanitizeLine('\x1b[0m'.repeat(1000) + 'z', 10)).to.match(/…$/);
  });

  it('CDATA splits every ]]>', () => {
    expect(cdata('a]]>b]]>c')).to.equal('<![CDATA[a]]]]><![CDATA[>b]]]]><![CDATA[>c]]>');
    expect(cdata(']]>]]>')).to.equal('<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>');
  });
});
