import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../lib/errors.ts';
import { readRun, readRuns } from '../../lib/report/read-run.ts';
import { ResultsBug, ResultsWriter, toStepResult, type RunHeader } from '../../lib/report/results-writer.ts';
import type { TestResult } from '../../lib/report/results.ts';
import { RESULTS_SCHEMA_VERSION } from '../../lib/report/results.ts';
import { derive, goldenRun, writeGoldenRunDir } from '../golden/golden.ts';
import { xmllint } from './xmllint.ts';

const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'writer-child.ts');

function header(): RunHeader {
  const { schemaVersion: _v, status: _s, steps: _st, tests: _t, end: _e, ...h } = goldenRun('amd64-level2');
  return h;
}

function runChild(dir: string, count: number, killAfter?: number, onLine?: (l: string) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', child, dir, String(count), ...(killAfter === undefined ? [] : [String(killAfter)])];
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (onLine) for (const l of d.toString().split('\n').filter(Boolean)) onLine(l);
    });
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => (code && code !== 0 ? reject(new Error(`writer child exited ${code}: ${err}`)) : resolve({ code, signal, out })));
  });
}

function tmpFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

describe('report: ResultsWriter and readRun', function () {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-writer-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes results.json and junit.xml at once and after every change; finish records the end', async () => {
    const w = new ResultsWriter(tmp, header());
    let run = readRun(tmp).results;
    expect(run.status).to.equal('running');
    expect(run.tests).to.have.length(0);
    expect((await xmllint(path.join(tmp, 'junit.xml'))).ok).to.equal(true);
    const tests = goldenRun('amd64-level2').tests;
    w.addStep(toStepResult({ name: 'prepare installer media', start: new Date('2026-11-24T21:17:08.124Z'), durationMs: 54, outcome: 'ok' }));
    w.addTest(tests[0]!);
    w.addTest(tests[1]!);
    run = readRun(tmp).results;
    expect(run.steps).to.deep.equal([{ name: 'prepare installer media', start: '2026-11-24T21:17:08.124Z', durationMs: 54, outcome: 'ok' }]);
    expect(run.tests.map((t) => t.id)).to.deep.equal([tests[0]!.id, tests[1]!.id]);
    // The same id again replaces (a re-run within the run).
    w.addTest({ ...tests[0]!, outcome: 'fail', reason: 'box', message: 'now it fails' });
    expect(readRun(tmp).results.tests.map((t) => t.outcome)).to.deep.equal(['fail', 'pass']);
    w.addAttachment({ name: 'console', path: 'console/qemu-amd64.log' });
    w.update({ declared: { ethernet: ['eth0'] } });
    w.finish('finished', new Date('2026-11-24T22:00:00.000Z'));
    w.finish('crashed'); // a late crash handler changes nothing
    run = readRun(tmp).results;
    expect(run.status).to.equal('finished');
    expect(run.end).to.equal('2026-11-24T22:00:00.000Z');
    expect(run.declared).to.deep.equal({ ethernet: ['eth0'] });
    expect(fs.readFileSync(path.join(tmp, 'junit.xml'), 'utf8')).to.include('now it fails');
    expect((await xmllint(path.join(tmp, 'junit.xml'))).ok).to.equal(true);
    expect(tmpFiles(tmp)).to.deep.equal([]);
  });

  it('refuses what does not fit the schema (a bug), leaving the files as they were', () => {
    const w = new ResultsWriter(tmp, header());
    const before = fs.readFileSync(path.join(tmp, 'results.json'), 'utf8');
    const bad = { ...goldenRun('amd64-level2').tests[0]!, outcome: 'passed' } as unknown as TestResult;
    expect(() => w.addTest(bad)).to.throw(ResultsBug, /outcome/);
    expect(() => w.addAttachment({ name: 'x', path: '../../etc/passwd' })).to.throw(ResultsBug, /relative to the run directory/);
    expect(fs.readFileSync(path.join(tmp, 'results.json'), 'utf8')).to.equal(before);
  });

  it('a run killed (SIGKILL) mid-way keeps every finished test, in valid results.json and junit.xml', async () => {
    const r = await runChild(tmp, 20, 7);
    expect(r.signal).to.equal('SIGKILL');
    expect(r.out.trim().split('\n').pop()).to.equal('recorded 7');
    const run = readRun(tmp).results;
    expect(run.status).to.equal('running');
    expect(run.tests.map((t) => t.name)).to.deep.equal(goldenRun('amd64-level2').tests.slice(0, 7).map((t) => t.name));
    const lint = await xmllint(path.join(tmp, 'junit.xml'));
    expect(lint.ok, lint.output).to.equal(true);
    const junit = fs.readFileSync(path.join(tmp, 'junit.xml'), 'utf8');
    expect(junit).to.include(`name="${goldenRun('amd64-level2').tests[6]!.name}"`);
    expect(junit).to.match(/name="the run completes"[\s\S]*has not finished/);
    expect(tmpFiles(tmp)).to.deep.equal([]);
  });

  it('a reader never sees a partial file while the writer rewrites it', async () => {
    let reads = 0;
    let done = false;
    const problems: string[] = [];
    const reader = (async () => {
      while (!done) {
        for (const f of ['results.json', 'junit.xml']) {
          let text: string;
          try {
            text = await fs.promises.readFile(path.join(tmp, f), 'utf8');
          } catch {
            continue; // not written yet
          }
          reads++;
          if (f === 'results.json') {
            try {
              JSON.parse(text);
            } catch (e) {
              problems.push(`${f}: ${(e as Error).message}`);
            }
          } else if (!text.trimEnd().endsWith('</testsuites>')) problems.push(`${f}: truncated (${text.length} bytes)`);
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    await runChild(tmp, 150).finally(() => (done = true));
    await reader;
    expect(problems).to.deep.equal([]);
    expect(reads).to.be.above(10);
    expect(readRun(tmp).results.status).to.equal('finished');
  });

  describe('readRun errors are clear ConfigErrors (exit 2)', () => {
    const expectConfig = (fn: () => unknown, re: RegExp) => {
      try {
        fn();
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        expect((e as Error).message).to.match(re);
        return;
      }
      expect.fail('no error');
    };

    it('a missing path, a directory that is not a run, an empty file', () => {
      expectConfig(() => readRun(path.join(tmp, 'nope')), /nope: no such run directory or results file/);
      expectConfig(() => readRun(tmp), /not a run directory \(no results\.json/);
      fs.writeFileSync(path.join(tmp, 'results.json'), '');
      expectConfig(() => readRun(tmp), /results\.json:1:1: not valid JSON: empty file/);
    });

    it('bad JSON with its line and column', () => {
      fs.writeFileSync(path.join(tmp, 'results.json'), '{\n  "schemaVersion": 1,\n  "runId": oops\n}\n');
      expectConfig(() => readRun(tmp), /results\.json:3:12: not valid JSON/);
    });

    it('a schema problem names the field; a newer schema says to update', () => {
      const r = goldenRun('amd64-level2') as unknown as { tests: Array<Record<string, unknown>>; box: Record<string, unknown> };
      r.tests[2]!.outcome = 'passed';
      delete r.box.sample;
      fs.writeFileSync(path.join(tmp, 'results.json'), JSON.stringify(r));
      expectConfig(() => readRun(tmp), /results\.json: box\.sample: .*\n.*results\.json: tests\[2\]\.outcome: /);
      fs.writeFileSync(path.join(tmp, 'results.json'), JSON.stringify({ ...goldenRun('amd64-level2'), schemaVersion: 9 }));
      expectConfig(() => readRun(tmp), new RegExp(`schema version 9 is newer than this eve-qual reads \\(${RESULTS_SCHEMA_VERSION}\\): update eve-qual`));
    });

    it('readRuns takes run directories, results.json files, and directories of runs, each once', () => {
      const a = writeGoldenRunDir(path.join(tmp, 'runs', 'a'), derive(goldenRun('amd64-level2'), { sample: 'A' }), 'amd64-level2');
      writeGoldenRunDir(path.join(tmp, 'runs', 'b'), derive(goldenRun('amd64-defects'), { sample: 'B' }), 'amd64-defects');
      fs.mkdirSync(path.join(tmp, 'runs', 'not-a-run'));
      const runs = readRuns([path.join(tmp, 'runs'), a, path.join(a, 'results.json')]);
      expect(runs.map((r) => r.results.box.sample)).to.deep.equal(['A', 'B']);
      expectConfig(() => readRuns([path.join(tmp, 'runs', 'not-a-run')]), /holds no run directories/);
    });
  });
});
