// Every hardware field a profile may declare is proven on the box by a check, or it is not declarable: the walk goes
// over the profile schema's hardware items (lib/profile/schema.ts), and each field (other than the item's name) must
// be claimed by its capability's suite (SuiteModule.proves) with a check that suite really registers when the field
// is declared. A new field that no check reads fails here, naming it.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { parseProfile } from '../../lib/profile/load.ts';
import { loadProgram } from '../../lib/program/program.ts';
import { hardwareSchema } from '../../lib/profile/schema.ts';
import { plannedChecks } from '../../lib/suite-runtime/load-suites.ts';
import type { SuiteContext } from '../../lib/suite-runtime/suite-context.ts';
import { ALL_SUITES } from '../../suites/index.ts';
import { repoRoot } from '../helpers/fixture-release.ts';

type Def = { type: string; innerType?: z.ZodType; element?: z.ZodType };
const defOf = (t: z.ZodType) => (t as unknown as { _zod: { def: Def } })._zod.def;

/** The fields of each hardware item, per capability, read from the schema itself. */
function hardwareFields(): Record<string, string[]> {
  const shape = (hardwareSchema as unknown as { unwrap(): z.ZodObject }).unwrap().shape as Record<string, z.ZodType>;
  const out: Record<string, string[]> = {};
  for (const [cap, field] of Object.entries(shape)) {
    let t = field;
    while (defOf(t).innerType) t = defOf(t).innerType!;
    if (defOf(t).type === 'array') t = defOf(t).element!;
    out[cap] = Object.keys((t as z.ZodObject).shape).filter((k) => k !== 'name');
  }
  return out;
}

/** A profile declaring every hardware field the schema has (the test checks that it does). */
const FULL_HARDWARE = `
hardware:
  ethernet:
    - { name: eth0, cabled: true, dhcp: true, peer: 10.0.2.2, speedMbps: 1000, duplex: full, minThroughputMbps: 10, model: e1000 }
  usb:
    - { name: stick0, vendorProduct: 46f4:0001, class: mass-storage, port: 1-1, speedMbps: 480, storage: true, sizeMb: 64 }
  watchdog: { driver: i6300esb, timeoutSeconds: 30, marginSeconds: 60 }
  cellular:
    - { name: modem0, model: EM7565, sim: true, apn: internet, interface: wwan0, usbAddr: '2:1.4', pciAddr: '0000:00:14.0' }
  tpm: { version: '2.0' }
  virtualization: { cpu: true, iommu: true }
  storage:
    - { name: disk0, device: vda, sizeGb: 2, minReadMBps: 1, minWriteMBps: 1, bus: virtio, smart: true }
`;

function fullProfile() {
  const base = fs.readFileSync(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'), 'utf8');
  const text = base.replace(/^hardware:\n(?:[ #].*\n|\n)*/m, FULL_HARDWARE.trimStart() + '\n');
  return parseProfile(text, 'full-hardware.yaml');
}

describe('profile schema walk: every declarable hardware field is proven by a check', () => {
  const fields = hardwareFields();
  const profile = fullProfile();
  const ctx = { profile, box: { name: 'walk' }, runDir: '/nonexistent' } as unknown as SuiteContext;
  const planned = new Set(plannedChecks(ALL_SUITES, ctx).map((c) => `${c.capability}/${c.check}`));

  it('the full profile of this test declares every field the schema has', () => {
    const declared = profile.hardware as unknown as Record<string, unknown>;
    const missing = Object.entries(fields).flatMap(([cap, fs_]) => {
      const item = Array.isArray(declared[cap]) ? (declared[cap] as Array<Record<string, unknown>>)[0] : (declared[cap] as Record<string, unknown> | undefined);
      return fs_.filter((f) => item?.[f] === undefined).map((f) => `hardware.${cap}.${f}`);
    });
    expect(missing, 'add these to FULL_HARDWARE').to.deep.equal([]);
  });

  it("the program's rules name only checks the suites register (level 1's USB storage: stores-data)", () => {
    const named = loadProgram().levels.flatMap((l) =>
      Object.entries(l.capabilities).flatMap(([cap, rule]) => (typeof rule === 'object' && rule.any.with ? [`${cap}/${rule.any.with}`] : [])),
    );
    expect(named).to.include('usb/stores-data');
    expect(named.filter((n) => !planned.has(n))).to.deep.equal([]);
  });

  for (const [cap, capFields] of Object.entries(fields)) {
    it(`hardware.${cap}: each field is claimed by the ${cap} suite and its check is registered when declared`, () => {
      const suite = ALL_SUITES.find((s) => s.capability === cap);
      expect(suite, `no suite for the capability ${cap}`).to.not.equal(undefined);
      const unclaimed = capFields.filter((f) => !suite!.proves[f]);
      expect(unclaimed.map((f) => `hardware.${cap}.${f}`), 'fields no check proves: give each a check (SuiteModule.proves) or remove it from the schema').to.deep.equal([]);
      const unregistered = capFields.filter((f) => !planned.has(`${cap}/${suite!.proves[f]}`)).map((f) => `${f} -> ${suite!.proves[f]}`);
      expect(unregistered, `claimed checks the ${cap} suite does not register for a profile declaring them`).to.deep.equal([]);
      expect(Object.keys(suite!.proves).filter((f) => !capFields.includes(f)), 'claims of fields the schema does not have').to.deep.equal([]);
    });
  }
});
