// What a run is going to check, known before it starts: the install flow's checks and every check the suites
// register for the profile. It is what lets a run that ends early be told true. Interrupted (SIGINT, SIGTERM): the
// check running then is an `error` ("interrupted by SIGINT"), every check not started `skip` not-run ("not run:
// interrupted"), the run `interrupted`. Stopped by a lab fault (the box lost, the disk full): the running check an
// `error` naming the fault (a `fail` with the console's excerpt when the box showed a kernel panic first: that is
// the box's failure), the rest "not run: box lost", the run `stopped`. Whatever the dying box makes the running
// check say afterwards is not recorded (a box killed by our own cleanup is no evidence against it).
import type { ResultsWriter } from '../report/results-writer.ts';
import type { TestResult } from '../report/results.ts';
import { interruption } from '../util/scope.ts';

export type PlannedCheck = Pick<TestResult, 'id' | 'capability' | 'check' | 'name' | 'item'>;

/** A lab fault that ends the run (or, with recovery, the running check): `short` is the "not run: ..." reason. */
export interface RunFault {
  message: string;
  short: string;
  /** Epoch ms: checks that failed or erred since then were stopped by the fault, not judged (absent: none). */
  since?: number;
  /** The console's kernel panic or oops before the loss: the running check fails with it. */
  panic?: string;
}

export class RunPlan {
  private running: string | null = null;
  private ended = false;
  /** Checks recorded by this plan (a resumed run's earlier records are not). */
  private readonly done = new Set<string>();

  /** `earlier`: a resumed run's records of the planned checks it runs again (their attempts are kept). */
  constructor(
    private readonly writer: ResultsWriter,
    private readonly planned: PlannedCheck[],
    private readonly earlier: ReadonlyMap<string, TestResult> = new Map(),
  ) {}

  /** A check has started (the one an interruption stops). */
  start(id: string): void {
    this.running = id;
  }

  /** Checks of the plan not recorded yet, in plan order (what a recovery or a resume still has to run). */
  remaining(): PlannedCheck[] {
    return this.planned.filter((p) => !this.done.has(p.id));
  }

  /** Record a finished check, unless the run was interrupted: then the interruption is recorded instead. */
  record(t: TestResult): void {
    const sig = interruption();
    if (sig) return this.interrupt(sig);
    if (!this.ended) this.add(t);
  }

  /** A check run again keeps its earlier run as an attempt (not a skip that only said it never ran). */
  private add(t: TestResult): void {
    const before = this.earlier.get(t.id);
    const kept = before && !(before.outcome === 'skip' && before.reason === 'not-run');
    const attempts = kept ? [...before.attempts, { outcome: before.outcome, ...(before.message ? { message: before.message } : {}), durationMs: before.durationMs }] : [];
    this.done.add(t.id);
    this.writer.addTest({ ...t, attempts: [...attempts, ...t.attempts] });
  }

  /** Record what the interruption left: the running check stopped, the rest never started; the run interrupted. */
  interrupt(sig: string): void {
    if (this.ended) return;
    this.ended = true;
    this.closeOut((p) => (p.id === this.running ? { outcome: 'error', reason: 'lab', message: `interrupted by ${sig}` } : notRun('interrupted')));
    this.writer.finish('interrupted');
  }

  /**
   * The fault stopped the running check: the first check that failed or erred since the fault began (or, if none,
   * the one running) is recorded as the fault; later ones since then are taken out of the record, to be run again
   * by a recovery or skipped by stop(). The run goes on (a recovered box) unless stop() follows. `orNext`: when no
   * check was running, the next one not run takes the fault (stop(): the run ends without making it).
   */
  lose(fault: RunFault, orNext = false): void {
    if (this.ended) return;
    const since = fault.since ?? Infinity;
    const hit = this.writer.results.tests.filter((t) => this.done.has(t.id) && (t.outcome === 'fail' || t.outcome === 'error') && Date.parse(t.start) + t.durationMs >= since);
    const running = this.planned.find((x) => x.id === this.running && !this.done.has(x.id));
    this.running = null;
    // Between two checks (the last one recorded, the next not started) the fault lands on the next when the run
    // ends with it: the check the box was lost before is the one the run could not make.
    const first = hit[0] ?? running ?? (orNext ? this.remaining()[0] : undefined);
    for (const t of hit.slice(1)) this.forget(t.id);
    if (first) {
      this.done.delete(first.id);
      this.add({ ...blank(first), ...faultOutcome(fault) });
    }
  }

  /** Take a check this plan recorded back out (to be run again), leaving its earlier record if it had one. */
  private forget(id: string): void {
    this.done.delete(id);
    const before = this.earlier.get(id);
    if (before) this.writer.addTest(before);
    else this.writer.removeTest(id);
  }

  /** The fault ends the run: the running check as lose() records it, every check not run skipped; status stopped. */
  stop(fault: RunFault): void {
    if (this.ended) return;
    this.lose(fault, true);
    this.ended = true;
    this.closeOut(() => notRun(fault.short));
    this.writer.finish('stopped', new Date(), fault.message);
  }

  /** The install flow ended the run: every check it left unrecorded (the suites') is skipped as not run, for `why`. */
  skipRest(why: string): void {
    if (!this.ended) this.closeOut(() => notRun(why));
  }

  /** The run is over (finished or crashed): later records are not taken. */
  end(): void {
    this.ended = true;
  }

  /** Record the checks not run; a resumed run's earlier result of a check stays (it is still the last one). */
  private closeOut(outcome: (p: PlannedCheck) => Pick<TestResult, 'outcome' | 'reason' | 'message'>): void {
    for (const p of this.remaining()) {
      const before = this.earlier.get(p.id);
      const o = outcome(p);
      if (before && !(before.outcome === 'skip' && before.reason === 'not-run') && o.outcome === 'skip') continue;
      this.done.add(p.id);
      this.writer.addTest({ ...(before ?? blank(p)), ...blank(p), ...o, attempts: before?.attempts ?? [] });
    }
  }
}

function blank(p: PlannedCheck): TestResult {
  return { id: p.id, capability: p.capability, check: p.check, name: p.name, ...(p.item ? { item: p.item } : {}), outcome: 'skip', start: new Date().toISOString(), durationMs: 0, attempts: [], attachments: [] };
}

function notRun(why: string): Pick<TestResult, 'outcome' | 'reason' | 'message'> {
  return { outcome: 'skip', reason: 'not-run', message: `not run: ${why}` };
}

function faultOutcome(f: RunFault): Pick<TestResult, 'outcome' | 'reason' | 'message' | 'consoleExcerpt'> {
  if (f.panic) return { outcome: 'fail', reason: 'box', message: `${f.message}, after a kernel failure on the console: ${f.panic.split('\n')[0]}`, consoleExcerpt: f.panic };
  return { outcome: 'error', reason: 'lab', message: f.message };
}
