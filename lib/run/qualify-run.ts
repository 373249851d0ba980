// `eve-qual run`: one run on one box. Preflight (profile, release; exit 2 before anything is touched), the install
// flow, then the suites of the asked level, every result written to results.json and junit.xml as it happens.
// Exit: 0 all checked items work; 1 something declared is missing or broken; 3 something could not be checked.
import fs from 'node:fs';
import path from 'node:path';
import type { ProgressSink } from '../install/steps.ts';
import { ConfigError } from '../errors.ts';
import { loadProgram, type Program } from '../program/program.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import type { Capability } from '../report/results.ts';
import type { SuiteContext, SuiteModule } from '../suite-runtime/suite-context.ts';
import { plannedChecks } from '../suite-runtime/load-suites.ts';
import { gitRevision, packageVersion } from '../cli/version.ts';
import { createRunDir } from './run-dir.ts';
import { plannedInstallChecks } from './install-tests.ts';
import { RunPlan, type PlannedCheck } from './run-plan.ts';
import { executeRun, type RunOutcome } from './execute-run.ts';
import { checkFreeSpace } from './space-check.ts';
import { preflight } from './install-run.ts';
import { checkNoInstall } from './attach-installed.ts';
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

export type QualifyRunResult = RunOutcome;

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

type Checked = Awaited<ReturnType<typeof preflight>>;

/** results.json and junit.xml of the run, with its header: written at once, so even a run that ends now leaves them. */
function openResults(o: QualifyRunOptions, checked: Checked, program: Program, root: string): ResultsWriter {
  const p = checked.loaded.profile;
  const started = new Date();
  return new ResultsWriter(root, {
    runId: `${started.toISOString()}-${p.box.name}`,
    box: { name: p.box.name, vendor: p.box.vendor, model: p.box.model, arch: p.box.arch, sample: o.sample ?? p.box.sample ?? p.box.name, kind: p.box.kind },
    release: {
      version: checked.release.version,
      eveRelease: checked.release.expectedEveRelease,
      installer: checked.release.installer.file,
      ...(checked.release.sha256 ? { sha256: checked.release.sha256 } : {}),
      source: releaseSource(o.releaseSrc),
    },
    operator: { organisation: o.operator ?? 'unknown', role: o.role ?? 'partner' },
    ...(o.level !== undefined ? { level: o.level } : {}),
    ...(o.capability ? { capability: o.capability } : {}),
    evequal: { version: packageVersion(), revision: gitRevision() },
    profile: { file: path.relative(process.cwd(), path.resolve(o.profileFile)), sha256: checked.loaded.source },
    start: started.toISOString(),
    declared: declaredBy(p),
    program: program.name,
  });
}

/** The --release as given, a local folder made absolute (a URL or docker:TAG as it is): `run --resume` reads it. */
export function releaseSource(src: string): string {
  return /^[a-z][a-z0-9+.-]*:/i.test(src) && !fs.existsSync(src) ? src : path.resolve(src);
}

/** Every check the run will make: the install flow's, then the suites' for this profile (registration reads only it). */
export function plannedOf(profile: Profile, modules: SuiteModule[], noInstall: boolean): PlannedCheck[] {
  const suites = plannedChecks(modules, { profile } as SuiteContext).map((c) => ({ id: c.id, capability: c.capability, check: c.check, name: c.title, ...(c.item ? { item: c.item } : {}) }));
  return [...plannedInstallChecks({ noInstall }), ...suites];
}

export async function runQualification(o: QualifyRunOptions): Promise<QualifyRunResult> {
  const program = loadProgram(o.programFile);
  const checked = await preflight(o);
  const p = checked.loaded.profile;
  if (o.noInstall) checkNoInstall(checked.loaded, o.profileFile);
  const modules = suitesFor(o.suites, { program, ...(o.level !== undefined ? { level: o.level } : {}), ...(o.capability ? { capability: o.capability } : {}) });
  checkFreeSpace(path.resolve(o.out ?? 'runs'), checked.release.installerPath, { virtual: p.box.kind === 'virtual', noInstall: Boolean(o.noInstall) });
  const runDir = createRunDir(p.box.name, o.out);
  const writer = openResults(o, checked, program, runDir.root);
  const plan = new RunPlan(writer, plannedOf(p, modules, Boolean(o.noInstall)));
  return executeRun({ o, checked, modules, runDir, writer, plan, mode: o.noInstall ? 'attach' : 'install' });
}
