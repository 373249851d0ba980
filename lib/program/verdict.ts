// The verdict: the program applied to a set of runs (several vendors, models, samples, releases, operators). For
// every vendor and model: the levels met, the highest, and for the next level exactly what is missing, in words
// a program manager can act on ("level 3: model X has 3 of 5 samples on 13.4.0: SN1, SN2, SN4"), with the reason
// for each sample that does not count. Works on results alone (no box), so it runs anywhere.
//
// Per model and level: a sample counts when its runs on one release in the level's scope, by the operators the
// level accepts, pass the level's capability rules (judge-group.ts). The model meets the level with `samples` such
// samples (and, for "trust but verify", enough confirming runs by the verifier that agree). The vendor meets it
// with one model (`models: one`) or every model it lists (`models: every`). Levels are judged independently (level
// 4's partner-run evidence is not level 3's owner-run evidence); the highest one met is the vendor's level.
import type { RunResults, TestResult } from '../report/results.ts';
import { groupRuns, type GroupJudgement, type JudgeContext, type WaiverUse } from './evidence.ts';
import { judgeGroup } from './judge-group.ts';
import { proofsOf, type ItemProof } from './proofs.ts';
import type { Program, ProgramLevel, RunBy } from './program.ts';
import { compareVersions, newestVersion } from './versions.ts';
import type { Waiver } from './waivers.ts';

export type { WaiverUse } from './evidence.ts';

export interface MissingItem {
  line: string;
  details: string[];
}

export interface ModelLevelResult {
  level: number;
  name: string;
  met: boolean;
  /** The release judged; null when any release counts. */
  release: string | null;
  needed: number;
  /** Samples that pass the level. */
  samples: string[];
  /** Samples whose verifying runs confirm (levels with verify). */
  verifiedBy?: string[];
  missing: MissingItem[];
  waived: WaiverUse[];
  expiredWaivers: WaiverUse[];
  /** For each passing sample, each item's passing checks with the facts that proved them. */
  proofs: ItemProof[];
}

export interface ModelVerdict {
  model: string;
  /** Listed for the vendor in the program. */
  listed: boolean;
  level: number;
  levelName: string | null;
  samples: string[];
  releases: string[];
  runs: number;
  levels: ModelLevelResult[];
}

export interface VendorLevelResult {
  level: number;
  name: string;
  met: boolean;
  models: 'one' | 'every';
  metBy: string[];
  missing: MissingItem[];
}

export interface VendorVerdict {
  vendor: string;
  level: number;
  levelName: string | null;
  /** Where "every model" comes from: the program's vendor list, or the runs (the vendor is not listed). */
  modelsFrom: 'program' | 'runs';
  models: ModelVerdict[];
  levels: VendorLevelResult[];
  /** The first level above the one met, with what is missing; null at the top. */
  next: VendorLevelResult | null;
  waived: WaiverUse[];
  expiredWaivers: WaiverUse[];
}

export interface Verdict {
  program: string;
  revision?: string;
  at: string;
  currentRelease: string | null;
  runs: number;
  vendors: VendorVerdict[];
}

export interface VerdictOptions {
  program: Program;
  waivers?: readonly Waiver[];
  now?: Date;
}

const roleText = (r: RunBy | 'owner' | 'partner'): string => (r === 'owner' ? 'the program owner' : r === 'partner' ? 'the partner' : 'anyone');
const roleOk = (run: RunResults, r: RunBy): boolean => r === 'anyone' || run.operator.role === r;
const uniq = <T>(xs: Iterable<T>): T[] => [...new Set(xs)];
const bySample = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

function scopeOf(release: string, current: string | null): string | null {
  if (release === 'any') return null;
  if (release === 'current') return current;
  return release;
}

/** The best judgement per sample: a passing one if any (newest release first), else the one with fewest problems. */
function bestPerSample(js: GroupJudgement[]): Map<string, GroupJudgement> {
  const out = new Map<string, GroupJudgement>();
  for (const j of js) {
    const prev = out.get(j.group.sample);
    const better =
      !prev ||
      (j.ok && !prev.ok) ||
      (j.ok === prev.ok &&
        (j.problems.length < prev.problems.length ||
          (j.problems.length === prev.problems.length && compareVersions(j.group.release, prev.group.release) > 0)));
    if (better) out.set(j.group.sample, j);
  }
  return out;
}

function listProblems(problems: string[], max = 6): string {
  const shown = problems.slice(0, max).join('; ');
  return problems.length > max ? `${shown}; and ${problems.length - max} more` : shown;
}

type LevelContext = Omit<JudgeContext, 'vendor' | 'model'> & { current: string | null };

