// Suite modules loaded into one Mocha instance: the BDD functions handed to each module (no globals, so eve-qual
// can itself run inside mocha), every check registered with its identity. Running them is run-suites.ts; listing
// what a box's profile would run (the golden-run drift test, the schema walk) needs only this.
import Mocha from 'mocha';
import { CheckRegistry, type CheckIdentity } from './check-identity.ts';
import type { Bdd, SuiteContext, SuiteModule } from './suite-context.ts';

export interface LoadedSuites {
  mocha: Mocha;
  registry: CheckRegistry;
  /** Checks kept only because a later check of the same item needs what they find (see keepOnly): run again,
   * not recorded again. */
  replayed: Set<string>;
}

/** `only`: keep just the checks with these ids (what a recovery or a resume still has to run), and the earlier
 * checks of their items; suites left without checks do not run, hooks included. */
export function loadSuites(modules: SuiteModule[], ctx: SuiteContext, timeoutMs = 180_000, only?: ReadonlySet<string>): LoadedSuites {
  // A null reporter: results go through run-suites' own listeners.
  const mocha = new Mocha({ reporter: class {} as unknown as Mocha.ReporterConstructor, timeout: timeoutMs, bail: false });
  const registry = new CheckRegistry();
  const bdd = {} as Bdd & { it: Mocha.TestFunction };
  mocha.suite.emit('pre-require', bdd, 'eve-qual-suites', mocha);
  for (const m of modules) m.register(registry.bddFor(m.capability, bdd), ctx);
  const replayed = new Set<string>();
  if (only) keepOnly(mocha.suite, registry, only, replayed);
  return { mocha, registry, replayed };
}

/**
 * A check may use what an earlier check of its item found (usb's `speed` reads the device `enumerates` matched),
 * so a check kept brings the earlier checks of its item in its suite along, into `replayed`.
 */
function keepOnly(suite: Mocha.Suite, registry: CheckRegistry, only: ReadonlySet<string>, replayed: Set<string>): void {
  const ids = suite.tests.map((t) => registry.identityOf(t));
  const neededItems = new Set(ids.filter((c) => only.has(c.id)).map((c) => c.item ?? ''));
  const lastNeeded = new Map<string, number>();
  ids.forEach((c, i) => only.has(c.id) && lastNeeded.set(c.item ?? '', i));
  suite.tests = suite.tests.filter((_, i) => {
    const c = ids[i]!;
    if (only.has(c.id)) return true;
    const keep = neededItems.has(c.item ?? '') && i < lastNeeded.get(c.item ?? '')!;
    if (keep) replayed.add(c.id);
    return keep;
  });
  suite.suites.forEach((s) => keepOnly(s, registry, only, replayed));
}

/** The checks the modules register for the context's profile, in the order they would run; nothing is run. */
export function plannedChecks(modules: SuiteModule[], ctx: SuiteContext): CheckIdentity[] {
  const { mocha, registry } = loadSuites(modules, ctx);
  const out: CheckIdentity[] = [];
  const walk = (s: Mocha.Suite) => {
    for (const t of s.tests) out.push(registry.identityOf(t));
    s.suites.forEach(walk);
  };
  walk(mocha.suite);
  mocha.dispose();
  return out;
}
