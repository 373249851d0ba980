// Evidence of one sample on one release: the runs of that sample on that release with the same profile (by the
// operators a level accepts), merged test by test, and judged against a level's capability rules.
//   - The latest outcome of each test counts (a later failure overrides an earlier pass: a regression), except
//     that an error or a not-run skip never overrides an earlier pass or failure: it is not evidence.
//   - inventory is never a reason to fail.
//   - A check that is not a pass is a problem unless a waiver given to qualify covers it (an expired one is named).
import type { Capability, RunResults, TestResult } from '../report/results.ts';
import { sanitizeLine } from '../report/sanitize.ts';
import type { ProgramLevel } from './program.ts';
import { findWaiver, type Waiver, type WaiverTarget } from './waivers.ts';

export interface SampleGroup {
  sample: string;
  release: string;
  /** The profile the runs were made with (file, sha256): evidence merges only under the same declaration. */
  profile: { file: string; sha256: string };
  runs: RunResults[];
  /** The outcome that counts, per test id. */
  tests: Map<string, TestResult>;
  /** What the profile declares, merged over the runs; undefined when no run recorded it. */
  declared?: Partial<Record<Capability, string[]>>;
}

export interface WaiverUse {
  waiver: Waiver;
  /** The test id, or `capability` / `capability/item` when nothing was checked. */
  what: string;
  sample: string;
  release: string;
  level: number;
}

export interface GroupJudgement {
  group: SampleGroup;
  ok: boolean;
  problems: string[];
  waived: WaiverUse[];
  expired: WaiverUse[];
}

export interface JudgeContext {
  vendor: string;
  model: string;
  waivers: readonly Waiver[];
  now: Date;
}

function notEvidence(t: TestResult): boolean {
  return t.outcome === 'error' || (t.outcome === 'skip' && t.reason === 'not-run');
}

/** Group runs by (sample, release, profile) and merge their tests: a re-run completes the evidence of the same
 * claim; a run with another profile (another declaration of the hardware) is judged on its own. */
export function groupRuns(runs: readonly RunResults[]): SampleGroup[] {
  const groups = new Map<string, SampleGroup>();
  const sorted = [...runs].sort((a, b) => a.start.localeCompare(b.start));
  for (const r of sorted) {
    const key = JSON.stringify([r.box.sample, r.release.version, r.profile.sha256]);
    let g = groups.get(key);
    if (!g) {
      g = { sample: r.box.sample, release: r.release.version, profile: { ...r.profile }, runs: [], tests: new Map() };
      groups.set(key, g);
    }
    g.runs.push(r);
    for (const t of r.tests) {
      const prev = g.tests.get(t.id);
      if (prev && notEvidence(t) && !notEvidence(prev)) continue;
      g.tests.set(t.id, t);
    }
    if (r.declared) {
      g.declared ??= {};
      for (const [cap, items] of Object.entries(r.declared) as Array<[Capability, string[]]>) {
        g.declared[cap] = [...new Set([...(g.declared[cap] ?? []), ...items])];
      }
    }
  }
  return [...groups.values()];
}

function why(t: TestResult): string {
  const msg = t.message ? `: ${sanitizeLine(t.message, 160)}` : '';
  switch (t.outcome) {
    case 'fail':
      return `${t.id} failed${msg}`;
    case 'error':
      return `${t.id}: error, not evidence (${t.reason ?? 'lab'}${msg}); re-run`;
    case 'skip':
      if (t.reason === 'operator') return `${t.id}: skipped by the operator${msg}`;
      if (t.reason === 'waived') {
        const w = t.waiver ? ` by ${t.waiver.by} until ${t.waiver.until}` : '';
        return `${t.id}: waived at run time${w}; only waivers given to qualify count`;
      }
      if (t.reason === 'not-run') return `${t.id}: not run${msg}`;
      return `${t.id}: skipped (${t.reason ?? 'no reason'})${msg}`;
    default:
      return `${t.id}: ${t.outcome}`;
  }
}

type Verdict1 = { kind: 'ok' } | { kind: 'neutral' } | { kind: 'waived'; use: WaiverUse } | { kind: 'problem'; text: string; expired?: WaiverUse };

