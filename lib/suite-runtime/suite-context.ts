// What a suite test is handed: the box (the fixture, in the spirit of Playwright Test's fixtures), a shell on it,
// its console, the profile that says what it declares, and ways to record evidence. Suites never read the profile
// to decide a pass: every pass is a fact read from the box.
import type { Box } from '../box/box.ts';
import type { Console } from '../console/console.ts';
import type { Profile } from '../profile/schema.ts';
import type { Capability } from '../report/results.ts';
import type { Shell } from '../shell/shell.ts';
import type { TrafficPeer } from '../lab/traffic-peer.ts';
import { pause } from '../util/deadline.ts';

export interface SuiteContext {
  profile: Profile;
  box: Box;
  /** A shell on the box (SSH once the install flow reached it). */
  shell: Shell;
  console: Console;
  /** The run directory (attachments are written under it). */
  runDir: string;
  /** Record a fact read from the box, attached to the current test's result. */
  fact(key: string, value: unknown): void;
  /** Save a file under the run directory (inventory/...) and attach it to the current test. */
  attach(name: string, relPath: string, content: string | Buffer): void;
  /** Re-establish the shell after the box rebooted (the watchdog test). */
  reconnect(timeoutMs: number): Promise<void>;
  /** The box is about to reset on purpose (the watchdog test): its silence until reconnect() is no loss. Absent
   * where nothing watches the box. */
  expectReboot?(): void;
  /** eve-qual's traffic receiver on the runner (the ethernet suite sends through each port to it); absent when the
   * run started none. */
  peer?: TrafficPeer;
}

/** A check's identity within its capability: the declared item (none for the capability as a whole) and a stable
 * name of what is checked. The verdict judges on this, never on the title. */
export interface CheckSpec {
  item?: string;
  check: string;
}

/** Register one check: its identity, the sentence reports show, and the test. */
export type CheckFunction = (spec: CheckSpec, title: string, fn: (this: Mocha.Context) => PromiseLike<unknown> | void) => Mocha.Test;

/** The mocha BDD functions, handed to suites explicitly (no globals: eve-qual itself may run inside mocha); tests
 * are registered only through `check`, so every one has an identity. */
export interface Bdd {
  describe: Mocha.SuiteFunction;
  check: CheckFunction;
  before: Mocha.HookFunction;
  after: Mocha.HookFunction;
  beforeEach: Mocha.HookFunction;
  afterEach: Mocha.HookFunction;
}

export interface SuiteModule {
  capability: Capability;
  /** Every hardware field of the profile this capability's suite proves on the box, each with the check that
   * compares it with what the box reports (`'speedMbps': 'speed'`); a field no suite proves may not be declarable
   * (test/profile/schema-walk.test.ts). Keys are the item's field names under hardware.<capability>. */
  proves: Record<string, string>;
  /** Register the capability's tests for this box (declared items known from ctx.profile). */
  register(t: Bdd, ctx: SuiteContext): void;
}

/** The check that stands for a capability the profile does not declare: it is skipped with reason not-declared. */
export function notDeclaredCheck(t: Bdd, title: string, what: string): void {
  t.check({ check: 'declared' }, title, function () {
    notDeclared(this, what);
  });
}

/** Skip the current test because the profile does not declare the item (reason not-declared). */
export function notDeclared(test: Mocha.Context, what: string): never {
  (test.test as (Mocha.Runnable & { skipReason?: string }) | undefined)!.skipReason = `not-declared: ${what}`;
  test.skip();
}

/** Poll a condition on the box until it holds or the deadline passes; returns the last value read. */
export async function pollBox<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, everyMs = 1000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v = await read();
  while (!ok(v) && Date.now() < until) {
    // The box has no way to tell us; polling at a modest rate is the event source here.
    await pause(Math.min(everyMs, Math.max(0, until - Date.now())));
    v = await read();
  }
  return v;
}
