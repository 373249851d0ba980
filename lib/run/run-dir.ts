// A run directory: everything one invocation on one box produces, laid out as the CLI contract says:
// results.json and junit.xml (named and written by lib/report's ResultsWriter), console/<box>.log, inventory/,
// steps.log, and media/ and state/ for the prepared installer and a virtual box's disks.
import fs from 'node:fs';
import path from 'node:path';

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

export function createRunDir(boxName: string, out?: string): RunDir {
  const root = path.resolve(out ?? path.join('runs', `${stamp(new Date())}-${boxName}`));
  for (const d of ['console', 'media', 'state', 'inventory']) fs.mkdirSync(path.join(root, d), { recursive: true });
  return {
    root,
    consoleLog: path.join(root, 'console', `${boxName}.log`),
    stepsLog: path.join(root, 'steps.log'),
    mediaDir: path.join(root, 'media'),
    stateDir: path.join(root, 'state'),
  };
}
