// The body of a run, new or resumed: get the box to an SSH shell (install it, attach to it as it runs, or boot the
// installed disk of a recorded run again), run the watched suites, and end the record with a status that tells the
// truth (finished, interrupted, stopped by a lab fault, crashed). Every result is on disk as it happens.
import fs from 'node:fs';
import path from 'node:path';
import { EveQualError, ExitCode } from '../errors.ts';
import type { StepRecord } from '../install/steps.ts';
import type { ResultsWriter } from '../report/results-writer.ts';
import type { RunResults, TestResult } from '../report/results.ts';
import type { Release } from '../release/local-release.ts';
import type { LoadedProfile } from '../profile/load.ts';
import type { SuiteModule } from '../suite-runtime/suite-context.ts';
import { onDiskFault } from '../util/disk-fault.ts';
import { interruption, Scope } from '../util/scope.ts';
import { attachInstalled } from './attach-installed.ts';
import { runInstall, type InstallRunOptions, type InstallRunResult } from './install-run.ts';
import { installTests, runningInstallCheck } from './install-tests.ts';
import type { RunDir } from './run-dir.ts';
import type { RunFault, RunPlan } from './run-plan.ts';
import { runWatchedSuites } from './suites-phase.ts';

export interface RunBody {
  o: InstallRunOptions & { recover?: number };
  checked: { loaded: LoadedProfile; release: Release };
  modules: SuiteModule[];
  runDir: RunDir;
  writer: ResultsWriter;
  plan: RunPlan;
  /** install: a new run; attach: --no-install; resume: the box of a recorded run, its install finished before. */
  mode: 'install' | 'attach' | 'resume';
  /** The suite checks to run (a resumed run); default all. */
  only?: ReadonlySet<string>;
}

export interface RunOutcome {
  runDir: string;
  results: RunResults;
  exitCode: number;
}

/** 1 when the hardware failed a check, 3 when something could not be checked or nothing was checked at all: exit 0
 * needs at least one check that ran, and every check passed or skipped for a stated reason. */
export function exitFor(tests: TestResult[]): number {
  if (tests.some((t) => t.outcome === 'fail')) return ExitCode.failed;
  if (tests.some((t) => t.outcome === 'error')) return ExitCode.lab;
  if (!tests.some((t) => t.outcome === 'pass')) return ExitCode.lab;
  return ExitCode.ok;
}

/** Disk faults reported by the run's writers (lib/util/disk-fault.ts says why they matter): the first ends the run. */
function diskWatch(): { fault: Promise<RunFault>; seen: RunFault | null; close: () => void } {
  const w = { seen: null as RunFault | null, close: () => {}, fault: null as unknown as Promise<RunFault> };
  w.fault = new Promise<RunFault>((resolve) => {
    w.close = onDiskFault((e) => {
      w.seen ??= { message: e.message, short: 'disk full' };
      resolve(w.seen);
    });
  });
  return w;
}

function errorText(e: unknown): { message: string; errorClass?: string } {
  const err = e as Error & { errorClass?: string };
  return { message: err instanceof EveQualError ? err.describe() : err.message, ...(err.errorClass ? { errorClass: err.errorClass } : {}) };
}

export async function executeRun(b: RunBody): Promise<RunOutcome> {
  const { writer, plan, runDir } = b;
  const noInstall = b.mode !== 'install';
  const disk = diskWatch();
  const records: StepRecord[] = [];
  const onStep = (r: StepRecord) => {
    records.push(r);
    if (b.mode !== 'resume') plan.start(runningInstallCheck(records, { noInstall }) ?? '');
    writer.addStep({ name: r.name, start: r.start.toISOString(), durationMs: r.durationMs, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) });
  };
  const attachLogs = () => {
    for (const [name, file] of [['console log', runDir.consoleLog], ['steps', runDir.stepsLog]] as const) {
      if (fs.existsSync(file)) writer.addAttachment({ name, path: path.relative(runDir.root, file) });
    }
  };
  // Ctrl-C or SIGTERM: the box's scope (newer) is closed first, then this records the interruption (with the logs);
  // every finished result is already on disk.
  const resultsScope = new Scope(`results of ${b.checked.loaded.profile.box.name}`);
  resultsScope.defer('disk faults', disk.close);
  resultsScope.defer('mark interrupted', () => {
    attachLogs();
    plan.interrupt(interruption() ?? 'a signal');
  });
  if (b.mode !== 'resume') plan.start(runningInstallCheck([], { noInstall }) ?? '');
  const inst = await reachBox(b, onStep, records, () => disk.seen).catch(async (e: unknown) => {
    attachLogs();
    plan.end();
    writer.finish('finished');
    await resultsScope.close();
    if (!(e instanceof BoxNotReached)) throw e;
    return null;
  });
  if (!inst) return outcomeOf(writer, runDir);
  try {
    if (b.mode !== 'resume') for (const t of installTests(records, undefined, { noInstall })) plan.record(t);
    b.o.progress?.('▶ suites');
    const phase = { inst, plan, modules: b.modules, runDir: runDir.root, recover: b.o.recover ?? 0, runFault: disk.fault, ...(b.only ? { only: b.only } : {}) };
    const { fault, recoveries } = await runWatchedSuites({ ...phase, ...(b.o.progress ? { progress: b.o.progress } : {}) });
    if (recoveries) writer.update({ recoveries: (writer.results.recoveries ?? 0) + recoveries });
    attachLogs();
    const stop = fault ?? disk.seen;
    if (stop) plan.stop(stop);
    plan.end();
    writer.finish('finished');
  } catch (e) {
    attachLogs();
    plan.end();
    writer.finish('crashed');
    throw e;
  } finally {
    await inst.scope.close();
    await resultsScope.close();
  }
  return outcomeOf(writer, runDir);
}

/** The box did not get to a shell: what that says is recorded already. */
class BoxNotReached extends Error {}

/** Install, attach or boot again; when that fails, the checks it stopped and those never run are recorded. */
async function reachBox(b: RunBody, onStep: (r: StepRecord) => void, records: StepRecord[], diskSeen: () => RunFault | null): Promise<InstallRunResult> {
  const opts = { ...b.o, out: b.runDir.root, onStep };
  try {
    if (b.mode === 'install') return await runInstall(opts, b.checked);
    return await attachInstalled(opts, b.checked, b.mode === 'resume');
  } catch (e) {
    if (b.mode === 'resume') {
      b.plan.stop({ message: `the box of the run did not come back: ${errorText(e).message.split('\n')[0]}`, short: 'the box did not come back' });
    } else {
      for (const t of installTests(records, errorText(e), { noInstall: b.mode === 'attach' })) b.plan.record(t);
    }
    const full = diskSeen();
    if (full) b.plan.stop(full);
    b.plan.skipRest('the install flow did not succeed');
    throw new BoxNotReached();
  }
}

function outcomeOf(writer: ResultsWriter, runDir: RunDir): RunOutcome {
  const results = writer.results;
  return { runDir: runDir.root, results, exitCode: exitFor(results.tests) };
}
