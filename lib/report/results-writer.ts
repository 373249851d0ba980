// Records a run's results as they happen: every change rewrites results.json and junit.xml atomically (temporary
// file in the run directory, fsync, rename), so a crash, a kill or a power cut at any instant leaves both files
// valid and holding every result finished so far. Everything recorded is validated against the results schema
// first: a file on disk never breaks a consumer.
//
//   const w = new ResultsWriter(runDir, header);  // writes results.json (status running) and junit.xml at once
//   w.addStep(step); w.addTest(test); ...
//   w.finish('finished');
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { diskFault, reportDiskFault } from '../util/disk-fault.ts';
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
/** Space held back in the run folder while a run is open, released when the disk fills so that the run's last
 * records (the check stopped, the checks not run, the final status) can still be written. */
const RESERVE_FILE = '.space-reserve';
const RESERVE_BYTES = 4 << 20;
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

  /** A new run (written at once), or, with `from`, a recorded run to continue: call reopen() to write it. */
  constructor(
    runDir: string,
    header: RunHeader,
    private readonly junitOptions: JUnitOptions = {},
    from?: RunResults,
  ) {
    this.runDir = path.resolve(runDir);
    this.resultsFile = path.join(this.runDir, RESULTS_FILE);
    this.junitFile = path.join(this.runDir, JUNIT_FILE);
    const { attachments = [], ...rest } = header;
    const state = from ?? { ...rest, schemaVersion: RESULTS_SCHEMA_VERSION, status: 'running', steps: [], tests: [], attachments };
    this.state = check(runResultsSchema, state, 'the run header');
    if (from) {
      this.finished = true;
      return;
    }
    this.reserve();
    this.flush();
  }

  /** The writer of a recorded run, to continue it (`run --resume`): nothing is written before reopen(). */
  static continuing(runDir: string, results: RunResults, junitOptions: JUnitOptions = {}): ResultsWriter {
    return new ResultsWriter(runDir, results, junitOptions, results);
  }

  private get reserveFile(): string {
    return path.join(this.runDir, RESERVE_FILE);
  }

  private reserve(): void {
    try {
      fs.writeFileSync(this.reserveFile, Buffer.alloc(RESERVE_BYTES));
    } catch (e) {
      fs.rmSync(this.reserveFile, { force: true });
      throw diskFault(e, this.reserveFile) ?? e;
    }
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

  /** Take a test out of the record (a check a lost box stopped, to be run again). */
  removeTest(id: string): void {
    const i = this.state.tests.findIndex((x) => x.id === id);
    if (i < 0) return;
    this.state.tests.splice(i, 1);
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
  update(fields: Partial<Pick<RunResults, 'release' | 'declared' | 'level' | 'program' | 'box' | 'recoveries'>>): void {
    const next = check(runResultsSchema, { ...this.state, ...fields }, 'the run header');
    Object.assign(this.state, next);
    this.flush();
  }

  /** The run's end; later calls do nothing (a crash handler may race the normal end). `stopped`: the lab fault
   * that ended a `stopped` run. */
  finish(status: FinalStatus, end: Date = new Date(), stopped?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.state.status = status;
    this.state.end = end.toISOString();
    if (stopped) this.state.stopped = stopped;
    this.flush();
    fs.rmSync(this.reserveFile, { force: true });
  }

  /** Open a finished (or interrupted, crashed) run again to continue it (`run --resume`): status running, the end
   * cleared, the earlier status kept in `resumed`. */
  reopen(at: Date = new Date()): void {
    const from = this.state.status;
    this.state.resumed = [...(this.state.resumed ?? []), { at: at.toISOString(), from }];
    this.state.status = 'running';
    delete this.state.end;
    delete this.state.stopped;
    this.finished = false;
    this.reserve();
    this.flush();
  }

  /** Rewrite both files (results.json first: it is the record; junit.xml is derived from it). */
  flush(): void {
    try {
      this.write();
    } catch (e) {
      const f = diskFault(e, this.resultsFile);
      if (!f) throw e;
      // The disk is full: the reserve goes, this record is written into its room, and the run is told to stop.
      // Without a reserve left the files keep their last good content.
      const hadReserve = fs.existsSync(this.reserveFile);
      fs.rmSync(this.reserveFile, { force: true });
      if (hadReserve) this.retryWrite();
      reportDiskFault(f);
    }
  }

  private retryWrite(): void {
    try {
      this.write();
    } catch (e) {
      if (!diskFault(e, this.resultsFile)) throw e;
    }
  }

  private write(): void {
    writeFileAtomic(this.resultsFile, `${JSON.stringify(this.state, null, 2)}\n`);
    writeFileAtomic(this.junitFile, toJUnit(this.state, this.runDir, this.junitOptions));
  }
}
