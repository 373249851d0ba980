// Realistic RunResults for report and verdict tests: the tests the suites run on the virtual box of
// hardware-profiles/qemu-amd64.yaml, with the step timeline and console lines of a real install run on it
// (fixtures/qemu-amd64-steps.log and fixtures/qemu-amd64-console.log, copied from a run directory), and options to
// make any box, sample, release, operator and outcome a verdict test needs.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Capability, Outcome, RunResults, StepResult, TestResult } from '../../lib/report/results.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const fixtureConsoleLog = path.join(here, 'fixtures', 'qemu-amd64-console.log');
export const fixtureStepsLog = path.join(here, 'fixtures', 'qemu-amd64-steps.log');

/** The console text of the fixture log (the `| ` lines, raw: ANSI sequences and CRs included). */
export function fixtureConsoleLines(): string[] {
  return fs
    .readFileSync(fixtureConsoleLog, 'utf8')
    .split('\n')
    .filter((l) => l.includes(' | '))
    .map((l) => l.slice(l.indexOf(' | ') + 3));
}

function linesMatching(re: RegExp, around = 3): string {
  const lines = fixtureConsoleLines();
  const i = lines.findIndex((l) => re.test(l));
  return lines.slice(Math.max(0, i - around), i < 0 ? around : i + around + 1).join('\n');
}

/** steps.log of the real install run, as StepResults (start from the `start` line, duration to the end line). */
export function fixtureSteps(): StepResult[] {
  const out: StepResult[] = [];
  const starts = new Map<string, string>();
  for (const line of fs.readFileSync(fixtureStepsLog, 'utf8').split('\n')) {
    const st = /^(\S+) start (.+)$/.exec(line);
    if (st) {
      starts.set(st[2]!, st[1]!);
      continue;
    }
    const m = /^(\S+) (ok|failed|error) (.+) (\d+(?:\.\d+)?)s(?: (.*))?$/.exec(line);
    if (!m) continue;
    const start = starts.get(m[3]!) ?? new Date(Date.parse(m[1]!) - Number(m[4]) * 1000).toISOString();
    const durationMs = Date.parse(m[1]!) - Date.parse(start);
    out.push({ name: m[3]!, start, durationMs, outcome: m[2] as StepResult['outcome'], ...(m[5] ? { detail: m[5] } : {}) });
  }
  return out;
}

interface TestTemplate {
  capability: Capability;
  name: string;
  item?: string;
  ms: number;
  excerpt?: RegExp;
  message?: string;
}

/** What the suites check on qemu-amd64 (declared: eth0, eth1, stick0, watchdog, tpm, disk0). */
export const QEMU_AMD64_TESTS: TestTemplate[] = [
  { capability: 'install', name: 'installer writes EVE to vda', ms: 23_700, excerpt: /Installing EVE-OS on device vda/ },
  { capability: 'install', name: 'installer powers the box off when done', ms: 5_000, excerpt: /NOTICE: Device will now power off/ },
  { capability: 'boot', name: 'installed system boots to the EVE banner', ms: 24_000, excerpt: /Edge Virtualization Engine/ },
  { capability: 'boot', name: 'release on the box is the release installed', ms: 60, excerpt: /0\.0\.0-fixture-kvm-amd64/ },
  { capability: 'console', name: 'login on ttyS0 gives a shell', ms: 2_100, excerpt: /BusyBox v1/ },
  { capability: 'remote-shell', name: 'SSH answers with the run key', ms: 410 },
  { capability: 'ethernet', item: 'eth0', name: 'eth0 has carrier', ms: 300, excerpt: /virtio_net|eth0/ },
  { capability: 'ethernet', item: 'eth0', name: 'eth0 gets a DHCP address', ms: 4_200 },
  { capability: 'ethernet', item: 'eth1', name: 'eth1 has carrier', ms: 280, excerpt: /e1000 0000:00:04.0 eth1/ },
  { capability: 'ethernet', item: 'eth1', name: 'eth1 gets a DHCP address', ms: 3_900 },
  { capability: 'usb', item: 'stick0', name: 'stick0 is enumerated as 46f4:0001', ms: 150, excerpt: /SerialNumber: stick0/ },
  { capability: 'usb', item: 'stick0', name: 'stick0 reads back what was written', ms: 2_600 },
  { capability: 'watchdog', name: 'i6300esb resets a box that stops feeding it', ms: 71_000 },
  { capability: 'tpm', name: 'TPM 2.0 answers', ms: 900, excerpt: /2\.0 TPM/ },
  { capability: 'storage', item: 'disk0', name: 'disk0 is vda of 2 GB', ms: 120 },
  { capability: 'cellular', name: 'modems register', ms: 0 },
  { capability: 'wifi', name: 'Wi-Fi adapters scan', ms: 0 },
  { capability: 'virtualization', name: 'CPU virtualization extensions are on', ms: 0 },
  { capability: 'inventory', name: 'hardware inventory is collected', ms: 3_300 },
];

export const QEMU_AMD64_DECLARED: NonNullable<RunResults['declared']> = {
  install: [],
  boot: [],
  console: [],
  'remote-shell': [],
  ethernet: ['eth0', 'eth1'],
  usb: ['stick0'],
  watchdog: [],
  tpm: [],
  storage: ['disk0'],
};

export type OutcomeOverride = Outcome | { outcome: Outcome; reason?: TestResult['reason']; message?: string; attempts?: TestResult['attempts']; consoleExcerpt?: string };

