// `eve-qual run --resume DIR`: continue a run that was interrupted, killed, crashed or stopped by a lab fault, so
// that a runner rebooted five hours into a night costs the check it was running, not the night. The record is the
// plan: the profile and release it names (refused when either changed since: their checksums are recorded), the
// level or capability it was run for. Every finished check stays as it was; a finished install is not redone (a
// virtual box boots its installed disk again, a real box is taken as it runs); what was running and what never ran
// runs now; with --rerun error the checks that ended in `error` run again too, the earlier run kept in `attempts`.
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { loadProgram } from '../program/program.ts';
import { readRun } from '../report/read-run.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import type { RunResults, TestResult } from '../report/results.ts';
import type { SuiteModule } from '../suite-runtime/suite-context.ts';
import type { ProgressSink } from '../install/steps.ts';
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import { labKey, preflight } from './install-run.ts';
import { executeRun, exitFor, type RunOutcome } from './execute-run.ts';
import { plannedInstallChecks } from './install-tests.ts';
import { createRunDir } from './run-dir.ts';
import { RunPlan, type PlannedCheck } from './run-plan.ts';
import { plannedOf, suitesFor } from './qualify-run.ts';

export interface ResumeOptions {
  dir: string;
  /** Given again: must be the recorded one (same checksum); default the recorded path. */
  profileFile?: string;
  /** Default the recorded source. */
  releaseSrc?: string;
  rerunErrors?: boolean;
  recover?: number;
  programFile?: string;
  progress?: ProgressSink;
  prompt?: OperatorPrompt;
  suites: SuiteModule[];
}

/** The recorded run, or a usage error naming the folder. */
function recordedRun(dir: string): RunResults {
  try {
    return readRun(dir).results;
  } catch (e) {
    throw new ConfigError(`--resume ${dir}: no run to resume there (${(e as Error).message})`, { where: dir, cause: e });
  }
}

/** What runs now: planned checks never recorded, recorded as not run, or (rerunErrors) ended in error. */
function toRun(planned: PlannedCheck[], before: Map<string, TestResult>, rerunErrors: boolean): PlannedCheck[] {
  return planned.filter((p) => {
    const t = before.get(p.id);
    return !t || (t.outcome === 'skip' && t.reason === 'not-run') || (rerunErrors && t.outcome === 'error');
  });
}

export async function resumeQualification(o: ResumeOptions): Promise<RunOutcome> {
  const rec = recordedRun(o.dir);
  const profileFile = o.profileFile ?? path.resolve(rec.profile.file);
  const releaseSrc = o.releaseSrc ?? rec.release.source;
  if (!releaseSrc) throw new ConfigError(`--resume ${o.dir}: the run does not record its --release; give --release`, { where: o.dir });
  const checked = await preflight({ profileFile, releaseSrc, ...(o.progress ? { progress: o.progress } : {}) });
  if (checked.loaded.source !== rec.profile.sha256) {
    throw new ConfigError(`--resume ${o.dir}: the profile ${profileFile} changed since the run (sha256 ${rec.profile.sha256.slice(0, 12)}… recorded, ${checked.loaded.source.slice(0, 12)}… now)`, { where: profileFile });
  }
  if (rec.release.sha256 && checked.release.sha256 && rec.release.sha256 !== checked.release.sha256) {
    throw new ConfigError(`--resume ${o.dir}: the release ${releaseSrc} is not the one the run installed (installer sha256 ${rec.release.sha256.slice(0, 12)}… recorded, ${checked.release.sha256.slice(0, 12)}… now)`, { where: releaseSrc });
  }
  const p = checked.loaded.profile;
  const program = loadProgram(o.programFile);
  const modules = suitesFor(o.suites, { program, ...(rec.level !== undefined ? { level: rec.level } : {}), ...(rec.capability ? { capability: rec.capability } : {}) });
  const before = new Map(rec.tests.map((t) => [t.id, t]));
  const noInstall = !before.has('install/installer-completes');
  const installIds = new Set(plannedInstallChecks({ noInstall }).map((c) => c.id));
  const installed = [...installIds].every((id) => before.get(id)?.outcome === 'pass');
  if (installed && p.box.kind !== 'virtual' && !p.ssh.key) {
    throw new ConfigError(`--resume ${o.dir}: the real box must be reached with the lab's key (ssh.key in ${profileFile}): the run's own key went with it`, { where: `${profileFile}: ssh.key` });
  }
  if (installed && p.box.kind !== 'virtual') labKey(checked.loaded);
  const planned = plannedOf(p, modules, noInstall).filter((c) => !installed || !installIds.has(c.id));
  const runs = toRun(planned, before, Boolean(o.rerunErrors));
  if (!runs.length) {
    o.progress?.(`nothing left to run in ${o.dir} (status ${rec.status}${o.rerunErrors ? '' : '; --rerun error runs the checks that ended in error again'})`);
    return { runDir: path.resolve(o.dir), results: rec, exitCode: exitFor(rec.tests) };
  }
  const runDir = createRunDir(p.box.name, o.dir);
  const writer = ResultsWriter.continuing(runDir.root, rec);
  writer.reopen();
  o.progress?.(`▶ resume ${runDir.root} (was ${rec.status}): ${runs.length} check(s) to run${installed ? ', the install kept' : ''}`);
  const plan = new RunPlan(writer, runs, new Map(runs.flatMap((c) => (before.has(c.id) ? [[c.id, before.get(c.id)!]] : []))));
  const mode = installed ? 'resume' : noInstall ? 'attach' : 'install';
  return executeRun({ o: { profileFile, releaseSrc, ...(o.progress ? { progress: o.progress } : {}), ...(o.prompt ? { prompt: o.prompt } : {}), ...(o.recover ? { recover: o.recover } : {}) }, checked, modules, runDir, writer, plan, mode, only: new Set(runs.map((c) => c.id)) });
}