/** Why each sample that does not pass the level falls short: its problems, or that its runs are out of scope. */
function shortfall(model: string, runs: RunResults[], level: ProgramLevel, best: Map<string, GroupJudgement>, result: ModelLevelResult): MissingItem {
  const details: string[] = [];
  for (const s of uniq(runs.map((r) => r.box.sample)).sort(bySample)) {
    if (result.samples.includes(s)) continue;
    const j = best.get(s);
    const mine = runs.filter((r) => r.box.sample === s);
    if (j) {
      const which = new Set(mine.map((r) => r.profile.sha256)).size > 1 ? ` with profile ${j.group.profile.file}` : '';
      details.push(`${s} on ${j.group.release}${which}: ${listProblems(j.problems)}`);
      continue;
    }
    const byRole = mine.filter((r) => roleOk(r, level.runBy));
    if (!byRole.length) {
      const who = uniq(mine.map((r) => `${r.operator.organisation} (${r.operator.role})`)).join(', ');
      details.push(`${s}: run only by ${who}; level ${level.level} needs runs by ${roleText(level.runBy)}`);
    } else {
      const rels = uniq(byRole.map((r) => r.release.version)).sort(compareVersions).join(', ');
      details.push(`${s}: runs on ${rels} only; level ${level.level} needs ${result.release}`);
    }
  }
  const have = result.samples.length ? `: ${result.samples.join(', ')}` : '';
  return { line: `level ${level.level}: model ${model} has ${result.samples.length} of ${level.samples} samples on ${result.release ?? 'any release'}${have}`, details };
}

/** Trust but verify: the verifier's passing samples whose pass/fail outcomes agree with the verified side's. */
function verify(model: string, runs: RunResults[], level: ProgramLevel, passing: GroupJudgement[], jc: JudgeContext, ctx: LevelContext, result: ModelLevelResult): boolean {
  const v = level.verify!;
  const vRelease = scopeOf(v.release ?? level.release, ctx.current);
  const vRuns = runs.filter((r) => r.operator.role === v.runBy && (vRelease === null || r.release.version === vRelease));
  const judged = [...bestPerSample(groupRuns(vRuns).map((g) => judgeGroup(g, level, jc))).values()];
  // The verified side's outcomes per test id and release, from the samples that pass.
  const theirs = new Map<string, Map<string, Set<TestResult['outcome']>>>();
  for (const j of passing) {
    const m = theirs.get(j.group.release) ?? new Map<string, Set<TestResult['outcome']>>();
    for (const t of j.group.tests.values()) if (t.outcome === 'pass' || t.outcome === 'fail') m.set(t.id, (m.get(t.id) ?? new Set()).add(t.outcome));
    theirs.set(j.group.release, m);
  }
  const verifiedBy: string[] = [];
  const details: string[] = [];
  for (const j of judged) {
    if (!j.ok) {
      details.push(`${j.group.sample} on ${j.group.release}: ${listProblems(j.problems)}`);
      continue;
    }
    const other = theirs.get(j.group.release);
    const disagreements = [...j.group.tests.values()].flatMap((t) => {
      const seen = t.outcome === 'pass' || t.outcome === 'fail' ? other?.get(t.id) : undefined;
      return seen && ![...seen].every((o) => o === t.outcome) ? [`${t.id}: ${t.outcome} here, ${[...seen].join('/')} in ${roleText(level.runBy)}'s runs`] : [];
    });
    if (!other) details.push(`${j.group.sample} on ${j.group.release}: no passing run by ${roleText(level.runBy)} on that release to compare with`);
    else if (disagreements.length) details.push(`${j.group.sample} on ${j.group.release} disagrees: ${listProblems(disagreements)}`);
    else verifiedBy.push(j.group.sample);
    result.waived.push(...j.waived);
  }
  result.verifiedBy = verifiedBy.sort(bySample);
  if (verifiedBy.length >= v.samples) return true;
  const vReleaseText = vRelease ?? 'any release';
  const line = !vRuns.length
    ? `level ${level.level}: model ${model} has no run by ${roleText(v.runBy)} on ${vReleaseText} to verify ${roleText(level.runBy)}'s results`
    : `level ${level.level}: model ${model} has ${verifiedBy.length} of ${v.samples} samples run by ${roleText(v.runBy)} on ${vReleaseText} that confirm ${roleText(level.runBy)}'s results${verifiedBy.length ? `: ${verifiedBy.join(', ')}` : ''}`;
  result.missing.push({ line, details });
  return false;
}

