// The qualification program as data (suites/program.yaml): its levels, each with the capabilities a sample must
// show working, whether every declared item counts, how many samples per model, which models of a vendor, which
// release, who must run it, and for "trust but verify" a confirming run by someone else. Also the models each
// vendor lists (the roster "every model" refers to). Thresholds are values here, never code.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { capabilitySchema } from '../report/results-schema.ts';
import { loadYamlFile, parseYamlFile, type CrossCheck } from '../util/yaml-file.ts';

export const defaultProgramFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'suites', 'program.yaml');

const role = z.enum(['anyone', 'owner', 'partner']);
/** `any`, `current` (the newest release among the runs judged), or a named version such as 13.4.0. */
const releaseScope = z.string().regex(/^(any|current|v?\d[0-9A-Za-z.+-]*)$/, 'must be any, current, or a version such as 13.4.0');

/** A capability's rule. `all`: every check of it passes (at least one ran). `any`: one item (a declared port, stick,
 * or the capability as a whole) with every one of its checks passing. `{ any: { with: CHECK, what: WORDS } }`: the
 * same, among the items checked by CHECK (level 1's USB storage: `with: stores-data`); WORDS name such an item in
 * the verdict ("USB storage device"). */
const ruleSchema = z.union([
  z.enum(['all', 'any']),
  z.strictObject({
    any: z.strictObject({
      with: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a check name such as stores-data').optional(),
      what: z.string().min(1).optional(),
    }),
  }),
], { error: 'must be all, any, or { any: { with: CHECK, what: WORDS } }' });

const levelSchema = z.strictObject({
  level: z.number().int().min(1),
  name: z.string().min(1),
  capabilities: z.partialRecord(capabilitySchema, ruleSchema),
  /** Also every capability and item the profile declares, each checked and working. */
  declared: z.boolean().default(false),
  /** Distinct samples (serial numbers) of a model that must each pass. */
  samples: z.number().int().min(1),
  /** `one`: one model of the vendor is enough; `every`: every model the vendor lists. */
  models: z.enum(['one', 'every']),
  release: releaseScope,
  runBy: role,
  /** Trust but verify: runs by someone else on samples of each model that must pass and agree. */
  verify: z
    .strictObject({
      runBy: z.enum(['owner', 'partner']),
      samples: z.number().int().min(1).default(1),
      release: releaseScope.optional(),
    })
    .optional(),
});

export const programSchema = z.strictObject({
  name: z.string().min(1),
  /** The program's own revision, shown in verdicts. */
  revision: z.union([z.string(), z.number()]).optional(),
  levels: z.array(levelSchema).min(1),
  /** The models each vendor lists. A vendor not here: the models of its runs. */
  vendors: z.array(z.strictObject({ vendor: z.string().min(1), models: z.array(z.string().min(1)).min(1) })).default([]),
});

export type Program = z.output<typeof programSchema>;
export type CapabilityRule = z.output<typeof ruleSchema>;
export type ProgramLevel = Program['levels'][number];
export type RunBy = z.output<typeof role>;

const crossChecks: CrossCheck<Program> = (p) => {
  const out: ReturnType<CrossCheck<Program>> = [];
  const seen = new Set<number>();
  p.levels.forEach((l, i) => {
    if (seen.has(l.level)) out.push({ path: ['levels', i, 'level'], message: `level ${l.level} is defined twice` });
    seen.add(l.level);
    if (i > 0 && l.level <= p.levels[i - 1]!.level) out.push({ path: ['levels', i, 'level'], message: 'levels must be listed in increasing order' });
    if ('inventory' in l.capabilities) out.push({ path: ['levels', i, 'capabilities', 'inventory'], message: 'inventory is always collected and never a reason to fail' });
    if (!Object.keys(l.capabilities).length && !l.declared) out.push({ path: ['levels', i, 'capabilities'], message: 'a level needs at least one capability (or declared: true)' });
    if (l.verify && l.verify.runBy === l.runBy) out.push({ path: ['levels', i, 'verify', 'runBy'], message: `verification must be by someone else than the runs it verifies (runBy is ${l.runBy})` });
  });
  const vendors = new Set<string>();
  p.vendors.forEach((v, i) => {
    if (vendors.has(v.vendor)) out.push({ path: ['vendors', i, 'vendor'], message: `vendor ${v.vendor} is listed twice` });
    vendors.add(v.vendor);
  });
  return out;
};

export function parseProgram(text: string, file: string): Program {
  return parseYamlFile(text, file, programSchema, crossChecks);
}

export function loadProgram(file: string = defaultProgramFile): Program {
  return loadYamlFile(file, 'program', programSchema, crossChecks);
}
