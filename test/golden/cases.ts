// The golden runs: real `eve-qual run`s of the suites on the fixture boxes, recorded by `npm run golden`
// (tools/golden.ts) into test/golden/<case>/ and read by the report and verdict tests through golden.ts. Each case is
// a profile (a hardware profile with text edits, stored beside its results as profile.yaml), the run's options, and
// what the recording must show to be kept (a recording that does not is refused, the old one left in place).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Capability } from '../../lib/report/results.ts';

export const goldenRoot = path.dirname(fileURLToPath(import.meta.url));
const profilesDir = path.join(goldenRoot, '..', '..', 'hardware-profiles');

export type GoldenCaseName = 'amd64-level2' | 'amd64-defects' | 'amd64-interrupted' | 'arm64-level2';

export interface GoldenCase {
  name: GoldenCaseName;
  /** A file of hardware-profiles/. */
  baseProfile: string;
  /** Text replacements applied to it (each must change something). */
  edits: Array<[string | RegExp, string]>;
  /** Options of `eve-qual run` besides --profile, --release and --out. */
  args: string[];
  /** What the run must show: every check passes; exactly the seeded defects' items fail; or Ctrl-C mid-suite. */
  expect: { kind: 'passes' } | { kind: 'defects'; failing: Array<{ capability: Capability; item?: string }> } | { kind: 'interrupted'; after: RegExp };
}

const OPERATOR = ['--operator', 'LF Edge lab', '--role', 'owner'];

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'amd64-level2', baseProfile: 'qemu-amd64.yaml', edits: [], args: ['--level', '2', ...OPERATOR], expect: { kind: 'passes' } },
  {
    name: 'amd64-defects',
    baseProfile: 'qemu-amd64.yaml',
    // The defects of test/suites/level-run.test.ts: the VM lacks eth1 and stick0, and its watchdog never resets.
    edits: [
      // a short margin: the never-resetting watchdog is given up on sooner
      [/(?<head>watchdog: \{[^}]*marginSeconds: )\d+/, '$<head>30'],
      ['  defects: []', '  defects:\n    - { omit: ethernet.eth1 }\n    - { omit: usb.stick0 }\n    - { watchdogNeverResets: true }'],
    ],
    args: ['--level', '2', ...OPERATOR],
    expect: { kind: 'defects', failing: [{ capability: 'ethernet', item: 'eth1' }, { capability: 'usb', item: 'stick0' }, { capability: 'watchdog' }] },
  },
  // Ctrl-C once the Ethernet suite has recorded its first result: install, inventory and part of ethernet are kept.
  { name: 'amd64-interrupted', baseProfile: 'qemu-amd64.yaml', edits: [], args: ['--level', '2', ...OPERATOR], expect: { kind: 'interrupted', after: /^\s+\S ethernet\//m } },
  { name: 'arm64-level2', baseProfile: 'qemu-arm64.yaml', edits: [], args: ['--level', '2', ...OPERATOR], expect: { kind: 'passes' } },
];

export function goldenCase(name: string): GoldenCase {
  const c = GOLDEN_CASES.find((x) => x.name === name);
  if (!c) throw new Error(`no golden case ${name} (one of ${GOLDEN_CASES.map((x) => x.name).join(', ')})`);
  return c;
}

/** The text of the case's profile.yaml: the hardware profile as it is today, with the case's edits. */
export function goldenProfileText(c: GoldenCase): string {
  let text = fs.readFileSync(path.join(profilesDir, c.baseProfile), 'utf8');
  for (const [from, to] of c.edits) {
    const edited = text.replace(from, to);
    if (edited === text) throw new Error(`golden case ${c.name}: the edit ${String(from)} changes nothing in hardware-profiles/${c.baseProfile}: update test/golden/cases.ts`);
    text = edited;
  }
  return `# Golden case ${c.name}: hardware-profiles/${c.baseProfile} with the edits of test/golden/cases.ts (written by npm run golden).\n${text}`;
}