function judgeModelLevel(vendor: string, model: string, runs: RunResults[], level: ProgramLevel, ctx: LevelContext): ModelLevelResult {
  const jc: JudgeContext = { ...ctx, vendor, model };
  const release = scopeOf(level.release, ctx.current);
  const result: ModelLevelResult = { level: level.level, name: level.name, met: false, release, needed: level.samples, samples: [], missing: [], waived: [], expiredWaivers: [], proofs: [] };
  if (!runs.length) {
    result.missing.push({ line: `level ${level.level}: model ${model} has no runs`, details: [] });
    return result;
  }
  const eligible = runs.filter((r) => roleOk(r, level.runBy) && (release === null || r.release.version === release));
  const best = bestPerSample(groupRuns(eligible).map((g) => judgeGroup(g, level, jc)));
  const passing = [...best.values()].filter((j) => j.ok);
  result.samples = passing.map((j) => j.group.sample).sort(bySample);
  for (const j of passing) result.waived.push(...j.waived);
  result.proofs = passing.flatMap(proofsOf);
  for (const j of best.values()) result.expiredWaivers.push(...j.expired);
  const samplesOk = result.samples.length >= level.samples;
  if (!samplesOk) result.missing.push(shortfall(model, runs, level, best, result));
  const verifyOk = level.verify ? verify(model, runs, level, passing, jc, ctx, result) : true;
  result.met = samplesOk && verifyOk;
  return result;
}

function dedupeUses(uses: WaiverUse[]): WaiverUse[] {
  const m = new Map<string, WaiverUse>();
  for (const u of uses) m.set(JSON.stringify([u.what, u.sample, u.release, u.waiver.by, u.waiver.until, u.waiver.reason]), u);
  return [...m.values()];
}

export function computeVerdict(runs: readonly RunResults[], opts: VerdictOptions): Verdict {
  const { program } = opts;
  const now = opts.now ?? new Date();
  const waivers = opts.waivers ?? [];
  const current = newestVersion(runs.map((r) => r.release.version));
  const vendorsSeen = uniq(runs.map((r) => r.box.vendor)).sort((a, b) => a.localeCompare(b));
  const vendors: VendorVerdict[] = vendorsSeen.map((vendor) => {
    const listed = program.vendors.find((v) => v.vendor === vendor);
    const vRuns = runs.filter((r) => r.box.vendor === vendor);
    const seenModels = uniq(vRuns.map((r) => r.box.model)).sort((a, b) => a.localeCompare(b));
    const modelNames = uniq([...(listed?.models ?? []), ...seenModels]);
    const models: ModelVerdict[] = modelNames.map((model) => {
      const mRuns = vRuns.filter((r) => r.box.model === model);
      const levels = program.levels.map((l) => judgeModelLevel(vendor, model, mRuns, l, { waivers, now, current }));
      const best = [...levels].reverse().find((l) => l.met);
      return {
        model,
        listed: !!listed?.models.includes(model),
        level: best?.level ?? 0,
        levelName: best?.name ?? null,
        samples: uniq(mRuns.map((r) => r.box.sample)).sort(bySample),
        releases: uniq(mRuns.map((r) => r.release.version)).sort(compareVersions),
        runs: mRuns.length,
        levels,
      };
    });
    const required = (l: ProgramLevel) => (l.models === 'every' ? (listed ? models.filter((m) => m.listed) : models) : models);
    const levels: VendorLevelResult[] = program.levels.map((l, i) => {
      const judged = required(l).map((m) => ({ m, r: m.levels[i]! }));
      const metBy = judged.filter((x) => x.r.met).map((x) => x.m.model);
      const met = l.models === 'every' ? judged.length > 0 && metBy.length === judged.length : metBy.length > 0;
      const missing = met ? [] : judged.filter((x) => !x.r.met).flatMap((x) => x.r.missing);
      return { level: l.level, name: l.name, met, models: l.models, metBy, missing };
    });
    const top = [...levels].reverse().find((l) => l.met);
    const level = top?.level ?? 0;
    return {
      vendor,
      level,
      levelName: top?.name ?? null,
      modelsFrom: listed ? 'program' : 'runs',
      models,
      levels,
      next: levels.find((l) => l.level > level) ?? null,
      waived: dedupeUses(models.flatMap((m) => m.levels.flatMap((l) => l.waived))),
      expiredWaivers: dedupeUses(models.flatMap((m) => m.levels.flatMap((l) => l.expiredWaivers))),
    };
  });
  return {
    program: program.name,
    ...(program.revision !== undefined ? { revision: String(program.revision) } : {}),
    at: now.toISOString(),
    currentRelease: current,
    runs: runs.length,
    vendors,
  };
}

/** Whether every vendor judged meets `level` (the exit status of `qualify --level N`). */
export function levelMet(v: Verdict, level: number): boolean {
  return v.vendors.length > 0 && v.vendors.every((x) => x.levels.some((l) => l.level === level && l.met));
}
