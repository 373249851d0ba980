// `eve-qual run`: one run on one box. Preflight (profile, release; exit 2 before anything is touched), the install
// flow, then the suites of the asked level, every result written to results.json and junit.xml as it happens.
// Exit: 0 all checked items work; 1 something declared is missing or broken; 3 something could not be checked.
import fs from 'node:fs';
import path from 'node:path';
import type { ProgressSink, StepRecord } from '../install/steps.ts';
import { ConfigError, EveQualError, ExitCode } from '../errors.ts';
import { loadProgram, type Program } from '../program/program.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import type { Capability, RunResults, TestResult } from '../report/results.ts';
import type { SuiteContext, SuiteModule } from '../suite-runtime/suite-context.ts';
import { plannedChecks } from '../suite-runtime/load-suites.ts';
import { gitRevision, packageVersion } from '../cli/version.ts';
import { interruption, Scope } from '../util/scope.ts';
import { runWatchedSuites } from './suites-phase.ts';
import { createRunDir } from './run-dir.ts';
import { installTests, plannedInstallChecks, runningInstallCheck } from './install-tests.ts';
import { RunPlan, type RunFault } from './run-plan.ts';
import { checkFreeSpace } from './space-check.ts';
import { onDiskFault } from '../util/disk-fault.ts';
import { preflight, runInstall, type InstallRunResult } from './install-run.ts';
import { attachInstalled, checkNoInstall } from './attach-installed.ts';
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import type { Profile } from '../profile/schema.ts';

export interface QualifyRunOptions {
  profileFile: string;
  releaseSrc: string;
  out?: string;
  releaseVersion?: string;
  level?: number;
  capability?: Capability;
  sample?: string;
  operator?: string;
  role?: 'owner' | 'partner';
  progress?: ProgressSink;
  /** The program whose level decides which suites run (default suites/program.yaml). */
  programFile?: string;
  /** Qualify the box as it runs now (a real box installed before): no install, no power switching. */
  noInstall?: boolean;
  /** Asks the operator (manual power, operator media). */
  prompt?: OperatorPrompt;
  /** The suite modules available (the CLI passes suites/index.ts's list). */
  suites: SuiteModule[];
  /** How many times a box lost mid-suite is brought back (power-cycled, not reinstalled); default 0. */
  recover?: number;
}

export interface QualifyRunResult {
  runDir: string;
  results: RunResults;
  exitCode: number;
}

/**
 * Which suites to run: what the program's level requires (its capabilities; every suite when the level needs every
 * declared item), one capability's, or all of them. Inventory always runs first.
 */
export function suitesFor(all: SuiteModule[], opts: { program: Program; level?: number; capability?: Capability }): SuiteModule[] {
  const inventory = all.filter((s) => s.capability === 'inventory');
  if (opts.capability) return [...inventory, ...all.filter((s) => s.capability === opts.capability)];
  if (opts.level === undefined) return all;
  const lvl = opts.program.levels.find((l) => l.level === opts.level);
  if (!lvl) throw new ConfigError(`the program "${opts.program.name}" has no level ${opts.level}`);
  if (lvl.declared) return all;
  const caps = new Set(Object.keys(lvl.capabilities));
  return all.filter((s) => s.capability === 'inventory' || caps.has(s.capability));
}

/** What the profile declares per capability (the verdict needs it to know what "every declared item" is). */
export function declaredBy(p: Profile): Partial<Record<Capability, string[]>> {
  const hw = p.hardware;
  const d: Partial<Record<Capability, string[]>> = { install: [], boot: [], console: [], 'remote-shell': [] };
  if (hw.ethernet.length) d.ethernet = hw.ethernet.map((e) => e.name);
  if (hw.usb.length) d.usb = hw.usb.map((u) => u.name);
  if (hw.watchdog) d.watchdog = [];
  if (hw.cellular.length) d.cellular = hw.cellular.map((c) => c.name);
  if (hw.tpm) d.tpm = [];
  if (hw.virtualization) d.virtualization = [];
  if (hw.storage.length) d.storage = hw.storage.map((s) => s.name);
  return d;
}

/** 1 when the hardware failed a check, 3 when something could not be checked or nothing was checked at all: exit 0
 * needs at least one check that ran, and every check passed or skipped for a stated reason. */
function exitFor(tests: TestResult[]): number {
  if (tests.some((t) => t.outcome === 'fail')) return ExitCode.failed;
  if (tests.some((t) => t.outcome === 'error')) return ExitCode.lab;
  if (!tests.some((t) => t.outcome === 'pass')) return ExitCode.lab;
  return ExitCode.ok;
}

type Checked = Awaited<ReturnType<typeof preflight>>;