/** Judge a group against a level's capability rules (and the declared hardware when the level asks). */
export function judgeGroup(g: SampleGroup, level: ProgramLevel, ctx: JudgeContext): GroupJudgement {
  const problems = new Set<string>();
  const waived = new Map<string, WaiverUse>();
  const expired = new Map<string, WaiverUse>();
  const byCap = new Map<Capability, TestResult[]>();
  for (const t of g.tests.values()) {
    if (t.capability === 'inventory') continue;
    byCap.set(t.capability, [...(byCap.get(t.capability) ?? []), t]);
  }

  const target = (capability: Capability, extra: { item?: string; test?: string } = {}): WaiverTarget => ({
    vendor: ctx.vendor,
    model: ctx.model,
    sample: g.sample,
    release: g.release,
    level: level.level,
    capability,
    ...extra,
  });
  const use = (w: Waiver, what: string): WaiverUse => ({ waiver: w, what, sample: g.sample, release: g.release, level: level.level });

  const judgeTest = (t: TestResult): Verdict1 => {
    if (t.outcome === 'pass') return { kind: 'ok' };
    if (t.outcome === 'skip' && t.reason === 'not-declared') return { kind: 'neutral' };
    const w = findWaiver(ctx.waivers, target(t.capability, { ...(t.item ? { item: t.item } : {}), test: t.id }), ctx.now);
    if (w.active) return { kind: 'waived', use: use(w.active, t.id) };
    const text = why(t);
    if (w.expired) return { kind: 'problem', text: `${text} (waiver by ${w.expired.by} expired on ${w.expired.until})`, expired: use(w.expired, t.id) };
    return { kind: 'problem', text };
  };
  const record = (v: Verdict1) => {
    if (v.kind === 'waived') waived.set(`${v.use.what}|${v.use.waiver.until}|${v.use.waiver.by}`, v.use);
    if (v.kind === 'problem') {
      problems.add(v.text);
      if (v.expired) expired.set(v.expired.what, v.expired);
    }
  };
  /** Nothing to judge for a capability or an item: a problem unless waived. */
  const missing = (capability: Capability, text: string, item?: string) => {
    const what = item ? `${capability}/${item}` : capability;
    const w = findWaiver(ctx.waivers, target(capability, item ? { item } : {}), ctx.now);
    if (w.active) return record({ kind: 'waived', use: use(w.active, what) });
    if (w.expired) return record({ kind: 'problem', text: `${text} (waiver by ${w.expired.by} expired on ${w.expired.until})`, expired: use(w.expired, what) });
    record({ kind: 'problem', text });
  };

  const all = (cap: Capability) => {
    const tests = byCap.get(cap) ?? [];
    if (!tests.length) return missing(cap, `${cap}: no check ran`);
    const vs = tests.map(judgeTest);
    if (vs.every((v) => v.kind === 'neutral')) return missing(cap, `${cap}: not declared by the profile`);
    vs.forEach(record);
  };
  const any = (cap: Capability) => {
    const tests = byCap.get(cap) ?? [];
    if (!tests.length) return missing(cap, `${cap}: no check ran`);
    const vs = tests.map(judgeTest);
    if (vs.some((v) => v.kind === 'ok')) return;
    if (vs.every((v) => v.kind === 'neutral')) return missing(cap, `${cap}: not declared by the profile`);
    const w = vs.find((v) => v.kind === 'waived');
    if (w) return record(w);
    const texts = vs.filter((v): v is Extract<Verdict1, { kind: 'problem' }> => v.kind === 'problem');
    for (const v of texts) if (v.expired) expired.set(v.expired.what, v.expired);
    problems.add(`${cap}: no check passed (${texts.map((v) => v.text).join('; ')})`);
  };

  for (const [cap, rule] of Object.entries(level.capabilities) as Array<[Capability, 'all' | 'any']>) (rule === 'all' ? all : any)(cap);

  if (level.declared) {
    if (!g.declared) {
      problems.add('the results do not record what the profile declares ("declared"), so full hardware support cannot be shown');
    } else {
      for (const [cap, items] of Object.entries(g.declared) as Array<[Capability, string[]]>) {
        if (cap === 'inventory') continue;
        all(cap);
        for (const item of items) {
          const tests = (byCap.get(cap) ?? []).filter((t) => t.item === item);
          if (!tests.length) missing(cap, `${cap}/${item}: declared but not checked`, item);
          else if (tests.every((t) => judgeTest(t).kind === 'neutral')) missing(cap, `${cap}/${item}: declared, but its checks were skipped as not declared`, item);
        }
      }
    }
  }
  return { group: g, ok: problems.size === 0, problems: [...problems], waived: [...waived.values()], expired: [...expired.values()] };
}
