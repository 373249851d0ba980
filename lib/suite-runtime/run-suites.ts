// Runs capability suites with mocha, programmatically: one Mocha instance per run, the BDD functions handed to each
// suite module (no globals, so eve-qual can itself run inside mocha), the box handed over as the SuiteContext. A
// small reporter turns mocha's events into TestResults: assertion failures and box errors are `fail` (the box was
// reached and the item does not work), lab and harness errors and timeouts are `error` (could not check), skips
// carry their typed reason.
import Mocha from 'mocha';
import fs from 'node:fs';
import path from 'node:path';
import { EveQualError } from '../errors.ts';
import type { Attachment, Capability, Outcome, TestResult } from '../report/results.ts';
import type { Bdd, SuiteContext, SuiteModule } from './suite-context.ts';

export interface SuiteRunOptions {
  ctx: Omit<SuiteContext, 'fact' | 'attach'>;
  modules: SuiteModule[];
  onTest: (r: TestResult) => void;
  progress?: (line: string) => void;
  /** Default per-test timeout (ms). */
  timeout?: number;
}

type Runnable = Mocha.Runnable & { skipReason?: string };

function classify(err: unknown): { outcome: Outcome; reason: TestResult['reason'] } {
  if (err instanceof EveQualError) return err.errorClass === 'box' ? { outcome: 'fail', reason: 'box' } : { outcome: 'error', reason: err.errorClass };
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'AssertionError') return { outcome: 'fail', reason: 'box' };
  if (e?.code === 'ERR_MOCHA_TIMEOUT' || /^Timeout of \d+ms exceeded/.test(e?.message ?? '')) return { outcome: 'error', reason: 'lab' };
  return { outcome: 'error', reason: 'bug' };
}

function capabilityOf(test: Mocha.Runnable): Capability {
  let s: Mocha.Suite | undefined = test.parent;
  while (s?.parent && !s.parent.root) s = s.parent;
  return (s?.title ?? 'inventory') as Capability;
}

export async function runSuites(o: SuiteRunOptions): Promise<TestResult[]> {
  const results: TestResult[] = [];
  let facts: Record<string, unknown> = {};
  let attachments: Attachment[] = [];
  let excerpt: { stop(): string } | null = null;
  const ctx: SuiteContext = {
    ...o.ctx,
    fact: (k, v) => {
      facts[k] = v;
    },
    attach: (name, rel, content) => {
      const file = path.join(o.ctx.runDir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      attachments.push({ name, path: rel });
    },
  };
  // A null reporter: results go through our own listeners below.
  const mocha = new Mocha({ reporter: class {} as unknown as Mocha.ReporterConstructor, timeout: o.timeout ?? 180_000, bail: false });
  const bdd = {} as Bdd;
  mocha.suite.emit('pre-require', bdd, 'eve-qual-suites', mocha);
  for (const m of o.modules) m.register(bdd, ctx);

  const retries = new Map<Mocha.Runnable, TestResult['attempts']>();
  let started = 0;
  const record = (test: Mocha.Runnable, outcome: Outcome, err?: unknown): void => {
    const cap = capabilityOf(test);
    const c = err === undefined ? null : classify(err);
    const skipReason = (test as Runnable).skipReason;
    const r: TestResult = {
      id: `${cap}/${test.title}`,
      capability: cap,
      name: test.title,
      outcome: c?.outcome ?? outcome,
      start: new Date(started || Date.now()).toISOString(),
      durationMs: test.duration ?? (started ? Date.now() - started : 0),
      attempts: retries.get(test) ?? [],
      attachments,
    };
    const item = /^(\S+?):/.exec(test.title)?.[1];
    if (item) r.item = item;
    if (outcome === 'skip') {
      r.reason = (skipReason?.split(':')[0] as TestResult['reason']) ?? 'not-run';
      r.message = skipReason?.split(': ').slice(1).join(': ') || 'skipped';
    } else if (c) {
      r.reason = c.reason;
      r.message = err instanceof EveQualError ? err.describe() : ((err as Error)?.message ?? String(err));
    }
    const ex = excerpt?.stop();
    excerpt = null;
    if (ex && outcome !== 'skip') r.consoleExcerpt = ex;
    if (Object.keys(facts).length) r.facts = facts;
    results.push(r);
    o.onTest(r);
    const mark = r.outcome === 'pass' ? '✔' : r.outcome === 'skip' ? '-' : r.outcome === 'fail' ? '✘' : '!';
    o.progress?.(`  ${mark} ${cap}: ${test.title}${r.outcome === 'pass' ? '' : ` (${r.outcome}${r.reason ? `, ${r.reason}` : ''})`}`);
  };

  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    runner.on('test', () => {
      started = Date.now();
      facts = {};
      attachments = [];
      excerpt = o.ctx.console.excerpt(16_384);
    });
    runner.on('pass', (t) => record(t, 'pass'));
    runner.on('fail', (t, err) => {
      // A failing hook has no test of its own: report it against the suite's first test title.
      record(t, 'fail', err);
    });
    runner.on('pending', (t) => record(t, 'skip'));
    runner.on('retry', (t, err) => {
      const list = retries.get(t) ?? [];
      const c = classify(err);
      list.push({ outcome: c.outcome, message: (err as Error).message, durationMs: t.duration ?? 0 });
      retries.set(t, list);
    });
  });
  (excerpt as { stop(): string } | null)?.stop();
  return results;
}
