// Suite modules loaded into one Mocha instance: the BDD functions handed to each module (no globals, so eve-qual
// can itself run inside mocha), every check registered with its identity. Running them is run-suites.ts; listing
// what a box's profile would run (the golden-run drift test, the schema walk) needs only this.
import Mocha from 'mocha';
import { CheckRegistry, type CheckIdentity } from './check-identity.ts';
import type { Bdd, SuiteContext, SuiteModule } from './suite-context.ts';

export interface LoadedSuites {
  mocha: Mocha;
  registry: CheckRegistry;
}

/** `only`: keep just the checks with these ids (what a recovery or a resume still has to run); suites left
 * without checks do not run, hooks included. */
export function loadSuites(modules: SuiteModule[], ctx: SuiteContext, timeoutMs = 180_000, only?: ReadonlySet<string>): LoadedSuites {
  // A null reporter: results go through run-suites' own listeners.
  const mocha = new Mocha({ reporter: class {} as unknown as Mocha.ReporterConstructor, timeout: timeoutMs, bail: false });
  const registry = new CheckRegistry();
  const bdd = {} as Bdd & { it: Mocha.TestFunction };
  mocha.suite.emit('pre-require', bdd, 'eve-qual-suites', mocha);
  for (const m of modules) m.register(registry.bddFor(m.capability, bdd), ctx);
  if (only) keepOnly(mocha.suite, (t) => only.has(registry.identityOf(t).id));
  return { mocha, registry };
}

function keepOnly(suite: Mocha.Suite, keep: (t: Mocha.Test) => boolean): void {
  suite.tests = suite.tests.filter(keep);
  suite.suites.forEach((s) => keepOnly(s, keep));
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
