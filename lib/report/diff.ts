// What changed between two runs of the same box (typically two releases): tests matched by id.
//   regressed   passed in A, failed in B (the box got worse)
//   fixed       failed in A, passed in B
//   new failure a check B ran that A did not, failing
//   unchecked   checked (pass or fail) in A, an error in B: B cannot tell (re-run), not a regression
//   still failing, added, removed, other outcome changes (skip reasons, errors) are listed too;
// steps that got worse (ok → failed/error) or much slower (≥ 1.5× and ≥ 10 s more) are regressions of the run.
import { ConfigError } from '../errors.ts';
import type { RunResults, StepResult, TestResult } from './results.ts';

export interface TestChange {
  id: string;
  capability: TestResult['capability'];
  name: string;
  a: TestResult['outcome'] | null;
  b: TestResult['outcome'] | null;
  /** B's message (or A's when B has none). */
  message?: string;
}

export interface StepChange {
  name: string;
  a: { outcome: StepResult['outcome']; durationMs: number } | null;
  b: { outcome: StepResult['outcome']; durationMs: number } | null;
  kind: 'worse' | 'better' | 'slower' | 'faster';
}

export interface RunDiff {
  a: { runId: string; release: string; sample: string; start: string };
  b: { runId: string; release: string; sample: string; start: string };
  box: { vendor: string; model: string };
  notes: string[];
  regressed: TestChange[];
  fixed: TestChange[];
  newFailures: TestChange[];
  stillFailing: TestChange[];
  unchecked: TestChange[];
  added: TestChange[];
  removed: TestChange[];
  otherChanges: TestChange[];
  steps: StepChange[];
  unchanged: number;
}

const SLOWER_RATIO = 1.5;
const SLOWER_MIN_MS = 10_000;

export function diffRuns(a: RunResults, b: RunResults): RunDiff {
  if (a.box.vendor !== b.box.vendor || a.box.model !== b.box.model) {
    throw new ConfigError(
      `eve-qual diff compares two runs of the same box: A is ${a.box.vendor} ${a.box.model} (${a.box.sample}), B is ${b.box.vendor} ${b.box.model} (${b.box.sample})`,
    );
  }
  const notes: string[] = [];
  if (a.box.sample !== b.box.sample) notes.push(`different samples of ${a.box.model}: ${a.box.sample} (A) and ${b.box.sample} (B)`);
  if (a.profile.sha256 !== b.profile.sha256) notes.push(`the profile differs (${a.profile.file} sha256 ${a.profile.sha256.slice(0, 12)}… vs ${b.profile.file} sha256 ${b.profile.sha256.slice(0, 12)}…)`);
  if (a.status !== 'finished') notes.push(`run A did not finish (${a.status})`);
  if (b.status !== 'finished') notes.push(`run B did not finish (${b.status}): tests it did not reach show as removed`);

  const byId = (r: RunResults) => new Map(r.tests.map((t) => [t.id, t]));
  const ta = byId(a);
  const tb = byId(b);
  const d: RunDiff = {
    a: { runId: a.runId, release: a.release.version, sample: a.box.sample, start: a.start },
    b: { runId: b.runId, release: b.release.version, sample: b.box.sample, start: b.start },
    box: { vendor: a.box.vendor, model: a.box.model },
    notes,
    regressed: [],
    fixed: [],
    newFailures: [],
    stillFailing: [],
    unchecked: [],
    added: [],
    removed: [],
    otherChanges: [],
    steps: [],
    unchanged: 0,
  };
  const ids = [...new Set([...ta.keys(), ...tb.keys()])];
  for (const id of ids) {
    const x = ta.get(id);
    const y = tb.get(id);
    const t = (y ?? x)!;
    const message = y?.message ?? x?.message;
    const c: TestChange = { id, capability: t.capability, name: t.name, a: x?.outcome ?? null, b: y?.outcome ?? null, ...(message ? { message } : {}) };
    const checked = (o: string | null) => o === 'pass' || o === 'fail';
    if (!x) (y!.outcome === 'fail' ? d.newFailures : d.added).push(c);
    else if (!y) d.removed.push(c);
    else if (x.outcome === 'pass' && y.outcome === 'fail') d.regressed.push(c);
    else if (x.outcome === 'fail' && y.outcome === 'pass') d.fixed.push(c);
    else if (x.outcome === 'fail' && y.outcome === 'fail') d.stillFailing.push(c);
    else if (checked(x.outcome) && (y.outcome === 'error' || (y.outcome === 'skip' && y.reason === 'not-run'))) d.unchecked.push(c);
    else if (x.outcome !== y.outcome || x.reason !== y.reason) {
      // A check that was an error or a skip in A and fails in B is a failure B found.
      (y.outcome === 'fail' ? d.newFailures : d.otherChanges).push(c);
    } else d.unchanged++;
  }

  const sa = new Map(a.steps.map((s) => [s.name, s]));
  for (const s of b.steps) {
    const p = sa.get(s.name);
    if (!p) continue;
    const pa = { outcome: p.outcome, durationMs: p.durationMs };
    const pb = { outcome: s.outcome, durationMs: s.durationMs };
    if (p.outcome === 'ok' && s.outcome !== 'ok') d.steps.push({ name: s.name, a: pa, b: pb, kind: 'worse' });
    else if (p.outcome !== 'ok' && s.outcome === 'ok') d.steps.push({ name: s.name, a: pa, b: pb, kind: 'better' });
    else if (s.durationMs >= p.durationMs * SLOWER_RATIO && s.durationMs - p.durationMs >= SLOWER_MIN_MS) d.steps.push({ name: s.name, a: pa, b: pb, kind: 'slower' });
    else if (p.durationMs >= s.durationMs * SLOWER_RATIO && p.durationMs - s.durationMs >= SLOWER_MIN_MS) d.steps.push({ name: s.name, a: pa, b: pb, kind: 'faster' });
  }
  return d;
}

