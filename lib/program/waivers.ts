// Waivers: the program owner's decisions that a missing or failing check does not count against a box, for a
// scope, with a reason, who decided, and until when. A YAML file given to `eve-qual qualify --waivers FILE`:
//
//   waivers:
//     - scope: { vendor: Acme, model: X100, capability: cellular }   # also sample, release, item, test, level
//       reason: no SIM card in the owner's lab until the carrier contract is signed
//       by: jane.doe@program-owner.example
//       until: 2026-12-31                                             # inclusive (UTC); expired after that day
//
// A waiver counts only until its date: after it, the check counts again and the verdict says the waiver expired.
// Only waivers given to qualify count; a `waived` skip recorded in a run is shown but is not enough by itself
// (a results file is written by whoever ran it).
import { z } from 'zod';
import { capabilitySchema } from '../report/results-schema.ts';
import type { Capability } from '../report/results.ts';
import { loadYamlFile, parseYamlFile, type CrossCheck } from '../util/yaml-file.ts';

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a calendar date');

const scopeSchema = z.strictObject({
  vendor: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  sample: z.string().min(1).optional(),
  release: z.string().min(1).optional(),
  capability: capabilitySchema.optional(),
  item: z.string().min(1).optional(),
  /** A test id: `<capability>/<check>`. */
  test: z.string().min(1).optional(),
  level: z.union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1)]).optional(),
});

export const waiverSchema = z.strictObject({
  scope: scopeSchema,
  reason: z.string().min(1),
  by: z.string().min(1),
  until: day,
});

export const waiversFileSchema = z.strictObject({ waivers: z.array(waiverSchema) });

export type Waiver = z.output<typeof waiverSchema>;
export type WaiverScope = Waiver['scope'];

const crossChecks: CrossCheck<{ waivers: Waiver[] }> = (f) => {
  const out: ReturnType<CrossCheck<{ waivers: Waiver[] }>> = [];
  f.waivers.forEach((w, i) => {
    if (!w.scope.capability && !w.scope.item && !w.scope.test) {
      out.push({ path: ['waivers', i, 'scope'], message: 'a waiver names what it waives: capability, item or test (a whole box cannot be waived)' });
    }
    if (w.scope.test && w.scope.capability && !w.scope.test.startsWith(`${w.scope.capability}/`)) {
      out.push({ path: ['waivers', i, 'scope', 'test'], message: `test ${w.scope.test} is not a ${w.scope.capability} test (ids are <capability>/<check>)` });
    }
  });
  return out;
};

export function parseWaivers(text: string, file: string): Waiver[] {
  return parseYamlFile(text, file, waiversFileSchema, crossChecks).waivers;
}

export function loadWaivers(file: string): Waiver[] {
  return loadYamlFile(file, 'waivers file', waiversFileSchema, crossChecks).waivers;
}

/** A waiver is valid through the whole of its `until` day (UTC). */
export function waiverExpired(w: Waiver, now: Date): boolean {
  return now.getTime() > Date.parse(`${w.until}T23:59:59.999Z`);
}

/** What a waiver is asked about: a check of a sample, or a capability or item with no check. */
export interface WaiverTarget {
  vendor: string;
  model: string;
  sample: string;
  release: string;
  level: number;
  capability: Capability;
  item?: string;
  test?: string;
}

export function waiverMatches(w: Waiver, t: WaiverTarget): boolean {
  const s = w.scope;
  if (s.vendor !== undefined && s.vendor !== t.vendor) return false;
  if (s.model !== undefined && s.model !== t.model) return false;
  if (s.sample !== undefined && s.sample !== t.sample) return false;
  if (s.release !== undefined && s.release !== t.release) return false;
  if (s.capability !== undefined && s.capability !== t.capability) return false;
  if (s.item !== undefined && s.item !== t.item) return false;
  if (s.test !== undefined && s.test !== t.test) return false;
  if (s.level !== undefined && !(Array.isArray(s.level) ? s.level : [s.level]).includes(t.level)) return false;
  return true;
}

export interface WaiverLookup {
  /** An unexpired waiver that covers the target. */
  active?: Waiver;
  /** An expired one that would have covered it (said in the verdict). */
  expired?: Waiver;
}

export function findWaiver(waivers: readonly Waiver[], t: WaiverTarget, now: Date): WaiverLookup {
  const matching = waivers.filter((w) => waiverMatches(w, t));
  const active = matching.find((w) => !waiverExpired(w, now));
  if (active) return { active };
  const expired = matching.sort((a, b) => b.until.localeCompare(a.until))[0];
  return expired ? { expired } : {};
}

export function describeWaiver(w: Waiver): string {
  return `${w.reason}; by ${w.by}, until ${w.until}`;
}
