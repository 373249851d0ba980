// `npm run golden [-- CASE...]`: record the golden runs (test/golden/cases.ts) from real `eve-qual run`s of the suites
// on fresh fixture boxes, one after the other (each is a VM install plus the level-2 suites: minutes each under
// TCG). A case is kept only when the run shows what the case says (every check passes and the verdict meets the
// level asked; exactly the seeded defects fail; Ctrl-C mid-suite marks it interrupted); otherwise this exits 1 naming
// why and leaves the old recording and the run directory for a look. Kept: profile.yaml, results.json, steps.log, and
// the attachments the results name (the console log without the kernel's boot chatter, inventory files cut to 8 KB):
// reports need them, tests no more. Nothing holding a private key is copied.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProgram } from '../lib/program/program.ts';
import { computeVerdict } from '../lib/program/verdict.ts';
import type { RunResults } from '../lib/report/results.ts';
import { GOLDEN_CASES, goldenCase, goldenProfileText, goldenRoot, type GoldenCase } from '../test/golden/cases.ts';
import { fixtureRelease, repoRoot } from '../test/helpers/fixture-release.ts';

/** Per run: a level-2 run under TCG on a loaded machine takes 10-20 min; past this something hangs. */
const RUN_TIMEOUT_MS = 2_400_000;
/** A console line of the kernel's log (`<time> | [   15.05] ...`), and those of it that name checked hardware. */
const KERNEL_LINE = /^\S+ \| \[\s*\d+\.\d+\] /;
const CHECKED_HARDWARE = /eth\d|usb|watchdog|i6300|tpm|e1000|virtio|kvm|iommu|smmu|oops|panic/i;
const MAX_LINE = 600;
const MAX_ATTACHMENT = 8_192;
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

function writeProfile(c: GoldenCase): string {
  const file = path.join(goldenRoot, c.name, 'profile.yaml');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, goldenProfileText(c));
  return path.relative(repoRoot, file);
}

/** Run eve-qual; for an interrupted case, SIGINT it once its output matches the case's pattern. */
async function runCase(c: GoldenCase, profile: string, release: string, out: string): Promise<{ exitCode: number | undefined; output: string }> {
  const args = ['run', '--profile', profile, '--release', release, '--out', out, ...c.args];
  console.log(`golden ${c.name}: eve-qual ${args.join(' ')}`);
  const child = execa(path.join(repoRoot, 'bin', 'eve-qual'), args, { cwd: repoRoot, reject: false, all: true, timeout: RUN_TIMEOUT_MS, forceKillAfterDelay: false });
  let output = '';
  let interrupted = false;
  child.all!.on('data', (d: Buffer) => {
    const s = d.toString();
    output += s;
    process.stdout.write(s.replace(/^(?=.)/gm, `[${c.name}] `));
    if (c.expect.kind === 'interrupted' && !interrupted && c.expect.after.test(output)) {
      interrupted = true;
      console.log(`golden ${c.name}: sending SIGINT (the output matched ${String(c.expect.after)})`);
      child.kill('SIGINT');
    }
  });
  const r = await child;
  return { exitCode: r.exitCode, output };
}

/** Why the recording may not be kept, or null. */
function refusal(c: GoldenCase, exitCode: number | undefined, res: RunResults): string | null {
  const bad = res.tests.filter((t) => t.outcome === 'fail' || t.outcome === 'error');
  const list = (ts: typeof bad) => ts.map((t) => `${t.id} ${t.outcome}: ${(t.message ?? '').split('\n')[0]}`).join('\n  ');
  if (c.expect.kind === 'passes') {
    if (exitCode !== 0 || res.status !== 'finished' || bad.length) return `expected every check to pass (exit 0, finished), got exit ${exitCode}, ${res.status}:\n  ${list(bad)}`;
    // A passing run of the level asked must meet that level in the program's own verdict.
    const vendor = computeVerdict([res], { program: loadProgram() }).vendors[0]!;
    if (res.level !== undefined && vendor.level < res.level) return `every check passed but the verdict gives level ${vendor.level}, not ${res.level}: ${vendor.next?.missing.map((m) => [m.line, ...m.details].join('; ')).join(' | ')}`;
    return null;
  }
  if (c.expect.kind === 'interrupted') {
    if (exitCode !== 130 || res.status !== 'interrupted') return `expected exit 130 and status interrupted, got exit ${exitCode}, ${res.status}`;
    if (!res.tests.some((t) => t.capability === 'ethernet')) return 'the interrupted run recorded no Ethernet result';
    return null;
  }
  const seeded = c.expect.failing;
  const isSeeded = (t: RunResults['tests'][number]) => seeded.some((s) => s.capability === t.capability && (s.item === undefined || s.item === t.item));
  const stray = bad.filter((t) => t.outcome === 'error' || !isSeeded(t));
  const unseen = seeded.filter((s) => !bad.some((t) => t.capability === s.capability && (s.item === undefined || s.item === t.item)));
  if (exitCode !== 1 || res.status !== 'finished' || stray.length || unseen.length) {
    return `expected exactly the seeded defects to fail (exit 1), got exit ${exitCode}, ${res.status}; not seeded:\n  ${list(stray)}\n  seeded but not failing: ${unseen.map((s) => `${s.capability}/${s.item ?? '*'}`).join(', ') || 'none'}`;
  }
  return null;
}

