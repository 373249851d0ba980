// Records a run's results as they happen: every change rewrites results.json and junit.xml atomically (temporary
// file in the run directory, fsync, rename), so a crash, a kill or a power cut at any instant leaves both files
// valid and holding every result finished so far. Everything recorded is validated against the results schema
// first: a file on disk never breaks a consumer.
//
//   const w = new ResultsWriter(runDir, header);  // writes results.json (status running) and junit.xml at once
//   w.addStep(step); w.addTest(test); ...
//   w.finish('finished');
import path from 'node:path';
import type { z } from 'zod';
import { EveQualError } from '../errors.ts';
import { writeFileAtomic } from './atomic-write.ts';
import { toJUnit, type JUnitOptions } from './junit.ts';
import { RESULTS_SCHEMA_VERSION, type Attachment, type RunResults, type StepResult, type TestResult } from './results.ts';
import { attachmentSchema, runResultsSchema, stepResultSchema, testResultSchema } from './results-schema.ts';

export { readRun, readRuns, type LoadedRun } from './read-run.ts';

/** What is known when a run starts. */
export type RunHeader = Omit<RunResults, 'schemaVersion' | 'status' | 'steps' | 'tests' | 'attachments' | 'end'> &
  Partial<Pick<RunResults, 'attachments'>>;

export type FinalStatus = Exclude<RunResults['status'], 'running'>;

export const RESULTS_FILE = 'results.json';
export const JUNIT_FILE = 'junit.xml';

/** Thrown when a caller records something the schema rejects: a bug in eve-qual, not in the box. */
export class ResultsBug extends EveQualError {
  constructor(message: string) {
    super('bug', message);
  }
}

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`).join('; ');
  throw new ResultsBug(`${what} does not fit the results schema: ${problems}`);
}

/** A step as the install flow's StepLog records it (start as a Date), as results.json holds it. */
export function toStepResult(r: { name: string; start: Date; durationMs: number; outcome: StepResult['outcome']; detail?: string }): StepResult {
  return { name: r.name, start: r.start.toISOString(), durationMs: r.durationMs, outcome: r.outcome, ...(r.detail !== undefined ? { detail: r.detail } : {}) };
}

export class ResultsWriter {
  readonly runDir: string;
  readonly resultsFile: string;
  readonly junitFile: string;
  private readonly state: RunResults;
  private finished = false;

  constructor(
    runDir: string,
    header: RunHeader,
    private readonly junitOptions: JUnitOptions = {},
  ) {
    this.runDir = path.resolve(runDir);
    this.resultsFile = path.join(this.runDir, RESULTS_FILE);
    this.junitFile = path.join(this.runDir, JUNIT_FILE);
    const { attachments = [], ...rest } = header;
    this.state = check(
      runResultsSchema,
      { ...rest, schemaVersion: RESULTS_SCHEMA_VERSION, status: 'running', steps: [], tests: [], attachments },
      'the run header',
    );
    this.flush();
  }

  /** A deep copy of what has been recorded. */
  get results(): RunResults {
    return structuredClone(this.state);
  }

  addStep(step: StepResult): void {
    this.state.steps.push(check(stepResultSchema, step, `step ${JSON.stringify(step.name)}`));
    this.flush();
  }

  /** Record a finished test. A test with the id of one already recorded replaces it (a re-run in the same run). */
  addTest(test: TestResult): void {
    const t = check(testResultSchema, test, `test ${JSON.stringify(test.id)}`);
    const i = this.state.tests.findIndex((x) => x.id === t.id);
    if (i >= 0) this.state.tests[i] = t;
    else this.state.tests.push(t);
    this.flush();
  }

  /** Alias of addTest. */
  recordTest(test: TestResult): void {
    this.addTest(test);
  }

  /** A run-level attachment (console log, steps.log, inventory), relative to the run directory. */
  addAttachment(a: Attachment): void {
    const att = check(attachmentSchema, a, `attachment ${JSON.stringify(a.name)}`);
    if (!this.state.attachments.some((x) => x.path === att.path)) this.state.attachments.push(att);
    this.flush();
  }

  /** Fields learnt during the run (the release the box reports, what the profile declares...). */
  update(fields: Partial<Pick<RunResults, 'release' | 'declared' | 'level' | 'program' | 'box'>>): void {
    const next = check(runResultsSchema, { ...this.state, ...fields }, 'the run header');
    Object.assign(this.state, next);
    this.flush();
  }

  /** The run's end; later calls do nothing (a crash handler may race the normal end). */
  finish(status: FinalStatus, end: Date = new Date()): void {
    if (this.finished) return;
    this.finished = true;
    this.state.status = status;
    this.state.end = end.toISOString();
    this.flush();
  }

  /** Rewrite both files (results.json first: it is the record; junit.xml is derived from it). */
  flush(): void {
    writeFileAtomic(this.resultsFile, `${JSON.stringify(this.state, null, 2)}\n`);
    writeFileAtomic(this.junitFile, toJUnit(this.state, this.runDir, this.junitOptions));
  }
}
