import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Console, FailPatternError } from '../../lib/console/console.ts';
import { rawBytesOfLog } from '../../lib/console/console-log.ts';
import { DeadlineError, LabError } from '../../lib/errors.ts';
import { MemoryLink } from '../helpers/memory-link.ts';

function setup(opts: Partial<ConstructorParameters<typeof Console>[1]> = {}) {
  const link = new MemoryLink();
  const con = new Console(link, { boxName: 'box1', ...opts });
  return { link, con };
}

/** A stream with `n` markers spread through filler lines. */
function markerStream(n: number, fillerLines: number): { data: Buffer; markers: string[] } {
  const parts: string[] = [];
  const markers: string[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < fillerLines; j++) parts.push(`[${i}.${j}] filler line with some words in it ${'x'.repeat(j % 50)}\n`);
    const m = `MARKER-${String(i).padStart(4, '0')}-OK`;
    markers.push(m);
    parts.push(`${m}\n`);
  }
  return { data: Buffer.from(parts.join('')), markers };
}

describe('console engine: matching under adversarial chunking', () => {
  it('finds a pattern split across two chunks', async () => {
    const { link, con } = setup();
    const p = con.expect('world');
    link.feed('hello wor');
    link.feed('ld\n');
    const r = await p;
    expect(r.text).to.equal('world');
    expect(r.before).to.equal('hello ');
  });

  it('finds 200 markers in order when the stream arrives one byte at a time', async () => {
    const { link, con } = setup();
    const { data, markers } = markerStream(200, 3);
    const found: string[] = [];
    let pos = 0;
    for (const m of markers) {
      // The wait is pending while bytes trickle in, so every match is made across 1-byte chunks.
      let done = false;
      const p = con.expect(new RegExp(m)).then((r) => {
        done = true;
        return r;
      });
      while (!done && pos < data.length) {
        link.feed(data.subarray(pos, ++pos));
        await Promise.resolve();
      }
      found.push((await p).text);
    }
    expect(found).to.deep.equal(markers);
  });

  it('finds every marker in order when 1 MiB arrives in one chunk (pexpect searchwindowsize misses these)', async () => {
    const { link, con } = setup();
    const { data, markers } = markerStream(200, 90);
    expect(data.length).to.be.greaterThan(1 << 20);
    const first = con.expect(new RegExp(markers[0]!), { timeout: 1000 });
    link.feed(data);
    expect((await first).text).to.equal(markers[0]);
    for (const m of markers.slice(1)) expect((await con.expect(new RegExp(m), { timeout: 1000 })).text).to.equal(m);
  });

  it('matches patterns of a 10 MiB line with no newline while memory stays bounded', async () => {
    const { link, con } = setup({ retain: 1 << 20 });
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const p1 = con.expect('NEEDLE-ONE', { timeout: 5000 });
    let peak = 0;
    for (let i = 0; i < 80; i++) {
      link.feed(chunk);
      peak = Math.max(peak, con.bufferedChars);
    }
    link.feed('aaaaNEEDLE-');
    link.feed('ONEaaaa');
    await p1;
    const p2 = con.expect('NEEDLE-TWO', { timeout: 5000 });
    for (let i = 0; i < 80; i++) {
      link.feed(chunk);
      peak = Math.max(peak, con.bufferedChars);
    }
    link.feed('NEEDLE-TWO');
    const r = await p2;
    expect(r.before.length).to.be.at.most(1 << 20);
    expect(peak).to.be.at.most(2 * (1 << 20) + chunk.length);
  });

  it('sees through NUL bytes, invalid UTF-8, CR and ANSI sequences split across chunks', async () => {
    const { link, con } = setup();
    const p = con.expect(/login: $/);
    link.feed(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a]));
    link.feed('\x1b[1;3');
    link.feed('2mlo\x1b');
    link.feed('[0mg\r');
    link.feed('in: ');
    const r = await p;
    expect(r.text).to.equal('login: ');
    expect(r.before).to.equal('\ufffd\ufffd\n');
  });

  it('decodes a multi-byte character split across chunks', async () => {
    const { link, con } = setup();
    const p = con.expect('café ✓');
    const b = Buffer.from('le café ✓');
    link.feedChunked(b, 1);
    expect((await p).text).to.equal('café ✓');
  });

  it('ASCII chunks around a split or cut-off UTF-8 sequence decode as one stream would (the ASCII fast path)', async () => {
    const { link, con } = setup();
    const p = con.expect('END');
    link.feed('ascii before ');
    link.feed(Buffer.from([0xe2, 0x9c])); // ✓ = e2 9c 93, split
    link.feed(Buffer.from([0x93]));
    link.feed(' then ');
    link.feed(Buffer.from([0xc3])); // é cut off: the ASCII chunk after it ends it as U+FFFD
    link.feed('x ');
    link.feed(Buffer.from([0xef, 0xbb, 0xbf])); // a BOM mid-stream is kept, as the decoder keeps it
    link.feed('END');
    expect((await p).before).to.equal('ascii before ✓ then \ufffdx \ufeff');
  });

  it('strips OSC titles and charset switches', async () => {
    const { link, con } = setup();
    const p = con.expect('ready\n');
    link.feed('\x1b]0;root@box: ~\x07\x1b(Bre\x1b[Kady\r\n');
    expect((await p).before).to.equal('');
  });

  it('uses text that arrived before the wait started', async () => {
    const { link, con } = setup();
    link.feed('early bird\n');
    expect((await con.expect('bird', { timeout: 100 })).before).to.equal('early ');
  });
});

