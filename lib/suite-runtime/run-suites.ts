// Runs capability suites with mocha, programmatically: one Mocha instance per run (load-suites.ts), the box handed
// over as the SuiteContext. A
// small reporter turns mocha's events into TestResults: assertion failures and box errors are `fail` (the box was
// reached and the item does not work), lab and harness errors and timeouts are `error` (could not check), skips
// carry their typed reason. Each test's identity (capability, item, check) is data given at registration
// (check-identity.ts); a pass that recorded no fact is a harness bug, never a pass.
import type Mocha from 'mocha';
import fs from 'node:fs';
import path from 'node:path';
import { EveQualError } from '../errors.ts';
import type { Attachment, Outcome, TestResult } from '../report/results.ts';
import type { CheckIdentity } from './check-identity.ts';
import { loadSuites } from './load-suites.ts';
import type { SuiteContext, SuiteModule } from './suite-context.ts';

export interface SuiteRunOptions {
  ctx: Omit<SuiteContext, 'fact' | 'attach'>;
  modules: SuiteModule[];
  onTest: (r: TestResult) => void;
  /** A check is about to run. */
  onStart?: (id: string) => void;
  progress?: (line: string) => void;
  /** Default per-test timeout (ms). */
  timeout?: number;
  /** Run only the checks with these ids (a recovery or a resume runs what is left). */
  only?: ReadonlySet<string>;
  /** Aborted: no further check starts (the box was lost). */
  signal?: AbortSignal;
}

type Runnable = Mocha.Runnable & { skipReason?: string };

export const UNPROVEN_PASS = 'the check passed without recording a fact read from the box: a pass must be proven (a harness bug)';

function classify(err: unknown): { outcome: Outcome; reason: TestResult['reason'] } {
  if (err instanceof EveQualError) return err.errorClass === 'box' ? { outcome: 'fail', reason: 'box' } : { outcome: 'error', reason: err.errorClass };
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.name === 'AssertionError') return { outcome: 'fail', reason: 'box' };
  if (e?.code === 'ERR_MOCHA_TIMEOUT' || /^Timeout of \d+ms exceeded/.test(e?.message ?? '')) return { outcome: 'error', reason: 'lab' };
  return { outcome: 'error', reason: 'bug' };
}

/** What one test left behind while it ran: its facts, attachments and the console while it ran. */
interface TestCapture {
  facts: Record<string, unknown>;
  attachments: Attachment[];
  excerpt: { stop(): string } | null;
  started: number;
}

/** The outcome, reason and message of a finished test, from mocha's state and the error it threw. */
function judged(test: Mocha.Runnable, outcome: Outcome, err: unknown, facts: Record<string, unknown>): Pick<TestResult, 'outcome' | 'reason' | 'message'> {
  if (outcome === 'skip') {
    const skipReason = (test as Runnable).skipReason;
    return { outcome, reason: (skipReason?.split(':')[0] as TestResult['reason']) ?? 'not-run', message: skipReason?.split(': ').slice(1).join(': ') || 'skipped' };
  }
  if (err !== undefined) {
    const c = classify(err);
    return { outcome: c.outcome, reason: c.reason, message: err instanceof EveQualError ? err.describe() : ((err as Error)?.message ?? String(err)) };
  }
  if (outcome === 'pass' && !Object.keys(facts).length) return { outcome: 'error', reason: 'bug', message: UNPROVEN_PASS };
  return { outcome };
}

function resultOf(id: CheckIdentity, test: Mocha.Runnable, outcome: Outcome, err: unknown, cap: TestCapture, attempts: TestResult['attempts']): TestResult {
  const r: TestResult = {
    id: id.id,
    capability: id.capability,
    check: id.check,
    name: id.title,
    ...(id.item ? { item: id.item } : {}),
    ...judged(test, outcome, err, cap.facts),
    start: new Date(cap.started || Date.now()).toISOString(),
    durationMs: test.duration ?? (cap.started ? Date.now() - cap.started : 0),
    attempts,
    attachments: cap.attachments,
  };
  const ex = cap.excerpt?.stop();
  cap.excerpt = null;
  if (ex && outcome !== 'skip') r.consoleExcerpt = ex;
  if (Object.keys(cap.facts).length) r.facts = cap.facts;
  return r;
}

function contextFor(o: SuiteRunOptions, cap: TestCapture): SuiteContext {
  return {
    ...o.ctx,
    fact: (k, v) => {
      cap.facts[k] = v;
    },
    attach: (name, rel, content) => {
      const file = path.join(o.ctx.runDir, rel);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      cap.attachments.push({ name, path: rel });
    },
  };
}

function progressLine(r: TestResult): string {
  const mark = r.outcome === 'pass' ? '✔' : r.outcome === 'skip' ? '-' : r.outcome === 'fail' ? '✘' : '!';
  return `  ${mark} ${r.id}: ${r.name}${r.outcome === 'pass' ? '' : ` (${r.outcome}${r.reason ? `, ${r.reason}` : ''})`}`;
}

export async function runSuites(o: SuiteRunOptions): Promise<TestResult[]> {
  const results: TestResult[] = [];
  const cap: TestCapture = { facts: {}, attachments: [], excerpt: null, started: 0 };
  const ctx = contextFor(o, cap);
  const { mocha, registry, replayed } = loadSuites(o.modules, ctx, o.timeout, o.only);

  const retries = new Map<Mocha.Runnable, TestResult['attempts']>();
  const record = (test: Mocha.Runnable, outcome: Outcome, err?: unknown): void => {
    const r = resultOf(registry.identityOf(test), test, outcome, err, cap, retries.get(test) ?? []);
    // Run again only for what a later check of its item needs; its result was recorded when it first ran.
    if (replayed.has(r.id)) return;
    results.push(r);
    o.onTest(r);
    o.progress?.(progressLine(r));
  };

  await new Promise<void>((resolve) => {
    const runner = mocha.run(() => resolve());
    if (o.signal?.aborted) runner.abort();
    o.signal?.addEventListener('abort', () => runner.abort(), { once: true });
    runner.on('test', (t) => {
      o.onStart?.(registry.identityOf(t).id);
      cap.started = Date.now();
      cap.facts = {};
      cap.attachments = [];
      cap.excerpt = o.ctx.console.excerpt(16_384);
    });
    runner.on('pass', (t) => record(t, 'pass'));
    runner.on('fail', (t, err) => record(t, 'fail', err));
    runner.on('pending', (t) => record(t, 'skip'));
    runner.on('retry', (t, err) => {
      const list = retries.get(t) ?? [];
      list.push({ outcome: classify(err).outcome, message: (err as Error).message, durationMs: t.duration ?? 0 });
      retries.set(t, list);
    });
  });
  cap.excerpt?.stop();
  // The runner's process listeners go with it (a process may run suites many times: the tests do).
  mocha.dispose();
  return results;
}
