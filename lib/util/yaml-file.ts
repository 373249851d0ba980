// Load a YAML data file against a zod schema and report every problem at once as `file:line:col: path: message`,
// with positions from the YAML source, so an engineer jumps straight to the line. Used for profiles, the program
// and the waivers file.
import fs from 'node:fs';
import { isAlias, isMap, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';

export interface DataFileProblem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export type DataPath = Array<string | number>;

export class DataFileError extends ConfigError {
  readonly problems: DataFileProblem[];
  constructor(problems: DataFileProblem[]) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.col}: ${p.path || '(top level)'}: ${p.message}`).join('\n'), { where: problems[0]?.file });
    this.problems = problems;
  }
}

/**
 * The source position of the node at `p`. For a field that is missing, the key of its parent (where the field
 * belongs); for an unknown key, the key itself; otherwise the value.
 */
function positionOf(doc: Document, lc: LineCounter, p: DataPath, key?: string): { line: number; col: number } {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0] ?? 0;
  let parentKey = offset;
  const steps: DataPath = key === undefined ? p : [...p, key];
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

export function dottedPath(p: DataPath): string {
  return p.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const input = (issue as { input?: unknown }).input;
    if (input === undefined) return `missing required field (${issue.expected})`;
    return `wrong type: expected ${issue.expected}, got ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input}`;
  }
  if (issue.code === 'invalid_value') return `bad value: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return issue.message;
}

/** Rules across fields, checked after the schema: each names the path it is about. */
export type CrossCheck<T> = (data: T) => Array<{ path: DataPath; message: string }>;

/** The yaml library's bound on alias expansion (its default): a document that expands past it is refused. */
const MAX_ALIAS_COUNT = 100;

/** The document as plain data; an alias bomb (aliases expanding past the bound) is a problem at its first alias. */
function toData(doc: Document, lc: LineCounter, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let at = 0;
    visit(doc, { Alias: (_k, n) => (isAlias(n) && n.range ? ((at = n.range[0]), visit.BREAK) : undefined) });
    const pos = lc.linePos(at);
    throw new DataFileError([{ file, line: pos.line, col: pos.col, path: '', message: `YAML: its aliases expand past ${MAX_ALIAS_COUNT} nodes (${e.message})` }]);
  }
}

/** `what` names the file in words (the profile, the program): an empty one is told so. */
export function parseYamlFile<T>(text: string, file: string, schema: z.ZodType<T>, cross?: CrossCheck<T>, what = 'file'): T {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  // The first syntax error only: the parser's later ones mostly follow from it, and one line is what a person fixes.
  const first = doc.errors[0];
  if (first) {
    const pos = lc.linePos(first.pos[0]);
    throw new DataFileError([{ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${first.message.split('\n')[0]}` }]);
  }
  if (doc.contents === null) throw new DataFileError([{ file, line: 1, col: 1, path: '', message: `the ${what} is empty (no YAML document in it)` }]);
  const problems: DataFileProblem[] = [];
  const r = schema.safeParse(toData(doc, lc, file), { reportInput: true });
  if (!r.success) {
    for (const issue of r.error.issues) {
      const p = issue.path as DataPath;
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push({ file, ...positionOf(doc, lc, p, k), path: dottedPath([...p, k]), message: 'unknown field' });
        continue;
      }
      problems.push({ file, ...positionOf(doc, lc, p), path: dottedPath(p), message: issueMessage(issue) });
    }
    throw new DataFileError(problems.sort((a, b) => a.line - b.line || a.col - b.col));
  }
  for (const c of cross?.(r.data) ?? []) problems.push({ file, ...positionOf(doc, lc, c.path), path: dottedPath(c.path), message: c.message });
  if (problems.length) throw new DataFileError(problems.sort((a, b) => a.line - b.line || a.col - b.col));
  return r.data;
}

export function loadYamlFile<T>(file: string, what: string, schema: z.ZodType<T>, cross?: CrossCheck<T>): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`cannot read ${what} ${file}: ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { where: file });
  }
  return parseYamlFile(text, file, schema, cross, what);
}