/** Regressions: tests that passed and now fail, new failures, and steps that got worse or much slower. */
export function hasRegressions(d: RunDiff): boolean {
  return d.regressed.length + d.newFailures.length + d.steps.filter((s) => s.kind === 'worse' || s.kind === 'slower').length > 0;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatDiff(d: RunDiff): string {
  const out = [
    `${d.box.vendor} ${d.box.model}: A = ${d.a.sample} on ${d.a.release} (${d.a.runId}), B = ${d.b.sample} on ${d.b.release} (${d.b.runId})`,
    ...d.notes.map((n) => `note: ${n}`),
  ];
  const list = (title: string, cs: TestChange[], show = (c: TestChange) => `${c.a ?? 'absent'} → ${c.b ?? 'absent'}`) => {
    if (!cs.length) return;
    out.push('', `${title} (${cs.length}):`);
    for (const c of cs) out.push(`  ${c.id}: ${show(c)}${c.message && c.b !== 'pass' ? `: ${c.message.split('\n')[0]}` : ''}`);
  };
  list('Regressed', d.regressed);
  list('New failures', d.newFailures);
  const worse = d.steps.filter((s) => s.kind === 'worse' || s.kind === 'slower');
  if (worse.length) {
    out.push('', `Steps that got worse (${worse.length}):`);
    for (const s of worse) out.push(`  ${s.name}: ${s.a!.outcome} ${secs(s.a!.durationMs)} → ${s.b!.outcome} ${secs(s.b!.durationMs)}`);
  }
  list('Fixed', d.fixed);
  list('Not checked in B (errors are not evidence: re-run)', d.unchecked);
  list('Still failing', d.stillFailing);
  list('Other changes', d.otherChanges);
  list('Added in B', d.added);
  list('Not run in B', d.removed);
  const better = d.steps.filter((s) => s.kind === 'better' || s.kind === 'faster');
  if (better.length) {
    out.push('', `Steps that got better (${better.length}):`);
    for (const s of better) out.push(`  ${s.name}: ${s.a!.outcome} ${secs(s.a!.durationMs)} → ${s.b!.outcome} ${secs(s.b!.durationMs)}`);
  }
  out.push(
    '',
    hasRegressions(d)
      ? `${d.regressed.length} regressed, ${d.newFailures.length} new failures, ${d.fixed.length} fixed, ${d.unchanged} unchanged`
      : `no regression: ${d.fixed.length} fixed, ${d.unchanged} unchanged`,
  );
  return out.join('\n');
}