/** The console log without the kernel's boot chatter (kept: lines naming what the suites check), lines cut short. */
function trimmedConsole(text: string): string {
  const lines = text.split('\n').filter((l) => !KERNEL_LINE.test(l) || CHECKED_HARDWARE.test(l));
  return lines.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)} [… ${l.length - MAX_LINE} characters cut by npm run golden]` : l)).join('\n');
}

function trimmed(text: string): string {
  return text.length <= MAX_ATTACHMENT ? text : `${text.slice(0, MAX_ATTACHMENT)}\n[… ${text.length - MAX_ATTACHMENT} characters cut by npm run golden]\n`;
}

/** The files the golden keeps: results.json, steps.log and every attachment the results name, cut to size. */
function keptFiles(runDir: string, res: RunResults): Map<string, string> {
  const files = new Map<string, string>([['results.json', `${JSON.stringify(res, null, 2)}\n`]]);
  const named = [...res.attachments, ...res.tests.flatMap((t) => t.attachments)].map((a) => a.path);
  for (const rel of new Set(['steps.log', ...named])) {
    const abs = path.join(runDir, rel);
    if (!fs.existsSync(abs)) continue;
    const text = fs.readFileSync(abs, 'utf8');
    files.set(rel, rel.startsWith('console/') ? trimmedConsole(text) : trimmed(text));
  }
  for (const [rel, text] of files) {
    if (PRIVATE_KEY.test(text)) throw new Error(`${rel} of the run holds a private key: refusing to record it`);
  }
  return files;
}

function store(c: GoldenCase, files: Map<string, string>): void {
  const dir = path.join(goldenRoot, c.name);
  for (const entry of fs.readdirSync(dir)) if (entry !== 'profile.yaml') fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  for (const [rel, text] of files) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  }
}

async function record(c: GoldenCase, release: string): Promise<boolean> {
  const profile = writeProfile(c);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), `eq-golden-${c.name}-`));
  const started = Date.now();
  const { exitCode, output } = await runCase(c, profile, release, out);
  const resultsFile = path.join(out, 'results.json');
  if (!fs.existsSync(resultsFile)) {
    console.error(`golden ${c.name}: NOT recorded: the run wrote no results.json (exit ${exitCode}); its output ends:\n${output.slice(-3000)}`);
    return false;
  }
  const res = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as RunResults;
  const why = refusal(c, exitCode, res);
  if (why) {
    console.error(`golden ${c.name}: NOT recorded: ${why}\n  the run directory is kept: ${out}`);
    return false;
  }
  store(c, keptFiles(out, res));
  fs.rmSync(out, { recursive: true, force: true });
  const n = (o: string) => res.tests.filter((t) => t.outcome === o).length;
  console.log(`golden ${c.name}: recorded test/golden/${c.name} in ${Math.round((Date.now() - started) / 1000)} s: ${res.tests.length} tests, ${n('pass')} pass, ${n('fail')} fail, ${n('error')} error, ${n('skip')} skip (${res.status})`);
  return true;
}

async function main(): Promise<number> {
  const names = process.argv.slice(2);
  if (names.includes('--help')) {
    console.log(`Usage: npm run golden [-- CASE...]   (cases: ${GOLDEN_CASES.map((c) => c.name).join(', ')}; default all)\nRecords each case from a real eve-qual run into test/golden/<case>/ (minutes per case under TCG).`);
    return 0;
  }
  const cases = names.length ? names.map(goldenCase) : GOLDEN_CASES;
  console.log(`golden: building the fixture release if stale, then recording ${cases.map((c) => c.name).join(', ')} one after the other`);
  const release = await fixtureRelease();
  const failed: string[] = [];
  for (const c of cases) {
    const ok = await record(c, release).catch((e: unknown) => {
      console.error(`golden ${c.name}: NOT recorded: ${(e as Error).message}`);
      return false;
    });
    if (!ok) failed.push(c.name);
  }
  if (failed.length) console.error(`golden: NOT recorded: ${failed.join(', ')} (see above); the others were`);
  else console.log('golden: all recorded; check `git diff --stat test/golden` and commit test/golden');
  return failed.length ? 1 : 0;
}

process.exitCode = await main();