/** results.json and junit.xml of the run, with its header: written at once, so even a run that ends now leaves them. */
function openResults(o: QualifyRunOptions, checked: Checked, program: Program, root: string): ResultsWriter {
  const p = checked.loaded.profile;
  const started = new Date();
  return new ResultsWriter(root, {
    runId: `${started.toISOString()}-${p.box.name}`,
    box: { name: p.box.name, vendor: p.box.vendor, model: p.box.model, arch: p.box.arch, sample: o.sample ?? p.box.sample ?? p.box.name, kind: p.box.kind },
    release: { version: checked.release.version, eveRelease: checked.release.expectedEveRelease, installer: checked.release.installer.file, ...(checked.release.sha256 ? { sha256: checked.release.sha256 } : {}) },
    operator: { organisation: o.operator ?? 'unknown', role: o.role ?? 'partner' },
    ...(o.level !== undefined ? { level: o.level } : {}),
    evequal: { version: packageVersion(), revision: gitRevision() },
    profile: { file: path.relative(process.cwd(), path.resolve(o.profileFile)), sha256: checked.loaded.source },
    start: started.toISOString(),
    declared: declaredBy(p),
    program: program.name,
  });
}

/** Every check the run will make: the install flow's, then the suites' for this profile (registration reads only it). */
function planOf(writer: ResultsWriter, profile: Profile, modules: SuiteModule[], noInstall: boolean): RunPlan {
  const suites = plannedChecks(modules, { profile } as SuiteContext).map((c) => ({ id: c.id, capability: c.capability, check: c.check, name: c.title, ...(c.item ? { item: c.item } : {}) }));
  return new RunPlan(writer, [...plannedInstallChecks({ noInstall }), ...suites]);
}

/** Disk faults reported by the run's writers (./space-check.ts says why they matter): the first is the run's end. */
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

export async function runQualification(o: QualifyRunOptions): Promise<QualifyRunResult> {
  const program = loadProgram(o.programFile);
  const checked = await preflight(o);
  const p = checked.loaded.profile;
  if (o.noInstall) checkNoInstall(checked.loaded, o.profileFile);
  const modules = suitesFor(o.suites, { program, ...(o.level !== undefined ? { level: o.level } : {}), ...(o.capability ? { capability: o.capability } : {}) });
  checkFreeSpace(path.resolve(o.out ?? 'runs'), checked.release.installerPath, { virtual: p.box.kind === 'virtual', noInstall: Boolean(o.noInstall) });
  const runDir = createRunDir(p.box.name, o.out);
  const disk = diskWatch();
  const writer = openResults(o, checked, program, runDir.root);
  const noInstall = Boolean(o.noInstall);
  const plan = planOf(writer, p, modules, noInstall);
  const records: StepRecord[] = [];
  const onStep = (r: StepRecord) => {
    records.push(r);
    plan.start(runningInstallCheck(records, { noInstall }) ?? '');
    writer.addStep({ name: r.name, start: r.start.toISOString(), durationMs: r.durationMs, outcome: r.outcome, ...(r.detail ? { detail: r.detail } : {}) });
  };
  const attachLogs = () => {
    for (const [name, file] of [['console log', runDir.consoleLog], ['steps', runDir.stepsLog]] as const) {
      if (fs.existsSync(file)) writer.addAttachment({ name, path: path.relative(runDir.root, file) });
    }
  };
  // Ctrl-C or SIGTERM: the box's scope (newer) is closed first, then this records the interruption (with the logs);
  // every finished result is already on disk.
  const resultsScope = new Scope(`results of ${p.box.name}`);
  resultsScope.defer('disk faults', disk.close);
  resultsScope.defer('mark interrupted', () => {
    attachLogs();
    plan.interrupt(interruption() ?? 'a signal');
  });
  plan.start(runningInstallCheck([], { noInstall }) ?? '');
  let inst: InstallRunResult;
  try {
    inst = noInstall ? await attachInstalled({ ...o, out: runDir.root, onStep }, checked) : await runInstall({ ...o, out: runDir.root, onStep }, checked);
  } catch (e) {
    for (const t of installTests(records, errorText(e), { noInstall })) plan.record(t);
    attachLogs();
    if (disk.seen) plan.stop(disk.seen);
    plan.skipRest('the install flow did not succeed');
    plan.end();
    writer.finish('finished');
    await resultsScope.close();
    const results = writer.results;
    return { runDir: runDir.root, results, exitCode: exitFor(results.tests) };
  }
  try {
    for (const t of installTests(records, undefined, { noInstall })) plan.record(t);
    o.progress?.('▶ suites');
    const { fault, recoveries } = await runWatchedSuites({ inst, plan, modules, runDir: runDir.root, recover: o.recover ?? 0, runFault: disk.fault, ...(o.progress ? { progress: o.progress } : {}) });
    if (recoveries) writer.update({ recoveries });
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
  const results = writer.results;
  return { runDir: runDir.root, results, exitCode: exitFor(results.tests) };
}
