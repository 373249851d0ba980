// A sample's evidence on one release judged against one level: each capability by its rule (program.ts), and for
// levels that ask it every declared item. Judged on test identities (capability, item, check), never on titles.
//   all  every check of the capability passes (at least one ran);
//   any  one item (a declared port, a stick, or the capability as a whole) with every one of its checks passing,
//        among the items checked by `with` when the rule names a check (level 1's USB storage).
// A check that is not a pass is a problem unless a waiver given to qualify covers it (an expired one is named);
// errors and not-run skips are never evidence (evidence.ts merges them away when a run has better).
import type { Capability, TestResult } from '../report/results.ts';
import { sanitizeLine } from '../report/sanitize.ts';
import { why, type GroupJudgement, type JudgeContext, type SampleGroup, type WaiverUse } from './evidence.ts';
import type { CapabilityRule, ProgramLevel } from './program.ts';
import { findWaiver, type Waiver, type WaiverTarget } from './waivers.ts';

type Verdict1 = { kind: 'ok' } | { kind: 'neutral' } | { kind: 'waived'; use: WaiverUse } | { kind: 'problem'; text: string; expired?: WaiverUse };
interface Judged {
  t: TestResult;
  v: Verdict1;
}

/** A check that did not pass, in the words of an item's line ("failed "stores data": write to /dev/sda failed"). */
function plainWhy(t: TestResult): string {
  const msg = t.message ? `: ${sanitizeLine(t.message, 160)}` : '';
  if (t.outcome === 'fail') return `failed "${t.name}"${msg}`;
  if (t.outcome === 'error') return `could not check "${t.name}" (${t.reason ?? 'lab'} error${msg}), not evidence; re-run`;
  if (t.outcome === 'skip') return `"${t.name}" ${t.reason === 'not-run' ? 'was not run' : `was skipped (${t.reason ?? 'no reason'})`}${msg}`;
  return `"${t.name}": ${t.outcome}`;
}

/** The checks of a capability per item (the capability itself for checks of it as a whole), in the order run. */
function byItem(judged: Judged[]): Map<string, Judged[]> {
  const out = new Map<string, Judged[]>();
  for (const j of judged) out.set(j.t.item ?? '', [...(out.get(j.t.item ?? '') ?? []), j]);
  return out;
}

/** An item's failing checks in words, the first two of them (the rest counted): enough to act on, short to read. */
function firstProblems(xs: Judged[]): string {
  const texts = xs.filter((x) => x.v.kind === 'problem').map((x) => plainWhy(x.t));
  return texts.length > 2 ? `${texts.slice(0, 2).join('; ')}; and ${texts.length - 2} more` : texts.join('; ');
}

/** An item works when none of its checks is a problem and at least one passed (or is waived). */
function works(xs: Judged[]): boolean {
  return xs.every((x) => x.v.kind !== 'problem') && xs.some((x) => x.v.kind === 'ok' || x.v.kind === 'waived');
}

class GroupJudge {
  private readonly problems = new Set<string>();
  private readonly waived = new Map<string, WaiverUse>();
  private readonly expired = new Map<string, WaiverUse>();
  private readonly byCap = new Map<Capability, TestResult[]>();

  constructor(
    private readonly g: SampleGroup,
    private readonly level: ProgramLevel,
    private readonly ctx: JudgeContext,
  ) {
    for (const t of g.tests.values()) if (t.capability !== 'inventory') this.byCap.set(t.capability, [...(this.byCap.get(t.capability) ?? []), t]);
  }

  result(): GroupJudgement {
    return { group: this.g, ok: this.problems.size === 0, problems: [...this.problems], waived: [...this.waived.values()], expired: [...this.expired.values()] };
  }

  rule(cap: Capability, rule: CapabilityRule): void {
    if (rule === 'all') this.all(cap);
    else this.any(cap, rule === 'any' ? {} : rule.any);
  }

  private target(capability: Capability, extra: { item?: string; test?: string } = {}): WaiverTarget {
    const { g, ctx, level } = this;
    return { vendor: ctx.vendor, model: ctx.model, sample: g.sample, release: g.release, level: level.level, capability, ...extra };
  }

  private use(w: Waiver, what: string): WaiverUse {
    return { waiver: w, what, sample: this.g.sample, release: this.g.release, level: this.level.level };
  }

  private judgeTest(t: TestResult): Verdict1 {
    if (t.outcome === 'pass') return { kind: 'ok' };
    if (t.outcome === 'skip' && t.reason === 'not-declared') return { kind: 'neutral' };
    const w = findWaiver(this.ctx.waivers, this.target(t.capability, { ...(t.item ? { item: t.item } : {}), test: t.id }), this.ctx.now);
    if (w.active) return { kind: 'waived', use: this.use(w.active, t.id) };
    const text = why(t);
    if (w.expired) return { kind: 'problem', text: `${text} (waiver by ${w.expired.by} expired on ${w.expired.until})`, expired: this.use(w.expired, t.id) };
    return { kind: 'problem', text };
  }

