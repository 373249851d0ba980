// What a run is going to check, known before it starts: the install flow's checks and every check the suites
// register for the profile. It is what lets an interruption be told true: the check running when SIGINT or SIGTERM
// came is an `error` ("interrupted by SIGINT"), every check not started is `skip` not-run ("not run: interrupted"),
// the run `interrupted`; and whatever the dying box makes the running check say afterwards is not recorded (a box
// killed by our own cleanup is no evidence against it).
import type { ResultsWriter } from '../report/results-writer.ts';
import type { TestResult } from '../report/results.ts';
import { interruption } from '../util/scope.ts';

export type PlannedCheck = Pick<TestResult, 'id' | 'capability' | 'check' | 'name' | 'item'>;

export class RunPlan {
  private running: string | null = null;
  private ended = false;

  constructor(
    private readonly writer: ResultsWriter,
    private readonly planned: PlannedCheck[],
  ) {}

  /** A check has started (the one an interruption stops). */
  start(id: string): void {
    this.running = id;
  }

  /** Record a finished check, unless the run was interrupted: then the interruption is recorded instead. */
  record(t: TestResult): void {
    const sig = interruption();
    if (sig) return this.interrupt(sig);
    if (!this.ended) this.writer.addTest(t);
  }

  /** Record what the interruption left: the running check stopped, the rest never started; the run interrupted. */
  interrupt(sig: string): void {
    if (this.ended) return;
    this.ended = true;
    const done = new Set(this.writer.results.tests.map((t) => t.id));
    const now = new Date().toISOString();
    for (const p of this.planned) {
      if (done.has(p.id)) continue;
      const base = { ...p, start: now, durationMs: 0, attempts: [], attachments: [] };
      if (p.id === this.running) this.writer.addTest({ ...base, outcome: 'error', reason: 'lab', message: `interrupted by ${sig}` });
      else this.writer.addTest({ ...base, outcome: 'skip', reason: 'not-run', message: 'not run: interrupted' });
    }
    this.writer.finish('interrupted');
  }

  /** The run is over (finished or crashed): later records are not taken. */
  end(): void {
    this.ended = true;
  }
}
