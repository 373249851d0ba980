// Test identity as data: every check is registered with its capability (the suite module's), the declared item it
// checks and a stable check name; its id is made of those (results.ts testId), so renaming a title changes no
// verdict. Ids are unique in a run: registering one twice is a harness bug, refused when the suites are loaded.
import type Mocha from 'mocha';
import { HarnessBug } from '../errors.ts';
import { testId, type Capability } from '../report/results.ts';
import type { Bdd, CheckSpec } from './suite-context.ts';

export interface CheckIdentity {
  id: string;
  capability: Capability;
  item?: string;
  check: string;
  title: string;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
const ITEM = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class CheckRegistry {
  private readonly byTest = new Map<Mocha.Runnable, CheckIdentity>();
  private readonly ids = new Set<string>();
  /** The capability of each suite registered, for failing hooks (which have no check of their own). */
  private readonly bySuite = new Map<Mocha.Suite, Capability>();

  /** The BDD functions for one suite module: mocha's, with `it` replaced by `check`. */
  bddFor(capability: Capability, mocha: Bdd & { it: Mocha.TestFunction }): Bdd {
    const { it, describe, before, after, beforeEach, afterEach } = mocha;
    const check = (spec: CheckSpec, title: string, fn: (this: Mocha.Context) => PromiseLike<unknown> | void): Mocha.Test => {
      const identity = this.identity(capability, spec, title);
      const test = it(title, fn as Mocha.AsyncFunc);
      this.byTest.set(test, identity);
      if (test.parent) this.bySuite.set(test.parent, capability);
      return test;
    };
    return { describe, check, before, after, beforeEach, afterEach };
  }

  private identity(capability: Capability, spec: CheckSpec, title: string): CheckIdentity {
    if (!NAME.test(spec.check)) throw new HarnessBug(`${capability}: check name ${JSON.stringify(spec.check)} must be lower-case letters, digits and dashes`);
    if (spec.item !== undefined && !ITEM.test(spec.item)) throw new HarnessBug(`${capability}: item ${JSON.stringify(spec.item)} is not an item name`);
    const id = testId({ capability, item: spec.item, check: spec.check });
    if (this.ids.has(id)) throw new HarnessBug(`two checks have the id ${id} ("${title}")`);
    this.ids.add(id);
    return { id, capability, check: spec.check, title, ...(spec.item ? { item: spec.item } : {}) };
  }

  /** The identity of a test, or for a failing hook one of its own: `<capability>/hook-<n>` of the suite's capability. */
  identityOf(runnable: Mocha.Runnable): CheckIdentity {
    const known = this.byTest.get(runnable);
    if (known) return known;
    let s: Mocha.Suite | undefined = runnable.parent;
    while (s && !this.bySuite.has(s)) s = s.parent;
    const capability = (s && this.bySuite.get(s)) ?? 'inventory';
    let n = 1;
    while (this.ids.has(testId({ capability, check: `hook-${n}` }))) n++;
    const id = testId({ capability, check: `hook-${n}` });
    this.ids.add(id);
    return { id, capability, check: `hook-${n}`, title: runnable.title };
  }
}
