// Load run directories for qualify, report and diff: results.json read and validated against the results schema,
// every problem a clear ConfigError (exit 2) naming the file, the line and column of bad JSON, or the field.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { jsonErrorOffset } from './json-position.ts';
import { RESULTS_SCHEMA_VERSION, type RunResults } from './results.ts';
import { runResultsSchema } from './results-schema.ts';

export interface LoadedRun {
  /** The run directory (attachments are relative to it). */
  dir: string;
  /** Its results.json. */
  file: string;
  results: RunResults;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}

/** Read one run: a run directory, or a results.json file. */
export function readRun(dirOrFile: string): LoadedRun {
  let file = path.resolve(dirOrFile);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new ConfigError(`${dirOrFile}: no such run directory or results file`, { where: dirOrFile });
  }
  if (stat.isDirectory()) file = path.join(file, 'results.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${dirOrFile}: not a run directory (no results.json: the run recorded no result, or this is not a run)`
        : `${file}: cannot read: ${(e as Error).message}`,
      { where: file },
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const offset = jsonErrorOffset(text);
    const at = lineCol(text, offset >= 0 ? offset : Number(/position (\d+)/.exec(msg)?.[1] ?? 0));
    // V8 quotes the text it choked on, newlines and all: one line.
    throw new ConfigError(`${file}:${at.line}:${at.col}: not valid JSON: ${text.trim() === '' ? 'empty file' : msg.replace(/\s*\n\s*/g, ' ')}`, { where: file });
  }
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > RESULTS_SCHEMA_VERSION) {
    throw new ConfigError(`${file}: results schema version ${version} is newer than this eve-qual reads (${RESULTS_SCHEMA_VERSION}): update eve-qual`, { where: file });
  }
  if (typeof version === 'number' && version < RESULTS_SCHEMA_VERSION) {
    // Version 1 named its tests by their titles, which the verdict cannot trust; guessing identities would be worse.
    throw new ConfigError(`${file}: results schema version ${version} was written by an eve-qual whose test identities were titles, not data; re-run the box to judge it`, { where: file });
  }
  const r = runResultsSchema.safeParse(data);
  if (!r.success) {
    const problems = r.error.issues
      .slice(0, 20)
      .map((i) => `${file}: ${i.path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${String(s)}` : String(s)), '') || '(top level)'}: ${i.message}`);
    if (r.error.issues.length > 20) problems.push(`${file}: ... and ${r.error.issues.length - 20} more problems`);
    // The first problem on the line that says what this is: one problem, one line.
    throw new ConfigError(`not a valid results.json (schema ${RESULTS_SCHEMA_VERSION}): ${problems.join('\n')}`, { where: file });
  }
  return { dir: path.dirname(file), file, results: r.data };
}

/** Read runs named on a command line: each a run directory, a results.json, or a directory of run directories
 * (every subdirectory holding a results.json, e.g. `runs/`). The same run named twice is read once. */
export function readRuns(paths: string[]): LoadedRun[] {
  const out: LoadedRun[] = [];
  const seen = new Set<string>();
  const add = (r: LoadedRun) => {
    if (seen.has(r.file)) return;
    seen.add(r.file);
    out.push(r);
  };
  for (const p of paths) {
    const abs = path.resolve(p);
    const isDir = fs.existsSync(abs) && fs.statSync(abs).isDirectory();
    if (isDir && !fs.existsSync(path.join(abs, 'results.json'))) {
      const subs = fs
        .readdirSync(abs, { withFileTypes: true })
        .filter((d) => d.isDirectory() && fs.existsSync(path.join(abs, d.name, 'results.json')))
        .map((d) => path.join(abs, d.name))
        .sort();
      if (!subs.length) throw new ConfigError(`${p}: not a run directory (no results.json) and holds no run directories`, { where: p });
      for (const s of subs) add(readRun(s));
    } else add(readRun(p));
  }
  return out;
}
