import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import xml2js from 'xml2js';
import { toJUnit } from '../../lib/report/junit.ts';
import { readRun } from '../../lib/report/read-run.ts';
import { CAPABILITIES, RESULTS_SCHEMA_VERSION, type RunResults, type TestResult } from '../../lib/report/results.ts';
import { sanitizeExcerpt } from '../../lib/report/sanitize.ts';
import { repoRoot } from '../helpers/fixture-release.ts';
import { goldenConsoleLines, goldenRun, withOutcomes, withStepOutcome, writeGoldenRunDir } from '../golden/golden.ts';
import { junitXsd, sharedJunitXsd, xmllint, xmllintText } from './xmllint.ts';

type El = { $?: Record<string, string>; _?: string } & Record<string, unknown>;

async function parse(xml: string): Promise<El> {
  return (await xml2js.parseStringPromise(xml, { explicitArray: true })) as El;
}
const kids = (e: El, name: string) => (e[name] as El[] | undefined) ?? [];
const text = (e: El | string | undefined) => (typeof e === 'string' ? e : (e?._ ?? ''));

/** What Jenkins, GitLab and the GitHub reporters take from a testcase: failure → failed, error → error,
 * skipped → skipped, otherwise passed (each reads the first of these children). */
function consumerStatus(tc: El): string {
  if (kids(tc, 'failure').length) return 'fail';
  if (kids(tc, 'error').length) return 'error';
  if (kids(tc, 'skipped').length) return 'skip';
  return 'pass';
}

async function expectValid(xml: string): Promise<void> {
  const r = await xmllintText(xml);
  expect(r.ok, `xmllint against junit-10.xsd:\n${r.output.slice(0, 3000)}`).to.equal(true);
}

