// A run directory: everything one invocation on one box produces, laid out as the CLI contract says:
// results.json and junit.xml (named and written by lib/report's ResultsWriter), console/<box>.log, inventory/,
// steps.log, and media/ and state/ for the prepared installer and a virtual box's disks.
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, describeSystemError } from '../errors.ts';

export interface RunDir {
  root: string;
  consoleLog: string;
  stepsLog: string;
  mediaDir: string;
  stateDir: string;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Makes the run directory; `--out` naming a file, or a place that cannot hold a directory, is a usage error. */
export function createRunDir(boxName: string, out?: string): RunDir {
  const root = path.resolve(out ?? path.join('runs', `${stamp(new Date())}-${boxName}`));
  const flag = out !== undefined ? `--out ${out}` : `the run directory ${root}`;
  if (fs.existsSync(root) && !fs.statSync(root).isDirectory()) throw new ConfigError(`${flag}: exists and is not a directory`, { where: root });
  try {
    for (const d of ['console', 'media', 'state', 'inventory']) fs.mkdirSync(path.join(root, d), { recursive: true });
  } catch (e) {
    throw new ConfigError(`${flag}: cannot create the run directory: ${describeSystemError(e)}`, { where: root, cause: e });
  }
  return {
    root,
    consoleLog: path.join(root, 'console', `${boxName}.log`),
    stepsLog: path.join(root, 'steps.log'),
    mediaDir: path.join(root, 'media'),
    stateDir: path.join(root, 'state'),
  };
}