export interface SampleRunOptions {
  vendor?: string;
  model?: string;
  sample?: string;
  boxName?: string;
  release?: string;
  role?: 'owner' | 'partner';
  organisation?: string;
  runId?: string;
  /** Start of the run (default: the real run's start). */
  start?: string;
  level?: number;
  status?: RunResults['status'];
  /** Outcome per test id (`capability/name`); the rest pass (or skip not-declared when undeclared). */
  outcomes?: Record<string, OutcomeOverride>;
  /** Test ids left out (not run). */
  omit?: string[];
  /** Only these capabilities' tests. */
  only?: Capability[];
  declared?: RunResults['declared'] | null;
  extraTests?: TestResult[];
}

export function testId(t: { capability: Capability; name: string }): string {
  return `${t.capability}/${t.name}`;
}

export function sampleRun(o: SampleRunOptions = {}): RunResults {
  const steps = fixtureSteps();
  const start = o.start ?? '2026-11-24T21:17:08.124Z';
  const shift = Date.parse(start) - Date.parse(steps[0]!.start);
  const shifted = steps.map((s) => ({ ...s, start: new Date(Date.parse(s.start) + shift).toISOString() }));
  const declared = o.declared === null ? undefined : (o.declared ?? QEMU_AMD64_DECLARED);
  const boxName = o.boxName ?? 'qemu-amd64';
  let clock = Date.parse(shifted[shifted.length - 1]!.start) + shifted[shifted.length - 1]!.durationMs;
  const tests: TestResult[] = [];
  for (const t of QEMU_AMD64_TESTS) {
    const id = testId(t);
    if (o.omit?.includes(id) || (o.only && !o.only.includes(t.capability))) continue;
    const isDeclared = t.capability === 'inventory' || (declared ? t.capability in declared : !['cellular', 'wifi', 'virtualization'].includes(t.capability));
    const ov = o.outcomes?.[id];
    const spec = typeof ov === 'string' ? { outcome: ov } : ov;
    const outcome: Outcome = spec?.outcome ?? (isDeclared ? 'pass' : 'skip');
    const result: TestResult = {
      id,
      capability: t.capability,
      name: t.name,
      ...(t.item ? { item: t.item } : {}),
      outcome,
      start: new Date(clock).toISOString(),
      durationMs: outcome === 'skip' ? 0 : t.ms,
      attempts: spec?.attempts ?? [],
      attachments: t.capability === 'inventory' ? [{ name: 'inventory', path: 'inventory/lshw.json' }] : [],
    };
    if (outcome === 'skip') {
      result.reason = spec?.reason ?? 'not-declared';
      result.message = spec?.message ?? `the profile declares no ${t.capability}`;
    } else if (outcome === 'fail') {
      result.reason = spec?.reason ?? 'box';
      result.message = spec?.message ?? `${t.item ?? t.capability}: ${t.name} did not hold`;
    } else if (outcome === 'error') {
      result.reason = spec?.reason ?? 'lab';
      result.message = spec?.message ?? 'timed out after 30 s waiting for the SSH shell on 127.0.0.1 (lab: link down)';
    }
    const excerpt = spec?.consoleExcerpt ?? (t.excerpt ? linesMatching(t.excerpt) : undefined);
    if (excerpt && outcome !== 'skip') result.consoleExcerpt = excerpt;
    if (outcome === 'pass' && t.item) result.facts = { item: t.item };
    tests.push(result);
    clock += result.durationMs + 50;
  }
  tests.push(...(o.extraTests ?? []));
  const sample = o.sample ?? 'VM-AMD64-0001';
  return {
    schemaVersion: 1,
    runId: o.runId ?? `${start.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${boxName}-${sample}`,
    status: o.status ?? 'finished',
    box: { name: boxName, vendor: o.vendor ?? 'QEMU', model: o.model ?? 'q35-ovmf', arch: 'amd64', sample, kind: 'virtual' },
    release: {
      version: o.release ?? '0.0.0-fixture',
      eveRelease: `${o.release ?? '0.0.0-fixture'}-kvm-amd64`,
      installer: 'amd64.kvm.generic.installer.raw',
      sha256: 'b1946ac92492d2347c6235b4d2611184e0f3d0b1c1b1a1b1c1d1e1f101112131',
    },
    operator: { organisation: o.organisation ?? (o.role === 'partner' ? 'QEMU Partner Lab' : 'EVE Program Lab'), role: o.role ?? 'owner' },
    ...(o.level !== undefined ? { level: o.level } : {}),
    evequal: { version: '0.1.0', revision: '5501fe0abcde' },
    profile: { file: 'hardware-profiles/qemu-amd64.yaml', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
    start,
    ...(o.status === 'running' ? {} : { end: new Date(clock).toISOString() }),
    steps: shifted,
    tests,
    attachments: [
      { name: 'console', path: `console/${boxName}.log` },
      { name: 'steps', path: 'steps.log' },
    ],
    ...(declared ? { declared } : {}),
    program: 'EVE-OS hardware qualification',
  };
}

/** Write a run directory as a run leaves it: results.json, the console log and steps.log, inventory. */
export function writeRunDir(dir: string, results: RunResults): string {
  fs.mkdirSync(path.join(dir, 'console'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'inventory'), { recursive: true });
  fs.copyFileSync(fixtureConsoleLog, path.join(dir, 'console', `${results.box.name}.log`));
  fs.copyFileSync(fixtureStepsLog, path.join(dir, 'steps.log'));
  fs.writeFileSync(path.join(dir, 'inventory', 'lshw.json'), '{"class":"system","product":"Standard PC (Q35 + ICH9, 2009)"}\n');
  fs.writeFileSync(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  return dir;
}