describe('report: JUnit', function () {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-junit-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the XSD in the repository is the shared one, allows flakyFailure, and xmllint rejects what it forbids', async () => {
    if (fs.existsSync(sharedJunitXsd)) expect(fs.readFileSync(junitXsd, 'utf8')).to.equal(fs.readFileSync(sharedJunitXsd, 'utf8'));
    const xsd = fs.readFileSync(junitXsd, 'utf8');
    expect(xsd).to.match(/<xs:element name="flakyFailure" type="rerunType"\/>/);
    expect(xsd).to.match(/<xs:element ref="flakyFailure"/);
    // The validator can fail: a testcase without its required name, and a flakyFailure without its required type.
    const bad1 = await xmllintText('<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase classname="x"/></testsuite></testsuites>');
    expect(bad1.ok).to.equal(false);
    const bad2 = await xmllintText('<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="n"><flakyFailure/></testcase></testsuite></testsuites>');
    expect(bad2.ok).to.equal(false);
  });

  it('a run of the virtual box: valid, one testsuite per capability with properties, outcomes as consumers read them', async () => {
    // The kernel's lines about eth1 on the recorded console, as the excerpt of a failing eth1 check would show them.
    const eth1Lines = goldenConsoleLines('amd64-level2').filter((l) => /e1000 .*eth1/.test(l)).join('\n');
    expect(eth1Lines).to.include('e1000 0000:00:04.0 eth1: Intel(R) PRO/1000 Network Connection');
    const results = withOutcomes(goldenRun('amd64-level2'), {
      'ethernet/eth1/carrier': { outcome: 'fail', message: 'eth1: no carrier (operstate down) after 30 s', consoleExcerpt: eth1Lines },
      'tpm/tpm2-present': { outcome: 'error', reason: 'lab', message: 'SSH shell lost: connection reset by peer' },
    });
    const dir = writeGoldenRunDir(path.join(tmp, 'virtual'), results, 'amd64-level2');
    const xml = toJUnit(results, dir);
    fs.writeFileSync(path.join(dir, 'junit.xml'), xml);
    const lint = await xmllint(path.join(dir, 'junit.xml'));
    expect(lint.ok, lint.output).to.equal(true);

    const doc = await parse(xml);
    const suitesEl = doc.testsuites as El;
    expect(suitesEl).to.not.equal(undefined);
    const suites = kids(suitesEl, 'testsuite');
    const caps = CAPABILITIES.filter((c) => results.tests.some((t) => t.capability === c));
    expect(suites.map((s) => s.$!.name)).to.deep.equal(caps);
    for (const s of suites) {
      const props = Object.fromEntries(kids(kids(s, 'properties')[0]!, 'property').map((p) => [p.$!.name, p.$!.value]));
      expect(props).to.include({ level: '2', release: '0.0.0-fixture', sample: 'VM-AMD64-0001', program: 'EVE-OS hardware qualification', operator: 'LF Edge lab (owner)' });
      expect(props.profile).to.match(/^test\/golden\/amd64-level2\/profile\.yaml sha256:[0-9a-f]{64}$/);
      expect(props.box).to.equal('qemu-amd64 (QEMU q35-ovmf, amd64, virtual)');
      const cases = kids(s, 'testcase');
      const own = results.tests.filter((t) => t.capability === s.$!.name);
      expect(cases.map((c) => [c.$!.classname, c.$!.name])).to.deep.equal(own.map((t) => [t.capability, t.name]));
      expect(cases.map(consumerStatus)).to.deep.equal(own.map((t) => t.outcome));
      expect(Number(s.$!.tests)).to.equal(own.length);
      expect(Number(s.$!.failures)).to.equal(own.filter((t) => t.outcome === 'fail').length);
      expect(Number(s.$!.errors)).to.equal(own.filter((t) => t.outcome === 'error').length);
      expect(Number(s.$!.skipped)).to.equal(own.filter((t) => t.outcome === 'skip').length);
      expect(text(kids(s, 'system-out')[0])).to.include('[[ATTACHMENT|console/qemu-amd64.log]]');
    }
    const named = (id: string) => results.tests.find((t) => t.id === id)!.name;
    const eth = kids(suites.find((s) => s.$!.name === 'ethernet')!, 'testcase').find((c) => c.$!.name === named('ethernet/eth1/carrier'))!;
    const failure = kids(eth, 'failure')[0]!;
    expect(failure.$).to.include({ type: 'box', message: 'eth1: no carrier (operstate down) after 30 s' });
    expect(text(failure)).to.include('e1000 0000:00:04.0 eth1: Intel(R) PRO/1000 Network Connection');
    expect(text(kids(eth, 'system-out')[0])).to.include('[[ATTACHMENT|console/qemu-amd64.log]]');
    const tpm = kids(suites.find((s) => s.$!.name === 'tpm')!, 'testcase').find((c) => c.$!.name === named('tpm/tpm2-present'))!;
    expect(kids(tpm, 'error')[0]!.$).to.include({ type: 'lab', message: 'SSH shell lost: connection reset by peer' });
    const cell = kids(suites.find((s) => s.$!.name === 'cellular')!, 'testcase')[0]!;
    expect(kids(cell, 'skipped')[0]!.$!.message).to.equal(`not-declared: ${results.tests.find((t) => t.id === 'cellular/declared')!.message}`);
    const inv = kids(suites.find((s) => s.$!.name === 'inventory')!, 'testcase')[0]!;
    const invOut = text(kids(inv, 'system-out')[0]);
    for (const a of results.tests.find((t) => t.id === 'inventory/collected')!.attachments) expect(invOut).to.include(`[[ATTACHMENT|${a.path}]]`);
    expect(invOut).to.include('[[ATTACHMENT|inventory/dmesg.txt]]');
    expect(invOut).to.not.include('missing');
  });

  it('the recorded runs (passing, seeded defects, interrupted, arm64) validate, and read as they were recorded', async () => {
    for (const name of ['amd64-level2', 'amd64-defects', 'amd64-interrupted', 'arm64-level2'] as const) {
      if (name === 'arm64-level2' && !fs.existsSync(path.join(repoRoot, 'test', 'golden', name, 'results.json'))) continue; // optional case
      const results = goldenRun(name);
      const dir = writeGoldenRunDir(path.join(tmp, name), results, name);
      const xml = toJUnit(results, dir);
      await expectValid(xml);
      const cases = kids((await parse(xml)).testsuites as El, 'testsuite').flatMap((s) => kids(s, 'testcase').filter((c) => c.$!.classname !== 'run'));
      const inReportOrder = CAPABILITIES.flatMap((c) => results.tests.filter((t) => t.capability === c));
      expect(cases.map((c) => [c.$!.classname, c.$!.name, consumerStatus(c)]), name).to.deep.equal(inReportOrder.map((t) => [t.capability, t.name, t.outcome]));
      expect(xml, name).to.not.include('missing from the run directory');
    }
  });

  it('JUnit of real virtual-box runs (runs/*/ and $EVE_QUAL_RUN_DIRS) validates', async function () {
    const dirs = [
      ...(process.env.EVE_QUAL_RUN_DIRS ?? '').split(':').filter(Boolean),
      ...(fs.existsSync(path.join(repoRoot, 'runs')) ? fs.readdirSync(path.join(repoRoot, 'runs')).map((d) => path.join(repoRoot, 'runs', d)) : []),
    ].filter((d) => fs.existsSync(path.join(d, 'results.json')) && (JSON.parse(fs.readFileSync(path.join(d, 'results.json'), 'utf8')) as RunResults).schemaVersion === RESULTS_SCHEMA_VERSION);
    if (!dirs.length) this.skip(); // no current real run directory on this machine (older schemas are refused by design)
    for (const d of dirs) {
      const run = readRun(d);
      await expectValid(toJUnit(run.results, run.dir));
      if (fs.existsSync(path.join(d, 'junit.xml'))) {
        const lint = await xmllint(path.join(d, 'junit.xml'));
        expect(lint.ok, `${d}/junit.xml: ${lint.output}`).to.equal(true);
      }
    }
  });

  describe('hostile console output', () => {
    const mib = 'A'.repeat(1024 * 1024);
    const payloads: Record<string, string> = {
      ansi: '\x1b[2J\x1b[01;01H\x1b[0m\x1b[30m\x1b[47mWelcome to GRUB!\x1b]0;title\x07\x1b[?25l\x1b[6n',
      nul: 'before\x00after\x00\x00\x01\x02\x1b\x7f\u0080\u009f end',
      invalidUtf8: Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x21]).toString('utf8') + 'lone \uD83D surrogate \uDE00 and \uFFFE\uFFFF',
      latin1: Buffer.from([0x80, 0x81, 0x9b, 0x33, 0x31, 0x6d, 0xe9, 0xff]).toString('latin1'),
      mibLine: `start\n${mib}\nend`,
      cdataEnd: 'x ]]> y ]]]]> z ]]>]]> <![CDATA[ & < > " \' ]]>',
      emoji: '👍🏽 👨‍👩‍👧‍👦 🇪🇺 𝄞 ✔ ✘ — ünïcödé '.repeat(50),
    };

    /** The recorded run with every payload in the texts of one recorded test each (ids and items as recorded). */
    function hostileRun(): RunResults {
      const base = goldenRun('amd64-level2');
      const keys = Object.keys(payloads);
      const tests: TestResult[] = base.tests.map((t, i) => {
        const key = keys[i];
        if (key === undefined) return t;
        const p = payloads[key]!;
        return {
          ...t,
          name: `${key}: ${p.slice(0, 200)}`,
          outcome: (['fail', 'error', 'pass', 'skip'] as const)[i % 4]!,
          ...((['box', 'lab', undefined, 'operator'] as const)[i % 4] ? { reason: (['box', 'lab', undefined, 'operator'] as const)[i % 4] } : {}),
          message: `${key} message: ${p}`,
          durationMs: 1234.5,
          attempts: [
            { outcome: 'fail', durationMs: 10, message: `attempt: ${p}`, consoleExcerpt: p },
            { outcome: 'error', durationMs: 11, message: `attempt 2: ${p.slice(0, 100)}` },
          ],
          consoleExcerpt: p,
          facts: { raw: p.slice(0, 100) },
        };
      });
      expect(tests.length).to.be.above(keys.length);
      return { ...base, box: { ...base.box, name: `evil\x1b[31m${payloads.cdataEnd}` }, tests, status: 'crashed' };
    }

    it('validates against the XSD with every payload in excerpts, messages, names, attempts and properties', async () => {
      const results = hostileRun();
      const xml = toJUnit(results, tmp);
      expect(xml.length).to.be.below(3 * 1024 * 1024);
      await expectValid(xml);
    });

    it('reads back as the sanitized text: ]]> kept, emoji kept, controls gone, the 1 MiB line cut', async () => {
      const results = hostileRun();
      const doc = await parse(toJUnit(results, tmp));
      const suite = kids(doc.testsuites as El, 'testsuite')[0]!;
      const cases = kids(doc.testsuites as El, 'testsuite').flatMap((s) => kids(s, 'testcase'));
      for (const [key, p] of Object.entries(payloads)) {
        const tc = cases.find((c) => c.$!.name!.startsWith(`${key}:`))!;
        expect(tc, key).to.not.equal(undefined);
        const all = JSON.stringify(tc);
        expect(all, key).to.not.match(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\uFFFE\uFFFF]|\\u00[01][0-9a-f]|\\u001b/i);
        const body = [...kids(tc, 'failure'), ...kids(tc, 'error'), ...kids(tc, 'system-out')].map(text).join('\n');
        const expected = sanitizeExcerpt(p);
        expect(body.includes(expected), `${key}: the excerpt reads back exactly`).to.equal(true);
      }
      const cd = cases.find((c) => c.$!.name!.startsWith('cdataEnd:'))!;
      expect([...kids(cd, 'failure'), ...kids(cd, 'error')].map(text).join('')).to.include('x ]]> y ]]]]> z ]]>]]> <![CDATA[ & < > " \' ]]>');
      const em = cases.find((c) => c.$!.name!.startsWith('emoji:'))!;
      expect(JSON.stringify(em)).to.include('👨‍👩‍👧‍👦 🇪🇺 𝄞');
      const big = cases.find((c) => c.$!.name!.startsWith('mibLine:'))!;
      const bigText = [...kids(big, 'failure'), ...kids(big, 'error'), ...kids(big, 'system-out')].map(text).join('\n');
      expect(bigText).to.match(/\[… 1,044,480 characters of this line cut\]/);
      expect(bigText.length).to.be.below(3 * 70_000);
      const host = suite.$!.hostname!;
      expect(host).to.equal('evilx ]]> y ]]]]> z ]]>]]> <![CDATA[ & < > " \' ]]>');
    });
  });

  it('a retried test is one testcase: flakyFailure/flakyError when it passed in the end, rerunFailure when it did not', async () => {
    const results = withOutcomes(goldenRun('amd64-level2'), {
      'usb/stick0/enumerates': {
        outcome: 'pass',
        attempts: [
          { outcome: 'fail', durationMs: 2000, message: 'stick0 not enumerated', consoleExcerpt: 'usb 2-2: device descriptor read/64, error -71' },
          { outcome: 'error', durationMs: 500, message: 'SSH timed out' },
        ],
      },
      'usb/stick0/stores-data': {
        outcome: 'fail',
        message: 'read back differs at byte 4096',
        attempts: [{ outcome: 'fail', durationMs: 3000, message: 'read back differs at byte 0' }],
      },
    });
    const xml = toJUnit(results, tmp);
    await expectValid(xml);
    const usb = kids((await parse(xml)).testsuites as El, 'testsuite').find((s) => s.$!.name === 'usb')!;
    const cases = kids(usb, 'testcase');
    expect(cases).to.have.length(results.tests.filter((t) => t.capability === 'usb').length);
    const byId = (id: string) => cases.find((c) => c.$!.name === results.tests.find((t) => t.id === id)!.name)!;
    const flaky = byId('usb/stick0/enumerates');
    const rerun = byId('usb/stick0/stores-data');
    expect(consumerStatus(flaky)).to.equal('pass');
    expect(kids(flaky, 'flakyFailure')).to.have.length(1);
    expect(kids(flaky, 'flakyFailure')[0]!.$).to.include({ type: 'box', message: 'stick0 not enumerated' });
    expect(text(kids(kids(flaky, 'flakyFailure')[0]!, 'system-out')[0])).to.include('error -71');
    expect(kids(flaky, 'flakyError')[0]!.$).to.include({ type: 'lab', message: 'SSH timed out' });
    expect(consumerStatus(rerun)).to.equal('fail');
    expect(kids(rerun, 'rerunFailure')[0]!.$!.message).to.equal('read back differs at byte 0');
    expect(kids(rerun, 'flakyFailure')).to.have.length(0);
    expect(cases.filter((c) => c !== flaky && c !== rerun).map(consumerStatus).every((x) => x === 'pass')).to.equal(true);
  });

  it('a run interrupted mid-suite, and a failed step, never read as green', async () => {
    const interrupted = goldenRun('amd64-interrupted');
    expect(interrupted.status).to.equal('interrupted');
    const xml = toJUnit(interrupted, tmp);
    await expectValid(xml);
    const run = kids((await parse(xml)).testsuites as El, 'testsuite').find((s) => s.$!.name === 'run')!;
    const cases = kids(run, 'testcase');
    expect(cases.map((c) => c.$!.name)).to.deep.equal(['the run completes']);
    expect(cases.map(consumerStatus)).to.deep.equal(['error']);
    expect(kids(cases[0]!, 'error')[0]!.$!.message).to.equal(`the run was interrupted; ${interrupted.tests.length} tests recorded`);
    const withStep = withStepOutcome(interrupted, 'installer starts', { outcome: 'error', detail: 'timed out after 300 s waiting for the installer' });
    const xml2 = toJUnit(withStep, tmp);
    await expectValid(xml2);
    const run2 = kids((await parse(xml2)).testsuites as El, 'testsuite').find((s) => s.$!.name === 'run')!;
    expect(kids(run2, 'testcase').map((c) => [c.$!.name, consumerStatus(c)])).to.deep.equal([
      ['step: installer starts', 'error'],
      ['the run completes', 'error'],
    ]);
    expect(Number(doc(xml2).errors)).to.equal(2 + interrupted.tests.filter((t) => t.outcome === 'error').length);
  });
});

function doc(xml: string): { errors: string } {
  const m = /<testsuites [^>]*errors="(\d+)"/.exec(xml);
  return { errors: m?.[1] ?? 'none' };
}
