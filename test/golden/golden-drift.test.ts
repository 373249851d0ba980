// The golden runs are what the suites write today: for each recorded case, its profile.yaml is the hardware profile
// with the case's edits, its declared items are the profile's, and its test ids are the install flow's plus what the
// suites of its level register for that profile, in run order (an interrupted run records them all too: the checks it
// did not reach as skips). Fast: the suites are only registered (plannedChecks), nothing runs. When this fails, the
// golden runs are stale.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { loadProfile } from '../../lib/profile/load.ts';
import type { Profile } from '../../lib/profile/schema.ts';
import { loadProgram } from '../../lib/program/program.ts';
import { plannedInstallChecks } from '../../lib/run/install-tests.ts';
import { declaredBy, suitesFor } from '../../lib/run/qualify-run.ts';
import { plannedChecks } from '../../lib/suite-runtime/load-suites.ts';
import type { SuiteContext } from '../../lib/suite-runtime/suite-context.ts';
import { ALL_SUITES } from '../../suites/index.ts';
import { GOLDEN_CASES, goldenProfileText, goldenRoot } from './cases.ts';
import { goldenRun } from './golden.ts';

const STALE = 'the golden runs are stale: run npm run golden (a few minutes per case under TCG; one case: npm run golden -- CASE) and commit test/golden';

/** Registration may read only the profile: a suite that touches the box while registering fails here. */
function registrationContext(profile: Profile): SuiteContext {
  return new Proxy({ profile } as SuiteContext, {
    get(target, key) {
      if (key === 'profile') return target.profile;
      throw new Error(`a suite read ctx.${String(key)} while registering its checks (only ctx.profile is known then)`);
    },
  });
}

function idsToday(profileFile: string, level: number | undefined): string[] {
  const profile = loadProfile(profileFile).profile;
  const modules = suitesFor(ALL_SUITES, { program: loadProgram(), ...(level !== undefined ? { level } : {}) });
  return [...plannedInstallChecks().map((t) => t.id), ...plannedChecks(modules, registrationContext(profile)).map((c) => c.id)];
}

function difference(recorded: string[], today: string[]): string {
  const gone = recorded.filter((id) => !today.includes(id));
  const added = today.filter((id) => !recorded.includes(id));
  return `recorded but no longer registered: ${gone.join(', ') || 'none'}; registered but not recorded: ${added.join(', ') || 'none'}`;
}

describe('golden runs match what the suites register today', () => {
  for (const c of GOLDEN_CASES) {
    const dir = path.join(goldenRoot, c.name);
    it(`${c.name}: recorded, from the current profile, with today's ids`, function () {
      if (c.name === 'arm64-level2' && !fs.existsSync(path.join(dir, 'results.json'))) this.skip(); // optional case
      expect(fs.existsSync(path.join(dir, 'results.json')), `test/golden/${c.name} is not recorded: ${STALE}`).to.equal(true);
      const profileFile = path.join(dir, 'profile.yaml');
      expect(fs.readFileSync(profileFile, 'utf8'), `test/golden/${c.name}/profile.yaml is not hardware-profiles/${c.baseProfile} with the case's edits: ${STALE}`).to.equal(goldenProfileText(c));
      const run = goldenRun(c.name);
      expect(run.declared, `declared items: ${STALE}`).to.deep.equal(declaredBy(loadProfile(profileFile).profile));
      const recorded = run.tests.map((t) => t.id);
      const today = idsToday(profileFile, run.level);
      expect(recorded, `${c.name}: ${difference(recorded, today)}: ${STALE}`).to.deep.equal(today);
    });
  }
});
