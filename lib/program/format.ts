// The verdict as text for a terminal or a CI log: per vendor its level, per model its level and samples, what is
// the facts that proved its highest level, item by item, what is missing for the next level (the exact lines of the
// verdict, with the reason of each sample that does not count),
// waivers that apply and waivers that expired.
import type { ModelLevelResult, Verdict, VendorVerdict } from './verdict.ts';
import { checkProofText } from './proofs.ts';
import type { WaiverUse } from './evidence.ts';

function levelLabel(level: number, name: string | null): string {
  return level === 0 ? 'no level met' : `level ${level} (${name})`;
}

function waiverLines(title: string, uses: WaiverUse[]): string[] {
  if (!uses.length) return [];
  const groups = new Map<string, { u: WaiverUse; where: Set<string> }>();
  for (const u of uses) {
    const key = JSON.stringify([u.what, u.waiver.by, u.waiver.until, u.waiver.reason]);
    const g = groups.get(key) ?? { u, where: new Set<string>() };
    g.where.add(`${u.sample} (${u.release})`);
    groups.set(key, g);
  }
  return [
    `  ${title}:`,
    ...[...groups.values()].map(({ u, where }) => `    ${u.what} on ${[...where].join(', ')}: ${u.waiver.reason}; by ${u.waiver.by}, until ${u.waiver.until}`),
  ];
}

/** What proved the model's highest level: per sample and item, each passing check with its facts. */
function proofLines(l: ModelLevelResult | undefined): string[] {
  if (!l?.proofs.length) return [];
  const out: string[] = [];
  let last = '';
  for (const p of l.proofs) {
    const head = `    proven on ${p.sample} (${p.release}):`;
    if (head !== last) out.push((last = head));
    out.push(`      ${p.capability}${p.item ? ` ${p.item}` : ''}: ${p.checks.map((c) => checkProofText(c)).join('; ')}`);
  }
  return out;
}

export function formatVendor(v: VendorVerdict): string[] {
  const lines = [`${v.vendor}: ${levelLabel(v.level, v.levelName)}`];
  lines.push(`  levels: ${v.levels.map((l) => `${l.level} ${l.met ? 'met' : 'not met'}`).join(', ')}`);
  for (const m of v.models) {
    const tag = v.modelsFrom === 'program' && !m.listed ? ' (not listed for the vendor in the program)' : '';
    const seen = m.runs ? `${m.samples.length} sample${m.samples.length === 1 ? '' : 's'} (${m.samples.join(', ')}), release${m.releases.length === 1 ? '' : 's'} ${m.releases.join(', ')}` : 'no runs';
    lines.push(`  model ${m.model}: ${levelLabel(m.level, m.levelName)}; ${seen}${tag}`);
    lines.push(...proofLines(m.levels.find((l) => l.level === m.level)));
  }
  if (v.modelsFrom === 'runs') lines.push(`  (the program lists no models for ${v.vendor}: "every model" means the models of these runs)`);
  if (v.next) {
    lines.push(`  missing for level ${v.next.level} (${v.next.name}):`);
    for (const m of v.next.missing) {
      lines.push(`    ${m.line}`);
      for (const d of m.details) lines.push(`      ${d}`);
    }
  } else lines.push('  every level of the program is met');
  lines.push(...waiverLines('waived', v.waived), ...waiverLines('expired waivers (not counted)', v.expiredWaivers));
  return lines;
}

export function formatVerdict(v: Verdict): string {
  const head = `${v.program}${v.revision ? ` (revision ${v.revision})` : ''}: ${v.runs} run${v.runs === 1 ? '' : 's'}, current release ${v.currentRelease ?? 'none'}`;
  return [head, '', ...v.vendors.flatMap((x) => [...formatVendor(x), ''])].join('\n').trimEnd();
}
