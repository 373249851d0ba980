// The checks the suites register for a profile, without running any: the suite modules are registered into a
// throwaway mocha exactly as lib/suite-runtime/run-suites.ts does, and the tests are listed in the order mocha runs
// them (a suite's own tests, then its child suites). Registration may read only the profile: a suite that touches
// the box while registering is refused here.
import Mocha from 'mocha';
import { CheckRegistry, type CheckIdentity } from '../../lib/suite-runtime/check-identity.ts';
import type { Bdd, SuiteContext, SuiteModule } from '../../lib/suite-runtime/suite-context.ts';
import type { Profile } from '../../lib/profile/schema.ts';

function registrationContext(profile: Profile): SuiteContext {
  return new Proxy({ profile } as SuiteContext, {
    get(target, key) {
      if (key === 'profile') return target.profile;
      throw new Error(`a suite read ctx.${String(key)} while registering its checks (only ctx.profile is known then)`);
    },
  });
}

function inRunOrder(suite: Mocha.Suite): Mocha.Test[] {
  return [...suite.tests, ...suite.suites.flatMap(inRunOrder)];
}

export function registeredChecks(profile: Profile, modules: SuiteModule[]): CheckIdentity[] {
  const mocha = new Mocha({ reporter: class {} as unknown as Mocha.ReporterConstructor });
  const registry = new CheckRegistry();
  const bdd = {} as Bdd & { it: Mocha.TestFunction };
  mocha.suite.emit('pre-require', bdd, 'eve-qual-suites', mocha);
  const ctx = registrationContext(profile);
  for (const m of modules) m.register(registry.bddFor(m.capability, bdd), ctx);
  return inRunOrder(mocha.suite).map((t) => registry.identityOf(t));
}