describe('console engine: fail patterns, deadlines, link loss', () => {
  it('ends a pending wait at once on a kernel panic, with the line and the lines before it', async () => {
    const { link, con } = setup();
    const t0 = Date.now();
    const p = con.expect('login:', { timeout: 30_000 });
    link.feed('[    1.0] booting\n[    2.0] mounting root\n[    2.1] Kernel panic - not sync');
    link.feed('ing: VFS: Unable to mount root fs\n');
    const err = await p.then(
      () => null,
      (e) => e,
    );
    expect(err).to.be.instanceOf(FailPatternError);
    expect(Date.now() - t0).to.be.below(1000);
    expect((err as FailPatternError).line).to.contain('Kernel panic - not sync');
    expect((err as FailPatternError).tail).to.include('[    2.0] mounting root');
    expect((err as FailPatternError).errorClass).to.equal('box');
  });

  it('takes whichever comes first in the stream: a fail pattern after the match does not fail the wait', async () => {
    const { link, con } = setup();
    const p = con.expect('login:');
    link.feed('box login: \nFATAL: later\n');
    expect((await p).text).to.equal('login:');
    // The FATAL line is still unconsumed: the next wait sees it.
    const err = await con.expect('never', { timeout: 1000 }).catch((e) => e);
    expect(err).to.be.instanceOf(FailPatternError);
    expect(err.line).to.equal('FATAL: later');
  });

  it('applies per-wait fail patterns and can drop the defaults', async () => {
    const { link, con } = setup();
    const p = con.expect('done', { failPatterns: ['No space left'], noDefaultFailPatterns: true });
    link.feed('Oops: harmless here\nwrite: No space left on device\ndone\n');
    const err = await p.catch((e) => e);
    expect(err).to.be.instanceOf(FailPatternError);
    expect(err.line).to.equal('write: No space left on device');
  });

  it('a deadline error says what was awaited, where, and shows the last lines', async () => {
    const { link, con } = setup();
    link.feed('line one\nline two\n');
    const err = await con.expect('login:', { timeout: 50, awaited: 'the login prompt' }).catch((e) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.contain('the login prompt').and.contain('box1 (memory:test)');
    expect(err.tail).to.deep.equal(['line one', 'line two']);
    expect(err.describe()).to.contain('line two');
  });

  it('a link lost for good rejects the pending wait and later ones with a lab error', async () => {
    const { link, con } = setup();
    const p = con.expect('x', { timeout: 10_000 });
    link.drop(new Error('device vanished'));
    const err = await p.catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('memory:test').and.contain('device vanished');
    expect(await con.expect('y').catch((e) => e)).to.be.instanceOf(LabError);
  });

  it('refuses a second concurrent wait', async () => {
    const { con } = setup();
    const p = con.expect('a', { timeout: 100 });
    const err = await con.expect('b').catch((e) => e);
    expect(err.message).to.contain('pending wait');
    await p.catch(() => undefined);
  });
});

describe('console engine: log, taps, writers', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-console-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps every raw byte, timestamped per line, with notes apart', async () => {
    const file = path.join(dir, 'box1.log');
    const { link, con } = setup({ logFile: file });
    const bytes = Buffer.concat([Buffer.from('\x1b[1mhello\r\n'), Buffer.from([0, 0xff, 0x0a]), Buffer.from('par')]);
    link.feed(bytes.subarray(0, 5));
    con.note('power cycled');
    link.feed(bytes.subarray(5, 12));
    con.note('mid-line note');
    link.feed(bytes.subarray(12));
    link.feed('tial\n');
    await con.close();
    const content = fs.readFileSync(file);
    const text = content.toString('latin1');
    expect(text).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \| \x1b\[1mhello\r\n/);
    expect(text).to.match(/Z # power cycled\n/);
    // The mid-line note is written after the console line it interrupted ends.
    expect(text.indexOf('mid-line note')).to.be.greaterThan(text.indexOf('\xff\n'));
    expect(text.indexOf('mid-line note')).to.be.lessThan(text.indexOf('partial'));
    expect(rawBytesOfLog(content).equals(Buffer.concat([bytes, Buffer.from('tial\n')]))).to.equal(true);
  });

  it('ends a partial line at a power cut, marked so that the raw bytes still come back exact', async () => {
    const file = path.join(dir, 'box-cut.log');
    const { link, con } = setup({ logFile: file });
    link.feed('Shell> ');
    con.note('link hiccup'); // an ordinary note waits for the line to end
    con.note('power off: QEMU exited', { cut: true });
    con.note('power on: qemu', { cut: true });
    link.feed('BdsDxe: loading\n');
    await con.close();
    const content = fs.readFileSync(file);
    const lines = content.toString('latin1').split('\n');
    expect(lines[0]).to.match(/Z \| Shell> $/);
    expect(lines[1]).to.match(/Z ~ line cut/);
    expect(lines.slice(2, 5).map((l) => l.replace(/^\S+ /, ''))).to.deep.equal(['# link hiccup', '# power off: QEMU exited', '# power on: qemu']);
    expect(lines[5]).to.match(/Z \| BdsDxe: loading$/);
    expect(rawBytesOfLog(content).toString('latin1')).to.equal('Shell> BdsDxe: loading\n');
  });

  it('feeds taps and excerpts with everything that arrives', async () => {
    const { link, con } = setup();
    const raw: Buffer[] = [];
    const off = con.tap({ raw: (b) => raw.push(b) });
    const ex = con.excerpt();
    link.feed('a\x1b[0mb\n');
    off();
    link.feed('c\n');
    expect(Buffer.concat(raw).toString()).to.equal('a\x1b[0mb\n');
    expect(ex.stop()).to.equal('ab\nc\n');
  });

  it('gives the console to one writer at a time', async () => {
    const { link, con } = setup();
    const w1 = await con.acquire('installer');
    let second = false;
    const p2 = con.acquire('suite').then((w) => {
      second = true;
      return w;
    });
    await w1.send('one');
    await Promise.resolve();
    expect(second).to.equal(false);
    w1.release();
    const w2 = await p2;
    await w2.send('two');
    expect(link.written()).to.equal('onetwo');
    const err = await con.acquire('third', 50).catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('held by suite');
    w2.release();
    expect(() => w1.send('late')).to.throw;
    expect(await w1.send('late').catch((e) => e)).to.be.instanceOf(Error);
  });

  it('paces writes one character at a time when asked', async () => {
    const { link, con } = setup({ charDelayMs: 1 });
    await con.send('root\n');
    expect(link.writes.map((b) => b.toString())).to.deep.equal(['r', 'o', 'o', 't', '\n']);
  });
});

describe('console engine: idle deadline', () => {
  it('ends a wait when the console goes silent, long before the overall deadline', async () => {
    const link = new MemoryLink();
    const con = new Console(link, { boxName: 'quiet-box' });
    const t0 = Date.now();
    const p = con.expect('NOTICE:', { timeout: 30_000, idleTimeout: 300, awaited: 'the installer to finish' });
    // Chatter keeps it alive for a while, then silence.
    for (let i = 0; i < 5; i++) {
      link.feed(`progress ${i}\n`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const err = await p.catch((e) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.contain('silent').and.contain('the installer to finish');
    expect(err.tail).to.include('progress 4');
    expect(Date.now() - t0).to.be.within(700, 3000);
  });
});
