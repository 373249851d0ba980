// cellular: each declared modem through ModemManager (cellular-modems.ts), found by its declared identity
// (cellular-match.ts, never by list position), then: its model and network interface as declared, its SIM present
// (or absent, as declared), registered, a data bearer connected with the declared APN on its wwan interface; EVE's
// WwanStatus where present. Registration and the bearer are checked only on a modem EVE's network config lists
// (cellular-config.ts): its wwan agent disables the radio of any other.
import { expect } from 'chai';
import { notDeclared, notDeclaredCheck, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { managedGate } from './cellular-config.ts';
import { modelMatches, type FoundModem, type Modem } from './cellular-match.ts';
import { BoxModems } from './cellular-modems.ts';

type Gate = ReturnType<typeof managedGate>;

async function detected(ctx: SuiteContext, box: BoxModems, test: Mocha.Context, m: Modem): Promise<void> {
  const id = await box.identify(test);
  ctx.fact('mmcli', 'eve exec --fork wwan mmcli (EVE), else mmcli');
  ctx.fact('modems', id.found.map((f) => ({ path: f.path, manufacturer: f.status.manufacturer, model: f.status.model, addrs: f.addrs })));
  const match = id.matches.get(m.name)!;
  ctx.fact('match', { by: match.by, declared: match.declared, path: match.modem?.path ?? null, reported: match.modem?.addrs ?? null });
  expect(match.modem, `${m.name} not found by its ${match.by}: ${match.why ?? ''}`).to.not.equal(null);
}

async function model(ctx: SuiteContext, box: BoxModems, test: Mocha.Context, m: Modem): Promise<void> {
  if (!m.model) notDeclared(test, `the profile declares no model for ${m.name}`);
  const { status: s } = await box.modemOf(test, m);
  ctx.fact('model', { declared: m.model, reported: s.model, manufacturer: s.manufacturer });
  expect(modelMatches(m.model, s), `${m.name} is a ${s.manufacturer ?? '?'} ${s.model ?? '(no model reported)'}, ${m.model} declared`).to.equal(true);
}

async function netInterface(ctx: SuiteContext, box: BoxModems, test: Mocha.Context, m: Modem): Promise<void> {
  if (!m.interface) notDeclared(test, `the profile declares no interface for ${m.name}`);
  const f = await box.modemOf(test, m);
  ctx.fact('interface', { declared: m.interface, reported: f.addrs.interface || null, ports: f.status.ports });
  expect(f.addrs.interface, `${m.name}'s network interface is ${f.addrs.interface || 'none'} (ports ${f.status.ports.join(', ')}), ${m.interface} declared`).to.equal(m.interface);
}

async function sim(ctx: SuiteContext, box: BoxModems, test: Mocha.Context, m: Modem): Promise<void> {
  const { status: s } = await box.modemOf(test, m);
  ctx.fact('sim', { declared: m.sim, reported: s.sim });
  ctx.fact('modem', s);
  if (m.sim) expect(s.sim, `no SIM in ${m.name} (${s.failedReason ?? 'state ' + s.state})`).to.not.equal(null);
  else expect(s.sim, `a SIM is in ${m.name} (${s.sim}), none declared`).to.equal(null);
}

/** The declared modem, read afresh, once EVE manages it (else the test is skipped). */
async function managedModem(ctx: SuiteContext, box: BoxModems, managed: Gate, test: Mocha.Context, m: Modem): Promise<FoundModem> {
  if (!m.sim) notDeclared(test, `the profile declares no SIM in ${m.name}`);
  const f = await box.modemOf(test, m);
  ctx.fact('modem', f.status);
  await managed(test, m, f);
  return f;
}

async function registered(ctx: SuiteContext, box: BoxModems, managed: Gate, test: Mocha.Context, m: Modem): Promise<void> {
  const { status: s } = await managedModem(ctx, box, managed, test, m);
  expect(s.registration, `${m.name} is not registered (state ${s.state}, power state ${s.powerState ?? 'unknown'}, registration ${s.registration ?? 'none'})`).to.be.oneOf(['home', 'roaming']);
}

async function dataBearer(ctx: SuiteContext, box: BoxModems, managed: Gate, test: Mocha.Context, m: Modem): Promise<void> {
  const { status: s } = await managedModem(ctx, box, managed, test, m);
  const bearers = await Promise.all(s.bearers.map((b) => box.bearer(b)));
  ctx.fact('bearers', bearers);
  ctx.fact('apn', { declared: m.apn ?? null, reported: bearers.find((b) => b.connected)?.apn ?? null });
  const up = bearers.find((b) => b.connected);
  const errors = bearers.map((b) => b.error).filter((e) => e !== null);
  expect(up, `no connected bearer on ${m.name} (state ${s.state}${errors.length ? `; ${errors.join('; ')}` : ''})`).to.not.equal(undefined);
  if (m.apn !== undefined) expect(up!.apn, `${m.name}'s bearer is connected with APN ${up!.apn ?? 'none'}, ${m.apn} declared`).to.equal(m.apn);
  if (m.interface) expect(up!.interface, `${m.name}'s bearer is on ${up!.interface ?? 'no interface'}, ${m.interface} declared`).to.equal(m.interface);
  const wwan = await read(ctx, 'cat /run/wwan/WwanStatus/global.json 2>/dev/null || cat /run/wwan/status.json 2>/dev/null');
  if (wwan.code === 0) ctx.attach('WwanStatus', `inventory/wwan-status-${m.name}.json`, wwan.out);
}

export const cellularSuite: SuiteModule = {
  capability: 'cellular',
  // usbAddr and pciAddr: the modem is found only where they equal what ModemManager reports (the match is recorded)
  proves: { model: 'model', sim: 'sim', apn: 'data-bearer', interface: 'interface', usbAddr: 'detected', pciAddr: 'detected' },
  register(t, ctx) {
    t.describe('cellular', () => {
      const modems = ctx.profile.hardware.cellular;
      if (modems.length === 0) {
        notDeclaredCheck(t, 'cellular modems', 'the profile declares no cellular modem');
        return;
      }
      const box = new BoxModems(ctx, modems);
      const managed = managedGate(ctx);
      for (const m of modems) {
        t.check({ item: m.name, check: 'detected' }, `${m.name}: detected by ModemManager`, function () {
          return detected(ctx, box, this, m);
        });
        t.check({ item: m.name, check: 'model' }, `${m.name}: is a ${m.model ?? '(model not declared)'}`, function () {
          return model(ctx, box, this, m);
        });
        t.check({ item: m.name, check: 'interface' }, `${m.name}: network interface ${m.interface ?? '(not declared)'}`, function () {
          return netInterface(ctx, box, this, m);
        });
        t.check({ item: m.name, check: 'sim' }, `${m.name}: SIM ${m.sim ? 'present' : 'absent, as declared'}`, function () {
          return sim(ctx, box, this, m);
        });
        t.check({ item: m.name, check: 'registered' }, `${m.name}: registered`, function () {
          return registered(ctx, box, managed, this, m);
        });
        t.check({ item: m.name, check: 'data-bearer' }, `${m.name}: data bearer connected`, function () {
          return dataBearer(ctx, box, managed, this, m);
        });
      }
    });
  },
};
