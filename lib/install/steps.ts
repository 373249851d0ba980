// The step log of a run (`steps.log`): every step with its start, duration and outcome, written as it happens, so
// a crash leaves the timeline up to the failing step. Also the progress lines a person sees.
import fs from 'node:fs';
import { diskFault, reportDiskFault } from '../util/disk-fault.ts';
import path from 'node:path';

export interface StepRecord {
  name: string;
  start: Date;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'error';
  detail?: string;
}

export type ProgressSink = (line: string) => void;

export class StepLog {
  readonly records: StepRecord[] = [];
  private fd: number | null;

  constructor(
    private readonly file: string | null,
    private readonly progress: ProgressSink = () => undefined,
    private readonly onRecord: (r: StepRecord) => void = () => undefined,
  ) {
    if (file) fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = file ? fs.openSync(file, 'a') : null;
  }

  /** Run one step: log its start and its end with the duration; rethrows what the step throws. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const start = new Date();
    this.progress(`▶ ${name}`);
    this.write(`${start.toISOString()} start ${name}\n`);
    try {
      const v = await fn();
      this.finish({ name, start, durationMs: Date.now() - start.getTime(), outcome: 'ok' });
      return v;
    } catch (e) {
      const cls = (e as { errorClass?: string }).errorClass;
      this.finish({
        name,
        start,
        durationMs: Date.now() - start.getTime(),
        outcome: cls === 'box' ? 'failed' : 'error',
        detail: (e as Error).message.split('\n')[0],
      });
      throw e;
    }
  }

  private finish(r: StepRecord): void {
    this.records.push(r);
    this.onRecord(r);
    const secs = (r.durationMs / 1000).toFixed(1);
    this.write(`${new Date().toISOString()} ${r.outcome} ${r.name} ${secs}s${r.detail ? ` ${r.detail}` : ''}\n`);
    this.progress(`${r.outcome === 'ok' ? '✔' : '✘'} ${r.name} (${secs} s)${r.detail ? `: ${r.detail}` : ''}`);
  }

  private write(s: string): void {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, s);
    } catch (e) {
      // A full disk stops this log (the results keep the steps) and is the run's to act on.
      const f = diskFault(e, this.file ?? 'steps.log');
      if (!f) throw e;
      fs.closeSync(this.fd);
      this.fd = null;
      reportDiskFault(f);
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  /** `step  12.3 s` lines for the summary. */
  timings(): string[] {
    return this.records.map((r) => `${r.name.padEnd(34)} ${(r.durationMs / 1000).toFixed(1).padStart(7)} s  ${r.outcome}`);
  }
}
