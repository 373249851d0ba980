// usb: every declared device enumerates where it is declared, as what it is declared (suites/usb-match.ts: by
// vendor:product and class, on its sysfs port; never a root hub, never the disk EVE runs from); its negotiated
// speed and a stick's capacity are what the profile says; a declared storage stick is written and read back
// (suites/usb-storage.ts). Each check records what was declared next to what the box reported.
import { expect } from 'chai';
import { notDeclaredCheck, type Bdd, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { matchDeclared, type UsbDeclaration } from './usb-match.ts';
import { hasDeclaredSize, storesData } from './usb-storage.ts';
import { describeDevice, readUsbView, type UsbDevice } from './usb-sysfs.ts';

/** The declared identity, as the facts show it. */
function declared(u: UsbDeclaration): Record<string, string> {
  return Object.fromEntries(Object.entries({ vendorProduct: u.vendorProduct, class: u.class, port: u.port }).flatMap(([k, v]) => (v ? [[k, v]] : [])));
}

async function enumerates(ctx: SuiteContext, u: UsbDeclaration, claimed: Set<string>, found: Map<string, UsbDevice>): Promise<void> {
  const view = await readUsbView(ctx);
  ctx.fact('declared', declared(u));
  ctx.fact('usb-devices', view.devices.map(describeDevice));
  ctx.fact('eve-disks', view.systemDisks.map((s) => `${s.why}: ${s.sysPath}`));
  const m = matchDeclared(view, u, claimed);
  if (m.excluded.length) ctx.fact('excluded', m.excluded);
  expect(m.device, `${u.name}: ${m.why}`).to.not.equal(undefined);
  const d = m.device!;
  ctx.fact('matched', { port: d.name, vendorProduct: d.id, deviceClass: d.deviceClass, interfaces: d.interfaces.map((i) => `${i.cls}${i.driver ? ` ${i.driver}` : ''}`) });
  claimed.add(d.name);
  found.set(u.name, d);
}

function speed(ctx: SuiteContext, u: UsbDeclaration, d: UsbDevice | undefined): void {
  expect(d, `${u.name} did not enumerate`).to.not.equal(undefined);
  ctx.fact('declared-Mbps', u.speedMbps);
  ctx.fact('negotiated-Mbps', Number(d!.speed));
  expect(Number(d!.speed), `${u.name} on ${d!.name} runs at ${d!.speed} Mbps (/sys/bus/usb/devices/${d!.name}/speed), not the ${u.speedMbps} Mbps declared`).to.equal(u.speedMbps);
}

function registerItem(t: Bdd, ctx: SuiteContext, u: UsbDeclaration, claimed: Set<string>, found: Map<string, UsbDevice>): void {
  const what = [u.vendorProduct, u.class].filter(Boolean).join(' ');
  t.check({ item: u.name, check: 'enumerates' }, `${u.name}: ${what} enumerates${u.port ? ` on port ${u.port}` : ''}`, () => enumerates(ctx, u, claimed, found));
  if (u.speedMbps !== undefined) {
    t.check({ item: u.name, check: 'speed' }, `${u.name}: runs at ${u.speedMbps} Mbps`, () => speed(ctx, u, found.get(u.name)));
  }
  if (u.sizeMb !== undefined) {
    const sizeMb = u.sizeMb;
    t.check({ item: u.name, check: 'size' }, `${u.name}: holds ${sizeMb} MB`, () => hasDeclaredSize(ctx, u.name, found.get(u.name), sizeMb));
  }
  if (u.storage) {
    t.check({ item: u.name, check: 'stores-data' }, `${u.name}: stores data (written, read back, sha256)`, () => storesData(ctx, u.name, found.get(u.name)));
  }
}

export const usbSuite: SuiteModule = {
  capability: 'usb',
  proves: { vendorProduct: 'enumerates', class: 'enumerates', port: 'enumerates', speedMbps: 'speed', sizeMb: 'size', storage: 'stores-data' },
  register(t, ctx) {
    t.describe('usb', () => {
      const devices = ctx.profile.hardware.usb;
      if (devices.length === 0) notDeclaredCheck(t, 'USB devices', 'the profile declares no USB device');
      // Each declared device claims one enumerated device, so two identical sticks need two.
      const claimed = new Set<string>();
      const found = new Map<string, UsbDevice>();
      for (const u of devices) registerItem(t, ctx, u, claimed, found);
    });
  },
};
