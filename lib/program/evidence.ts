// Evidence of one sample on one release: the runs of that sample on that release with the same profile (by the
// operators a level accepts), merged test by test (judged against a level's rules in judge-group.ts).
//   - The latest outcome of each test counts (a later failure overrides an earlier pass: a regression), except
//     that an error or a not-run skip never overrides an earlier pass or failure: it is not evidence.
//   - inventory is never a reason to fail.
//   - A check that is not a pass is a problem unless a waiver given to qualify covers it (an expired one is named).
import type { Capability, RunResults, TestResult } from '../report/results.ts';
import { sanitizeLine } from '../report/sanitize.ts';
import type { Waiver } from './waivers.ts';

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

export function notEvidence(t: TestResult): boolean {
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

export function why(t: TestResult): string {
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

