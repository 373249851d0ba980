// A run directory: everything one invocation on one box produces, laid out as the CLI contract says:
// results.json, junit.xml, console/<box>.log, inventory/, steps.log (and media/ for the prepared installer).
import fs from 'node:fs';
import path from 'node:path';

export interface RunDir {
  root: string;
  consoleLog: string;
  stepsLog: string;
  mediaDir: string;
  stateDir: string;
  inventoryDir: string;
  resultsFile: string;
  junitFile: string;
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
    inventoryDir: path.join(root, 'inventory'),
    resultsFile: path.join(root, 'results.json'),
    junitFile: path.join(root, 'junit.xml'),
  };
}
