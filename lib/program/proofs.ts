// What proved a level: for a sample that passes it, each item's passing checks with the facts read from the box,
// so a verdict shows why it says "met" (a pass is a proof; these are the proofs), in the verdict and in qualify.
import { factText } from '../report/fact-text.ts';
import type { Capability } from '../report/results.ts';
import { sanitizeLine } from '../report/sanitize.ts';
import type { GroupJudgement } from './evidence.ts';

export interface ItemProof {
  sample: string;
  release: string;
  capability: Capability;
  /** The declared item; absent for the capability as a whole. */
  item?: string;
  /** Per passing check: its id and the facts it recorded. */
  checks: Array<{ id: string; check: string; facts: Record<string, unknown> }>;
}

/** The proofs of a passing sample's judgement, item by item, in the order the checks ran. */
export function proofsOf(j: GroupJudgement): ItemProof[] {
  const out = new Map<string, ItemProof>();
  for (const t of j.group.tests.values()) {
    if (t.outcome !== 'pass' || t.capability === 'inventory') continue;
    const key = `${t.capability}/${t.item ?? ''}`;
    const p = out.get(key) ?? { sample: j.group.sample, release: j.group.release, capability: t.capability, ...(t.item ? { item: t.item } : {}), checks: [] };
    p.checks.push({ id: t.id, check: t.check, facts: t.facts ?? {} });
    out.set(key, p);
  }
  return [...out.values()];
}

/** A check's proof on one line: `carrier (phys.carrier: 1, ...)`. */
export function checkProofText(c: ItemProof['checks'][number], max = 160): string {
  const facts = Object.entries(c.facts).map(([k, v]) => factText(k, v));
  return sanitizeLine(`${c.check} (${facts.join(', ')})`, max);
}
