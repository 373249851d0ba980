// Golden runs for the report and verdict tests: results recorded from real `eve-qual run`s of the suites on the
// fixture boxes (test/golden/<case>/, recorded by `npm run golden`; golden-drift.test.ts fails when the suites no
// longer register the recorded ids). A test takes a run as recorded and derives what it needs: another sample,
// release, operator, vendor, model or start time (box, release and operator fields, every timestamp shifted alike),
// a recorded test's outcome changed by its id, a recorded step's outcome or duration by its name. Nothing else: no
// test or step is ever invented or removed here.
import fs from 'node:fs';
import path from 'node:path';
import type { Attempt, Outcome, RunResults, StepResult, TestResult } from '../../lib/report/results.ts';
import { GOLDEN_CASES, goldenRoot, type GoldenCaseName } from './cases.ts';

export type { GoldenCaseName } from './cases.ts';
export const GOLDEN_CASE_NAMES: readonly GoldenCaseName[] = GOLDEN_CASES.map((c) => c.name);

/** The folder of a recorded case (results.json, steps.log, console/, inventory/, profile.yaml). */
export function goldenDir(name: GoldenCaseName): string {
  const dir = path.join(goldenRoot, name);
  if (!fs.existsSync(path.join(dir, 'results.json'))) throw new Error(`golden case ${name} is not recorded (test/golden/${name}/results.json): run npm run golden -- ${name}`);
  return dir;
}

/** The case's results as recorded (a fresh copy each call). */
export function goldenRun(name: GoldenCaseName): RunResults {
  return JSON.parse(fs.readFileSync(path.join(goldenDir(name), 'results.json'), 'utf8')) as RunResults;
}

/** The console text the case's run recorded (the `| ` lines of its console log, raw: ANSI and CRs included). */
export function goldenConsoleLines(name: GoldenCaseName): string[] {
  const run = goldenRun(name);
  return fs
    .readFileSync(path.join(goldenDir(name), 'console', `${run.box.name}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.includes(' | '))
    .map((l) => l.slice(l.indexOf(' | ') + 3));
}

export interface RunChanges {
  vendor?: string;
  model?: string;
  sample?: string;
  boxName?: string;
  /** The release version (eveRelease follows: its version part is replaced). */
  release?: string;
  organisation?: string;
  role?: 'owner' | 'partner';
  /** The --level asked; null: none. */
  level?: number | null;
  /** When the run started: every timestamp of the run moves by the same amount (the runId follows). */
  start?: string;
}

function shift(iso: string, ms: number): string {
  return new Date(Date.parse(iso) + ms).toISOString();
}

/** The same run as if made on another box, release or by another operator, or at another time. */
export function derive(run: RunResults, c: RunChanges): RunResults {
  const r = structuredClone(run);
  r.box = { ...r.box, ...(c.vendor ? { vendor: c.vendor } : {}), ...(c.model ? { model: c.model } : {}), ...(c.sample ? { sample: c.sample } : {}), ...(c.boxName ? { name: c.boxName } : {}) };
  if (c.release) r.release = { ...r.release, version: c.release, eveRelease: r.release.eveRelease.replace(run.release.version, c.release) };
  r.operator = { organisation: c.organisation ?? r.operator.organisation, role: c.role ?? r.operator.role };
  if (c.level === null) delete r.level;
  else if (c.level !== undefined) r.level = c.level;
  if (c.start) {
    const ms = Date.parse(c.start) - Date.parse(run.start);
    r.start = c.start;
    if (r.end) r.end = shift(r.end, ms);
    r.steps = r.steps.map((s) => ({ ...s, start: shift(s.start, ms) }));
    r.tests = r.tests.map((t) => ({ ...t, start: shift(t.start, ms) }));
  }
  if (c.start || c.boxName) r.runId = `${r.start}-${r.box.name}`;
  return r;
}

export interface OutcomeChange {
  outcome: Outcome;
  /** Default: box for a fail, lab for an error, operator for a skip. */
  reason?: TestResult['reason'];
  /** Default: a sentence saying the outcome was derived. */
  message?: string;
  /** Earlier attempts (a retried test). */
  attempts?: Attempt[];
  consoleExcerpt?: string;
}

const DEFAULT_REASON: Record<Outcome, TestResult['reason']> = { pass: undefined, fail: 'box', error: 'lab', skip: 'operator' };

/** The run with the recorded test `id` given another outcome; an id the run does not hold is an error of the test. */
export function withOutcome(run: RunResults, id: string, change: Outcome | OutcomeChange): RunResults {
  const ch = typeof change === 'string' ? { outcome: change } : change;
  if (!run.tests.some((t) => t.id === id)) throw new Error(`the golden run ${run.runId} has no test ${id} (its ids: ${run.tests.map((t) => t.id).join(', ')})`);
  const r = structuredClone(run);
  r.tests = r.tests.map((t) => {
    if (t.id !== id) return t;
    const { reason: _r, message: _m, ...rest } = t;
    const reason = ch.reason ?? DEFAULT_REASON[ch.outcome];
    const message = ch.message ?? (ch.outcome === 'pass' ? undefined : `${id}: ${ch.outcome} (derived from a recorded ${t.outcome})`);
    return {
      ...rest,
      outcome: ch.outcome,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      ...(ch.attempts ? { attempts: ch.attempts } : {}),
      ...(ch.consoleExcerpt !== undefined ? { consoleExcerpt: ch.consoleExcerpt } : {}),
    };
  });
  return r;
}

/** Several outcome changes at once, by id. */
export function withOutcomes(run: RunResults, changes: Record<string, Outcome | OutcomeChange>): RunResults {
  return Object.entries(changes).reduce((r, [id, ch]) => withOutcome(r, id, ch), run);
}

export interface StepChange {
  outcome?: StepResult['outcome'];
  detail?: string;
  durationMs?: number;
}

/** The run with the recorded step `name` given another outcome or duration (a step the run lacks is an error). */
export function withStepOutcome(run: RunResults, name: string, change: StepChange): RunResults {
  if (!run.steps.some((s) => s.name === name)) throw new Error(`the golden run ${run.runId} has no step ${JSON.stringify(name)} (its steps: ${run.steps.map((s) => s.name).join(', ')})`);
  const r = structuredClone(run);
  r.steps = r.steps.map((s) => (s.name === name ? { ...s, ...change } : s));
  return r;
}

/** A run directory as the run left it: the recorded case's files (logs, inventory), the given results.json. */
export function writeGoldenRunDir(dir: string, run: RunResults, from: GoldenCaseName): string {
  fs.cpSync(goldenDir(from), dir, { recursive: true, filter: (src) => !/(^|[\\/])(results\.json|profile\.yaml)$/.test(src) });
  fs.writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(run, null, 2)}\n`);
  return dir;
}
