// The HTML report rendered by Debian's Chromium (headless, over the DevTools protocol): what a reader sees, what
// the page requests (nothing but itself), and a screenshot kept for a person to look at.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { reportCommand } from '../../lib/cli/report-command.ts';
import { ConfigError } from '../../lib/errors.ts';
import { loadProgram } from '../../lib/program/program.ts';
import { computeVerdict, type Verdict } from '../../lib/program/verdict.ts';
import { formatDuration } from '../../lib/report/html.ts';
import { CAPABILITIES, type RunResults } from '../../lib/report/results.ts';
import { Chromium } from './chromium.ts';
import { derive, goldenRun, withOutcomes, writeGoldenRunDir, type OutcomeChange, type RunChanges } from '../golden/golden.ts';
import { capture } from '../helpers/capture.ts';

/** Screenshots and the page stay here after the test, for a person to look at. */
export const artifacts = path.join(os.tmpdir(), 'eve-qual-test-artifacts', 'report-html');


const hostile = `\x1b[31mkernel: <script>alert("x")</script> & ]]> \x00 👨‍👩‍👧 panic\x1b[0m\n${'Z'.repeat(300_000)}\nlast line before the failure`;

describe('report: HTML in Chromium', function () {
  this.timeout(90_000);
  let tmp: string;
  let html: string;
  let runs: RunResults[];
  let verdict: Verdict;
  let chromium: Chromium;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-html-'));
    fs.mkdirSync(artifacts, { recursive: true });
    let clock = Date.parse('2026-06-01T08:00:00Z');
    // Samples of two models, each the recorded passing run of the virtual box as if made on it.
    const run = (o: RunChanges, outcomes: Record<string, OutcomeChange> = {}) =>
      withOutcomes(derive(goldenRun('amd64-level2'), { vendor: 'Acme', model: 'X100', release: '13.4.0', start: new Date((clock += 3_600_000)).toISOString(), ...o }), outcomes);
    runs = [
      run({ sample: 'SN1' }),
      run({ sample: 'SN2' }, { 'usb/stick0/enumerates': { outcome: 'pass', attempts: [{ outcome: 'fail', durationMs: 2000, message: 'stick0 not enumerated' }] } }),
      run({ sample: 'SN3' }, { 'ethernet/eth1/carrier': { outcome: 'fail', message: 'eth1: no carrier after 30 s', consoleExcerpt: hostile } }),
      run({ sample: 'SN4' }),
      run({ sample: 'SN5', release: '13.3.0' }),
      run({ model: 'X200', sample: 'Z1', role: 'partner', organisation: 'QEMU Partner Lab' }, { 'tpm/tpm2-present': { outcome: 'error', message: 'SSH shell lost: connection reset by peer' } }),
    ];
    const dirs = runs.map((r, i) => writeGoldenRunDir(path.join(tmp, 'runs', `run${i}`), r, 'amd64-level2'));
    html = path.join(tmp, 'report.html');
    const r = await capture(() => reportCommand.run([...dirs, '--html', html]));
    expect(r.code).to.equal(0);
    // The verdict engine's own judgement of these runs (test/program/verdict.test.ts tests it): the page shows it.
    verdict = computeVerdict(runs, { program: loadProgram() });
    expect(r.out).to.equal(`${html}: 6 runs, Acme level ${verdict.vendors[0]!.level}`);
    fs.copyFileSync(html, path.join(artifacts, 'report.html'));
    chromium = await Chromium.launch();
    await chromium.load(pathToFileURL(html).href);
  });

  after(async () => {
    await chromium?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is self-contained: no script, no external reference, a CSP, and Chromium requests nothing but the page', async () => {
    const text = fs.readFileSync(html, 'utf8');
    expect(text).to.not.match(/<script|<link|<img|<iframe|(src|href)="(https?:)?\/\//i);
    expect(text).to.include(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(chromium.requests).to.deep.equal([pathToFileURL(html).href]);
    expect(await chromium.evaluate<number>('document.scripts.length')).to.equal(0);
  });

  it('shows the verdict with what is missing, exactly', async () => {
    const text = await chromium.evaluate<string>("document.querySelector('#verdict').innerText");
    const acme = verdict.vendors.find((v) => v.vendor === 'Acme')!;
    expect(text).to.include(`Acme: ${acme.level ? `level ${acme.level} · ${acme.levelName}` : 'no level met'}`);
    expect(acme.next, 'the runs leave a level unmet').to.not.equal(null);
    expect(text).to.include(`Missing for level ${acme.next!.level} (${acme.next!.name})`);
    for (const m of acme.next!.missing) {
      expect(text).to.include(m.line);
      for (const d of m.details) expect(text).to.include(d);
    }
    // What the runs were made to show, in the verdict's words: the failing port, and the lab error (or the partner).
    expect(text).to.include('SN3 on 13.4.0: ethernet/eth1/carrier failed: eth1: no carrier after 30 s');
    expect(text).to.match(/Z1 on 13\.4\.0: tpm\/tpm2-present: error, not evidence \(lab: SSH shell lost: connection reset by peer\); re-run|Z1: run only by QEMU Partner Lab \(partner\)/);
    const pills = await chromium.evaluate<string[]>("[...document.querySelectorAll('.pill')].map(p => p.className + ':' + p.innerText)");
    expect(pills).to.deep.equal(acme.levels.map((l) => `pill ${l.met ? 'met:✔' : 'unmet:✘'} level ${l.level}`));
  });

  it('shows a matrix of models × samples × capabilities, with failures in red', async () => {
    const rows = await chromium.evaluate<Array<{ head: string[]; cells: Array<{ cap: string; cls: string; text: string; bg: string; w: number }> }>>(`
      [...document.querySelectorAll('table.matrix tbody tr')].map(tr => ({
        head: [...tr.querySelectorAll('th, td:not(.cell)')].map(c => c.innerText.trim()),
        cells: [...tr.querySelectorAll('td.cell')].map(c => ({ cap: c.dataset.capability, cls: c.className, text: c.innerText.trim(),
          bg: getComputedStyle(c).backgroundColor, w: c.getBoundingClientRect().width })),
      }))`);
    expect(rows.map((r) => r.head.join(' | '))).to.deep.equal([
      'Acme X100 | SN1 | 13.4.0 | owner',
      'Acme X100 | SN2 | 13.4.0 | owner',
      'Acme X100 | SN3 | 13.4.0 | owner',
      'Acme X100 | SN4 | 13.4.0 | owner',
      'Acme X100 | SN5 | 13.3.0 | owner',
      'Acme X200 | Z1 | 13.4.0 | partner',
    ]);
    const cell = (row: number, cap: string) => rows[row]!.cells.find((c) => c.cap === cap)!;
    const ethernetChecks = runs[0]!.tests.filter((t) => t.capability === 'ethernet').length;
    expect(cell(2, 'ethernet')).to.include({ cls: 'cell fail', text: `✘ 1 of ${ethernetChecks}`, bg: 'rgb(255, 235, 233)' });
    expect(cell(0, 'ethernet')).to.include({ cls: 'cell pass', text: `✔ ${ethernetChecks}`, bg: 'rgb(218, 251, 225)' });
    expect(cell(5, 'tpm')).to.include({ cls: 'cell error', text: '⚠ 1 error' });
    expect(cell(0, 'cellular')).to.include({ cls: 'cell skip', text: '–' });
    for (const r of rows) for (const c of r.cells) expect(c.w, `${r.head.join(' ')} ${c.cap}`).to.be.above(20);
  });

  it('shows every test with its duration, and console excerpts (open for failures), escaped and cut', async () => {
    const tests = await chromium.evaluate<Array<{ name: string; outcome: string; duration: string; open: boolean | null; excerpt: string }>>(`
      [...document.querySelectorAll('tr.test')].map(tr => ({ name: tr.cells[0].innerText, outcome: tr.cells[1].innerText, duration: tr.cells[2].innerText,
        open: tr.querySelector('details') ? tr.querySelector('details').open : null,
        excerpt: tr.querySelector('pre') ? (tr.querySelector('details').open ? tr.querySelector('pre').innerText : tr.querySelector('pre').textContent) : '' }))`);
    const all = runs.flatMap((r) => r.tests);
    expect(tests).to.have.length(all.length);
    const sorted = [...runs].sort((a, b) => a.box.model.localeCompare(b.box.model) || a.box.sample.localeCompare(b.box.sample));
    const expected = sorted.flatMap((r) => CAPABILITIES.flatMap((c) => r.tests.filter((t) => t.capability === c)));
    expect(tests.map((t) => t.duration)).to.deep.equal(expected.map((t) => formatDuration(t.durationMs)));
    const fail = tests.find((t) => t.outcome.startsWith('fail'))!;
    expect(fail.name).to.equal(runs[2]!.tests.find((t) => t.id === 'ethernet/eth1/carrier')!.name);
    expect(fail.open).to.equal(true);
    expect(fail.excerpt).to.include('kernel: <script>alert("x")</script> & ]]>  👨‍👩‍👧 panic');
    expect(fail.excerpt).to.match(/Z{2000} \[… 298,000 characters of this line cut\]/);
    expect(fail.excerpt.trim().endsWith('last line before the failure')).to.equal(true);
    const passWithExcerpt = tests.find((t) => t.outcome.startsWith('pass') && t.excerpt)!;
    expect(passWithExcerpt.open).to.equal(false);
    const flaky = await chromium.evaluate<string>("[...document.querySelectorAll('ul.attempts')].map(u => u.innerText).join('|')");
    expect(flaky).to.equal('attempt 1: fail 2.0 s · stick0 not enumerated');
  });

  it('shows the step timeline of each run, bars in order', async () => {
    const timelines = await chromium.evaluate<Array<{ steps: number; bars: Array<{ left: number; width: number }>; names: string[] }>>(`
      [...document.querySelectorAll('.timeline')].map(t => ({ steps: Number(t.dataset.steps),
        bars: [...t.querySelectorAll('.bar')].map(b => { const r = b.getBoundingClientRect(); return { left: r.left, width: r.width }; }),
        names: [...t.querySelectorAll('.step .name')].map(n => n.innerText) }))`);
    expect(timelines).to.have.length(runs.length);
    for (const t of timelines) {
      expect(t.bars).to.have.length(t.steps);
      expect(t.names).to.deep.equal(runs[0]!.steps.map((s) => s.name));
      for (const b of t.bars) expect(b.width).to.be.above(0);
      for (let i = 1; i < t.bars.length; i++) expect(t.bars[i]!.left).to.be.at.least(t.bars[i - 1]!.left);
      const installer = t.names.indexOf('installer starts');
      expect(t.bars[installer]!.width).to.be.above(t.bars[installer + 1]!.width * 5);
    }
  });

  it('fits the window (nothing wider than 1280 px) and screenshots', async () => {
    const size = await chromium.evaluate<{ w: number; h: number }>('({ w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight })');
    expect(size.w).to.be.at.most(1280);
    const png = await chromium.screenshot(path.join(artifacts, 'report-top.png'), 2400);
    expect(png.subarray(1, 4).toString()).to.equal('PNG');
    expect(png.readUInt32BE(16)).to.equal(1280);
    expect(png.readUInt32BE(20)).to.equal(Math.min(2400, size.h));
    expect(png.length).to.be.above(50_000); // a rendered page, not a blank one
    const failing = await chromium.screenshotOf('tr.test.fail', path.join(artifacts, 'report-failing-test.png'));
    expect(failing.subarray(1, 4).toString()).to.equal('PNG');
  });

  it('bad input is a usage error', async () => {
    let err: unknown;
    await reportCommand.run([path.join(tmp, 'runs', 'run0')]).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.match(/--html is required/);
    err = undefined;
    await reportCommand.run([path.join(tmp, 'nope'), '--html', path.join(tmp, 'x.html')]).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.match(/no such run directory/);
  });
});
