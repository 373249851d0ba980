// The results of one run: the seam between what runs on a box (install flow, suites) and what reads evidence
// (results.json, JUnit, verdicts, HTML, diff). lib/report and lib/program work on these types alone and never
// import a box, so verdicts can be computed anywhere from run directories.

/** 2: every test carries its check (and item) as data, and its id is made of them (`ethernet/eth0/carrier`). */
export const RESULTS_SCHEMA_VERSION = 2;

/** pass: checked on the box and works. fail: the box was reached and the item is missing or broken. error: the lab
 * or the harness could not check (not evidence against the hardware). skip: not declared, declined, or waived. */
export type Outcome = 'pass' | 'fail' | 'error' | 'skip';

export type SkipReason = 'not-declared' | 'operator' | 'waived' | 'not-run';

export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'error', 'skip'];
export const SKIP_REASONS: readonly SkipReason[] = ['not-declared', 'operator', 'waived', 'not-run'];

/** Capabilities of ../shared/QUALIFICATION.md that eve-qual has a suite for (Wi-Fi and serial ports have none yet,
 * so they are not capabilities: nothing could ever be shown for them). */
export type Capability =
  | 'install'
  | 'boot'
  | 'console'
  | 'remote-shell'
  | 'ethernet'
  | 'usb'
  | 'watchdog'
  | 'cellular'
  | 'tpm'
  | 'virtualization'
  | 'storage'
  | 'inventory';

/** In the order reports show them. */
export const CAPABILITIES: readonly Capability[] = [
  'install',
  'boot',
  'console',
  'remote-shell',
  'ethernet',
  'usb',
  'watchdog',
  'cellular',
  'tpm',
  'virtualization',
  'storage',
  'inventory',
];

export interface Attachment {
  name: string;
  /** Relative to the run directory. */
  path: string;
}

export interface Attempt {
  outcome: Outcome;
  message?: string;
  durationMs: number;
  consoleExcerpt?: string;
}

export interface TestResult {
  /** Unique in the run and stable across runs: `<capability>/<item>/<check>`, or `<capability>/<check>` for a check of
   * the capability as a whole (`ethernet/eth1/carrier`, `tpm/sha256-bank`). Made of the data below, never of a title. */
  id: string;
  capability: Capability;
  /** What is checked, as a stable name within its item (`carrier`, `stores-data`). */
  check: string;
  /** The check, as a sentence about the box (free to change: nothing is judged on it). */
  name: string;
  /** The declared item checked (eth0, stick0, modem0), if any. */
  item?: string;
  outcome: Outcome;
  /** Why it was skipped, or the error class of a failure/error (box, lab, bug, config). */
  reason?: SkipReason | 'box' | 'lab' | 'bug' | 'config';
  message?: string;
  /** Waiver details when reason is `waived`. */
  waiver?: { by: string; reason: string; until: string };
  start: string;
  durationMs: number;
  /** Earlier attempts of a retried test (the last attempt is the test's own outcome). */
  attempts: Attempt[];
  consoleExcerpt?: string;
  attachments: Attachment[];
  /** What was read from the box to decide (values, never secrets). */
  facts?: Record<string, unknown>;
}

export interface StepResult {
  name: string;
  start: string;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'error';
  detail?: string;
}

export interface RunResults {
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  runId: string;
  /** stopped: a lab fault ended the run early (the box lost, the disk full); `stopped` says which. */
  status: 'running' | 'finished' | 'interrupted' | 'stopped' | 'crashed';
  stopped?: string;
  /** How many times a lost box was brought back during the run (`run --recover N`). */
  recoveries?: number;
  /** Each time the run was continued with `eve-qual run --resume`, and the status it had then. */
  resumed?: { at: string; from: string }[];
  box: { name: string; vendor: string; model: string; arch: string; sample: string; kind: 'real' | 'virtual' };
  /** `source`: the --release given (a local folder made absolute), so that `run --resume` finds it again. */
  release: { version: string; eveRelease: string; installer: string; sha256?: string; source?: string };
  operator: { organisation: string; role: 'owner' | 'partner' };
  /** The level asked with --level, if any. */
  level?: number;
  /** The capability asked with --capability, if any (the run is then inventory and that capability's suite). */
  capability?: Capability;
  evequal: { version: string; revision: string | null };
  profile: { file: string; sha256: string };
  start: string;
  end?: string;
  steps: StepResult[];
  tests: TestResult[];
  attachments: Attachment[];
  /** What the profile declares, per capability: the item names (eth0, stick0...), or [] for a capability without
   * items (install, boot, the watchdog...). Level 2 and up need every declared item checked and working, so a run
   * without this field cannot show more than level 1 (a verdict never guesses what was declared). */
  declared?: Partial<Record<Capability, string[]>>;
  /** The qualification program the run was planned against (its name), shown in JUnit properties. */
  program?: string;
}

/** A test's id, made of its identity: `<capability>/<item>/<check>`, or `<capability>/<check>` without an item. */
export function testId(t: { capability: Capability; item?: string | undefined; check: string }): string {
  return t.item ? `${t.capability}/${t.item}/${t.check}` : `${t.capability}/${t.check}`;
}
