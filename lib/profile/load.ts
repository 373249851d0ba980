// Load and validate a profile: YAML → zod, every problem reported at once as `file:line:col: path.to.field: message`
// (positions from the YAML source, so an engineer jumps straight to the line). Rules that span fields (a virtual
// box needs virtual power and media; a real box needs an SSH host) are checked here too.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { profileSchema, type Profile } from './schema.ts';

export interface ProfileProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export class ProfileError extends ConfigError {
  readonly problems: ProfileProblem[];
  constructor(problems: ProfileProblem[]) {
    super(problems.map(formatProblem).join('\n'), { where: problems[0]?.file });
    this.problems = problems;
  }
}

export function formatProblem(p: ProfileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path || '(top level)'}: ${p.message}`;
}

export interface LoadedProfile {
  file: string;
  /** The folder relative secret files and images are resolved from. */
  dir: string;
  profile: Profile;
  /** sha256 of the file's bytes: recorded in results so a verdict names the exact profile. */
  source: string;
}

type Path = Array<string | number>;

/**
 * The source position of the node at `p`. For a field that is missing, the key of its parent (where the field
 * belongs); for an unknown key, the key itself; otherwise the value.
 */
function positionOf(doc: Document, lc: LineCounter, p: Path, key?: string): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  let parentKey = offset;
  const steps: Path = key === undefined ? p : [...p, key];
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    if (isMap(node)) {
      const pair = node.items.find((it) => (it.key as { value?: unknown } | null)?.value === step);
      if (!pair) return lc.linePos(parentKey);
      const keyNode = pair.key as Node | null;
      const target = (i === steps.length - 1 && key !== undefined ? keyNode : ((pair.value as Node | null) ?? keyNode)) as Node | null;
      if (target?.range) offset = target.range[0];
      if (keyNode?.range) parentKey = keyNode.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined;
      if (!item) return lc.linePos(parentKey);
      if (item.range) offset = parentKey = item.range[0];
      node = item;
    } else break;
  }
  return lc.linePos(offset);
}

function dotted(p: Path): string {
  return p.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const input = (issue as { input?: unknown }).input;
    if (input === undefined) return `missing required field (${issue.expected})`;
    return `wrong type: expected ${issue.expected}, got ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input}`;
  }
  if (issue.code === 'invalid_value') return `bad value: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return `bad value: ${issue.message}`;
  }
  return issue.message;
}

/** Parse and validate profile text. Throws ProfileError listing every problem. */
export function parseProfile(text: string, file: string): Profile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: ProfileProblem[] = [];
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${e.message.split('\n')[0]}` });
  }
  if (problems.length) throw new ProfileError(problems);
  const data = doc.toJS() as unknown;
  const r = profileSchema.safeParse(data, { reportInput: true });
  if (!r.success) {
    for (const issue of r.error.issues) {
      const p = issue.path as Path;
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) {
          const pos = positionOf(doc, lc, p, k);
          problems.push({ file, ...pos, path: dotted([...p, k]), message: 'unknown field' });
        }
        continue;
      }
      problems.push({ file, ...positionOf(doc, lc, p), path: dotted(p), message: issueMessage(issue) });
    }
    throw new ProfileError(problems.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  const profile = r.data;
  for (const c of crossFieldProblems(profile)) problems.push({ file, ...positionOf(doc, lc, c.path), path: dotted(c.path), message: c.message });
  if (problems.length) throw new ProfileError(problems);
  return profile;
}

function crossFieldProblems(p: Profile): Array<{ path: Path; message: string }> {
  const out: Array<{ path: Path; message: string }> = [];
  const virtual = p.box.kind === 'virtual';
  const pairs: Array<[Path, string]> = [
    [['console', 'link', 'type'], p.console.link.type],
    [['power', 'type'], p.power.type],
    [['media', 'type'], p.media.type],
  ];
  for (const [where, type] of pairs) {
    if (virtual && type !== 'virtual') out.push({ path: where, message: `a virtual box (box.kind: virtual) needs type: virtual here, not ${type}` });
    if (!virtual && type === 'virtual') out.push({ path: where, message: 'type virtual is only for virtual boxes (box.kind: virtual)' });
  }
  if (virtual && !p.virtual) out.push({ path: ['box', 'kind'], message: 'a virtual box needs a virtual: section (memory, target disk, defects)' });
  if (!virtual && p.virtual) out.push({ path: ['virtual'], message: 'only virtual boxes (box.kind: virtual) have a virtual: section' });
  if (!virtual && !p.ssh.host) out.push({ path: ['ssh'], message: 'a real box needs ssh.host (its address on the lab network)' });
  if (!virtual && !p.ssh.hostKey) out.push({ path: ['ssh'], message: 'a real box needs ssh.hostKey: {fingerprint: SHA256:...} or {recordTo: FILE}' });
  const declared = new Set<string>([
    ...p.hardware.ethernet.map((e) => `ethernet.${e.name}`),
    ...p.hardware.usb.map((u) => `usb.${u.name}`),
    ...p.hardware.storage.map((s) => `storage.${s.name}`),
    ...(p.hardware.watchdog ? ['watchdog'] : []),
    ...(p.hardware.tpm ? ['tpm'] : []),
  ]);
  p.virtual?.defects.forEach((d, i) => {
    const item = 'omit' in d ? d.omit : 'unplug' in d ? d.unplug : 'watchdog';
    if (!declared.has(item)) out.push({ path: ['virtual', 'defects', i], message: `${item} is not declared under hardware:, so it cannot be seeded as a defect` });
  });
  const seen = new Set<string>();
  for (const [kind, list] of [['ethernet', p.hardware.ethernet], ['usb', p.hardware.usb], ['cellular', p.hardware.cellular], ['storage', p.hardware.storage]] as const) {
    list.forEach((item, i) => {
      const k = `${kind}.${item.name}`;
      if (seen.has(k)) out.push({ path: ['hardware', kind, i, 'name'], message: `duplicate name ${item.name}` });
      seen.add(k);
    });
  }
  return out;
}

export function loadProfile(file: string): LoadedProfile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ConfigError(`cannot read profile ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { where: file });
  }
  const profile = parseProfile(bytes.toString('utf8'), file);
  return { file, dir: path.dirname(path.resolve(file)), profile, source: createHash('sha256').update(bytes).digest('hex') };
}
