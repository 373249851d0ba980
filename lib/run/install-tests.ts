// The install flow's own results: install, boot, console and remote shell are capabilities of their own
// (QUALIFICATION.md), decided by the steps of the flow. A failed step fails (or errors) its capability; the
// capabilities after it are skipped as not run.
import type { StepRecord } from '../install/steps.ts';
import { testId, type Capability, type TestResult } from '../report/results.ts';
import type { PlannedCheck } from './run-plan.ts';

interface CapabilityCheck {
  capability: Capability;
  check: string;
  name: string;
  steps: string[];
}

const CHECKS: CapabilityCheck[] = [
  {
    capability: 'install',
    check: 'installer-completes',
    name: 'the installer runs to its NOTICE line',
    steps: ['prepare installer media', 'power off the box', 'attach the installer', 'power on into the installer', 'installer starts', 'installer picks the target disk', 'box powers off after install', 'installation completes (NOTICE)'],
  },
  { capability: 'boot', check: 'boots-from-disk', name: 'the installed system boots from its disk', steps: ['power on from the installed disk', 'installed system reaches a console shell'] },
  { capability: 'boot', check: 'release-matches', name: 'the installed system runs the release installed', steps: ['EVE release on the box matches'] },
  { capability: 'console', check: 'root-shell', name: 'a root shell on the serial console', steps: ['installed system reaches a console shell'] },
  { capability: 'remote-shell', check: 'ssh-key', name: 'SSH with the injected key', steps: ['SSH host key read on the console', 'SSH answers with the injected key'] },
];

/** Checks only an install by this run can decide: with --no-install they are not run, never passed. */
const INSTALL_ONLY = new Set(['installer-completes', 'boots-from-disk']);

/** The flow failed outside the steps the checks are made of (the console could not be opened, the box could not be
 * made): the first check that would have run carries that failure, so a run that reached nothing never reads as
 * "0 failed, 0 errors". */
function unlistedFailure(records: StepRecord[], failure: { message: string; errorClass?: string } | undefined): { message: string; errorClass?: string } | undefined {
  if (!failure) return undefined;
  const listed = new Set(CHECKS.flatMap((c) => c.steps));
  if (records.some((r) => r.outcome !== 'ok' && listed.has(r.name))) return undefined;
  const step = records.find((r) => r.outcome !== 'ok');
  return { ...failure, message: step ? `${step.name}: ${failure.message}` : failure.message };
}

export function installTests(records: StepRecord[], failure?: { message: string; errorClass?: string }, opts: { noInstall?: boolean } = {}): TestResult[] {
  const byName = new Map(records.map((r) => [r.name, r]));
  let broken = false;
  let unlisted = unlistedFailure(records, failure);
  return CHECKS.map((c) => {
    if (opts.noInstall && INSTALL_ONLY.has(c.check)) {
      return { id: testId(c), capability: c.capability, check: c.check, name: c.name, start: new Date().toISOString(), durationMs: 0, attempts: [], attachments: [], outcome: 'skip' as const, reason: 'not-run' as const, message: 'not installed or booted by this run (--no-install)' };
    }
    const mine = c.steps.map((s) => byName.get(s)).filter((r): r is StepRecord => r !== undefined);
    const bad = mine.find((r) => r.outcome !== 'ok');
    const start = mine[0]?.start.toISOString() ?? new Date().toISOString();
    const durationMs = mine.reduce((a, r) => a + r.durationMs, 0);
    const base = { id: testId(c), capability: c.capability, check: c.check, name: c.name, start, durationMs, attempts: [], attachments: [] };
    if (unlisted) {
      const u = unlisted;
      unlisted = undefined;
      broken = true;
      const reason = (u.errorClass ?? 'lab') as TestResult['reason'];
      return { ...base, outcome: reason === 'box' ? ('fail' as const) : ('error' as const), reason, message: u.message };
    }
    if (bad) {
      broken = true;
      const outcome = bad.outcome === 'failed' ? 'fail' : 'error';
      return { ...base, outcome, reason: outcome === 'fail' ? 'box' : ((failure?.errorClass as TestResult['reason']) ?? 'lab'), message: `${bad.name}: ${failure?.message ?? bad.detail ?? ''}`.trim() };
    }
    // The last step of a check is the one that decides it; steps of the other NOTICE path may be absent.
    if (broken || !byName.has(c.steps[c.steps.length - 1]!)) {
      return { ...base, outcome: 'skip', reason: 'not-run', message: 'an earlier step of the install flow did not succeed' };
    }
    return { ...base, outcome: 'pass', facts: { steps: mine.map((r) => `${r.name} ${(r.durationMs / 1000).toFixed(1)} s`) } };
  });
}

/** The install flow's checks as a run plans them (install-only ones left out with --no-install: never run). */
export function plannedInstallChecks(opts: { noInstall?: boolean } = {}): PlannedCheck[] {
  return CHECKS.filter((c) => !(opts.noInstall && INSTALL_ONLY.has(c.check))).map((c) => ({ id: testId(c), capability: c.capability, check: c.check, name: c.name }));
}

/** The install check the flow is in, from the steps finished so far: the first whose deciding step is not done. */
export function runningInstallCheck(records: StepRecord[], opts: { noInstall?: boolean } = {}): string | null {
  const ok = new Set(records.filter((r) => r.outcome === 'ok').map((r) => r.name));
  const c = CHECKS.find((x) => !(opts.noInstall && INSTALL_ONLY.has(x.check)) && !ok.has(x.steps[x.steps.length - 1]!));
  return c ? testId(c) : null;
}
