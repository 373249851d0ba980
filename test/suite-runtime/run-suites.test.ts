// The suite runtime: identities are data given at registration (a renamed title keeps its id), a pass must record a
// fact, ids are unique, a failing hook still gets an identity of its capability. Real mocha runs the modules; the
// context is a bare one (these modules read nothing from a box).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HarnessBug } from '../../lib/errors.ts';
import type { TestResult } from '../../lib/report/results.ts';
import { runSuites, UNPROVEN_PASS } from '../../lib/suite-runtime/run-suites.ts';
import type { SuiteContext, SuiteModule } from '../../lib/suite-runtime/suite-context.ts';

const bareCtx = (runDir: string) =>
  ({ profile: {}, box: { name: 'bare' }, shell: {}, console: { excerpt: () => ({ stop: () => '' }) }, runDir, reconnect: async () => {} }) as unknown as Omit<SuiteContext, 'fact' | 'attach'>;

async function run(modules: SuiteModule[], only?: ReadonlySet<string>): Promise<TestResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-rt-'));
  try {
    return await runSuites({ ctx: bareCtx(dir), modules, onTest: () => {}, ...(only ? { only } : {}) });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** An ethernet-like module whose titles are given, so a test can rename them. */
const portModule = (title: (check: string) => string): SuiteModule => ({
  capability: 'ethernet',
  proves: {},
  register(t, ctx) {
    t.describe('any title at all', () => {
      t.check({ item: 'eth0', check: 'carrier' }, title('carrier'), () => ctx.fact('carrier', '1'));
      t.check({ item: 'eth0', check: 'dhcp' }, title('dhcp'), () => {
        ctx.fact('lease', null);
        expect.fail('no lease');
      });
      t.check({ check: 'declared' }, title('declared'), () => ctx.fact('x', 1));
    });
  },
});

/** A usb-like module whose later checks use what its first check of the item found. */
const stickModule: SuiteModule = {
  capability: 'usb',
  proves: {},
  register(t, ctx) {
    t.describe('usb', () => {
      const found = new Map<string, string>();
      for (const item of ['stick0', 'stick1']) {
        t.check({ item, check: 'enumerates' }, `${item} enumerates`, () => {
          found.set(item, `${item}-dev`);
          ctx.fact('dev', found.get(item));
        });
        t.check({ item, check: 'size' }, `${item} size`, () => {
          expect(found.get(item), `${item} did not enumerate`).to.not.equal(undefined);
          ctx.fact('dev', found.get(item));
        });
        t.check({ item, check: 'stores-data' }, `${item} stores data`, () => ctx.fact('dev', found.get(item)));
      }
    });
  },
};

describe('suite runtime: check identities', () => {
  it('a run of only some checks (a recovery, a resume) runs the earlier checks of their items again, unrecorded', async () => {
    const rs = await run([stickModule], new Set(['usb/stick0/size', 'usb/stick1/enumerates']));
    expect(rs.map((r) => [r.id, r.outcome])).to.deep.equal([
      ['usb/stick0/size', 'pass'],
      ['usb/stick1/enumerates', 'pass'],
    ]);
  });

  it('a test id is made of capability, item and check; renaming every title changes no id and no outcome', async () => {
    const a = await run([portModule((c) => `eth0: ${c}`)]);
    const b = await run([portModule((c) => `a wholly different sentence about ${c}: with a colon`)]);
    const key = (rs: TestResult[]) => rs.map((r) => [r.id, r.capability, r.item ?? null, r.check, r.outcome]);
    expect(key(a)).to.deep.equal([
      ['ethernet/eth0/carrier', 'ethernet', 'eth0', 'carrier', 'pass'],
      ['ethernet/eth0/dhcp', 'ethernet', 'eth0', 'dhcp', 'fail'],
      ['ethernet/declared', 'ethernet', null, 'declared', 'pass'],
    ]);
    expect(key(b)).to.deep.equal(key(a));
    expect(b.map((r) => r.name)[0]).to.equal('a wholly different sentence about carrier: with a colon');
  });

  it('a pass that recorded no fact is an error of the harness, never a pass', async () => {
    const rs = await run([
      {
        capability: 'tpm',
        proves: {},
        register(t, ctx) {
          t.describe('tpm', () => {
            t.check({ check: 'silent' }, 'passes having read nothing', () => {});
            t.check({ check: 'proven' }, 'passes on a fact', () => ctx.fact('tpm_version_major', '2'));
          });
        },
      },
    ]);
    expect(rs.map((r) => [r.id, r.outcome, r.reason ?? null])).to.deep.equal([
      ['tpm/silent', 'error', 'bug'],
      ['tpm/proven', 'pass', null],
    ]);
    expect(rs[0]!.message).to.equal(UNPROVEN_PASS);
  });

  it('two checks with one id are refused when the suites are loaded', async () => {
    const twice: SuiteModule = {
      capability: 'usb',
      proves: {},
      register(t) {
        t.describe('usb', () => {
          t.check({ item: 'stick0', check: 'enumerates' }, 'stick0 enumerates', () => {});
          t.check({ item: 'stick0', check: 'enumerates' }, 'stick0 is there', () => {});
        });
      },
    };
    let err: unknown;
    await run([twice]).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(HarnessBug);
    expect((err as Error).message).to.equal('two checks have the id usb/stick0/enumerates ("stick0 is there")');
  });

  it('a failing hook is recorded under its capability with an id of its own, not a title', async () => {
    const rs = await run([
      {
        capability: 'storage',
        proves: {},
        register(t, ctx) {
          t.describe('storage', () => {
            t.before(() => {
              throw new Error('cannot list disks');
            });
            t.check({ item: 'disk0', check: 'present' }, 'disk0 present', () => ctx.fact('size', 1));
          });
        },
      },
    ]);
    expect(rs.map((r) => [r.id, r.capability, r.outcome])).to.deep.equal([['storage/hook-1', 'storage', 'error']]);
  });
});