  private record(v: Verdict1): void {
    if (v.kind === 'waived') this.waived.set(`${v.use.what}|${v.use.waiver.until}|${v.use.waiver.by}`, v.use);
    if (v.kind === 'problem') {
      this.problems.add(v.text);
      if (v.expired) this.expired.set(v.expired.what, v.expired);
    }
  }

  /** Nothing to judge for a capability or an item: a problem unless waived. */
  private missing(capability: Capability, text: string, item?: string): void {
    const what = item ? `${capability}/${item}` : capability;
    const w = findWaiver(this.ctx.waivers, this.target(capability, item ? { item } : {}), this.ctx.now);
    if (w.active) return this.record({ kind: 'waived', use: this.use(w.active, what) });
    if (w.expired) return this.record({ kind: 'problem', text: `${text} (waiver by ${w.expired.by} expired on ${w.expired.until})`, expired: this.use(w.expired, what) });
    this.record({ kind: 'problem', text });
  }

  /** The capability's checks judged, or null (and the problem recorded) when there is nothing to judge. */
  private judgedOf(cap: Capability): Judged[] | null {
    const tests = this.byCap.get(cap) ?? [];
    if (!tests.length) return (this.missing(cap, `${cap}: no check ran`), null);
    const judged = tests.map((t) => ({ t, v: this.judgeTest(t) }));
    if (judged.every((x) => x.v.kind === 'neutral')) return (this.missing(cap, `${cap}: not declared by the profile`), null);
    return judged;
  }

  private all(cap: Capability): void {
    this.judgedOf(cap)?.forEach((x) => this.record(x.v));
  }

  private any(cap: Capability, rule: { with?: string | undefined; what?: string | undefined }): void {
    const judged = this.judgedOf(cap);
    if (!judged) return;
    const items = [...byItem(judged)].filter(([, xs]) => xs.some((x) => x.v.kind !== 'neutral') && (!rule.with || xs.some((x) => x.t.check === rule.with)));
    const what = rule.what ?? `${cap} item`;
    const working = items.find(([, xs]) => works(xs) && xs.every((x) => x.v.kind !== 'waived')) ?? items.find(([, xs]) => works(xs));
    if (working) return working[1].forEach((x) => this.record(x.v));
    for (const [, xs] of items) for (const x of xs) if (x.v.kind === 'problem' && x.v.expired) this.expired.set(x.v.expired.what, x.v.expired);
    if (!items.length) return this.missing(cap, `${cap}: needs one ${what} working, and no declared item was checked${rule.with ? ` by "${rule.with}"` : ''}`);
    const lines = items.map(([item, xs]) => `${item || cap} ${firstProblems(xs)}`);
    this.problems.add(`${cap}: needs one ${what} working: ${lines.join('; ')}`);
  }

  /** Every capability and item the profile declares, each checked and working (levels with `declared: true`). */
  declared(): void {
    const declared = this.g.declared;
    if (!declared) {
      this.problems.add('the results do not record what the profile declares ("declared"), so full hardware support cannot be shown');
      return;
    }
    for (const [cap, items] of Object.entries(declared) as Array<[Capability, string[]]>) {
      if (cap === 'inventory') continue;
      const tests = this.byCap.get(cap) ?? [];
      // Checks skipped as not declared under a profile that declares the capability: said once, per item or for it.
      if (tests.length && tests.every((t) => this.judgeTest(t).kind === 'neutral')) {
        if (!items.length) this.missing(cap, `${cap}: declared, but its checks were skipped as not declared`);
      } else this.all(cap);
      for (const item of items) {
        const tests = (this.byCap.get(cap) ?? []).filter((t) => t.item === item);
        if (!tests.length) this.missing(cap, `${cap}/${item}: declared but not checked`, item);
        else if (tests.every((t) => this.judgeTest(t).kind === 'neutral')) this.missing(cap, `${cap}/${item}: declared, but its checks were skipped as not declared`, item);
      }
    }
  }
}

/** Judge a group against a level's capability rules (and the declared hardware when the level asks). */
export function judgeGroup(g: SampleGroup, level: ProgramLevel, ctx: JudgeContext): GroupJudgement {
  const j = new GroupJudge(g, level, ctx);
  for (const [cap, rule] of Object.entries(level.capabilities) as Array<[Capability, CapabilityRule]>) j.rule(cap, rule);
  if (level.declared) j.declared();
  return j.result();
}
