// cellular: each declared modem through ModemManager (`mmcli -J`, in EVE's wwan service: `eve exec --fork wwan
// mmcli`): detected, SIM present, registered, a data bearer connected on its wwan interface; EVE's WwanStatus where
// present. EVE's wwan agent disables the radio of every modem its network config does not list, so registration and
// the bearer are checked only on a listed modem: the config in effect is read from the box's CONFIG (what eve-qual
// wrote there, lib/media/network-config.ts, or what the release brought) and recorded; for a modem it does not list
// those two checks are skipped (not-run) with the reason, never passed.
import { expect } from 'chai';
import { addressMatches, configInEffect, declaredAddress, networkConfigFor, type ConfigInEffect } from '../lib/media/network-config.ts';
import { notDeclared, notDeclaredCheck, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';
import { bearerStatus, modemPaths, modemStatus, physAddrsOf, type ModemStatus } from './mmcli.ts';

/** On EVE mmcli exists only in the wwan service container; on other systems it is on the PATH. */
const MMCLI = 'if command -v eve >/dev/null && eve list 2>/dev/null | grep -qw wwan; then eve exec --fork wwan mmcli "$@"; else mmcli "$@"; fi';

type Modem = SuiteContext['profile']['hardware']['cellular'][number];

/** Skip the current test: it could not be checked for a reason outside the hardware (not evidence either way). */
function notRun(test: Mocha.Context, why: string): never {
  (test.test as (Mocha.Runnable & { skipReason?: string }) | undefined)!.skipReason = `not-run: ${why}`;
  test.skip();
}

/** The network config EVE uses, read from the box's CONFIG and /persist as nim reads them. */
async function readConfigInEffect(ctx: SuiteContext): Promise<ConfigInEffect> {
  const names = (await read(ctx, 'ls /config/DevicePortConfig 2>/dev/null')).out.split('\n').filter((n) => n.endsWith('.json'));
  const dpcFiles = await Promise.all(names.map(async (name) => ({ name, text: (await read(ctx, `cat ${q(`/config/DevicePortConfig/${name}`)}`)).out })));
  const bootstrapConfig = (await read(ctx, 'test -e /config/bootstrap-config.pb')).code === 0;
  const onboarded = (await read(ctx, 'test -e /persist/checkpoint/lastconfig')).code === 0;
  return configInEffect({ dpcFiles, bootstrapConfig, onboarded });
}

export const cellularSuite: SuiteModule = {
  capability: 'cellular',
  proves: {},
  register(t, ctx) {
    t.describe('cellular', () => {
      const modems = ctx.profile.hardware.cellular;
      if (modems.length === 0) {
        notDeclaredCheck(t, 'cellular modems', 'the profile declares no cellular modem');
        return;
      }
      const mm = (args: string) => read(ctx, `sh -c '${MMCLI}' mmcli ${args}`, 60_000);
      const status = async (path: string) => modemStatus((await mm(`-m ${path} -J`)).out);
      let inEffect: Promise<ConfigInEffect> | undefined;
      const NO_MMCLI = 'no mmcli on the box (EVE before 11.0 has no ModemManager in its wwan service); this suite reads ModemManager only';
      let noMmcli = false;
      const plan = networkConfigFor(ctx.profile, new Date());

      /** Skips unless EVE's network config lists the modem (or, unknowable, EVE left its radio on). */
      async function mustBeManaged(test: Mocha.Context, m: Modem, s: ModemStatus): Promise<void> {
        const c = await (inEffect ??= readConfigInEffect(ctx));
        const addrs = physAddrsOf(s);
        ctx.fact('networkConfig', c);
        if (!c.known) {
          if (s.powerState === 'low') notRun(test, `EVE's wwan agent disabled the radio of ${m.name} (power state low): ${c.why}`);
          return;
        }
        const listed = c.networks.find((n) => addressMatches(n.physAddrs, addrs));
        ctx.fact('listedAs', listed ?? null);
        if (listed) return;
        const why = plan.unlisted.find((u) => u.name === m.name)?.reason;
        notRun(test, `EVE's network config (${c.source}) does not list ${m.name} (at ${JSON.stringify(addrs)})${why ? `, as ${why}` : ''}: EVE's wwan agent disables the radio of an unlisted modem`);
      }

      modems.forEach((m, i) => {
        let path: string | undefined;
        t.check({ item: m.name, check: 'detected' }, `${m.name}: detected by ModemManager`, async function () {
          const r = await mm('-L -J');
          // EVE before 11.0 drives modems with uqmi/mbimcli scripts: its wwan service has no ModemManager to ask.
          noMmcli = r.code === 127;
          if (noMmcli) notRun(this, NO_MMCLI);
          const list = modemPaths(r.out);
          ctx.fact('mmcli', 'eve exec --fork wwan mmcli (EVE), else mmcli');
          ctx.fact('modems', list);
          const declared = declaredAddress(m);
          if (!declared) {
            expect(list.length, `ModemManager lists ${list.length} modem(s); modem ${i + 1} is declared`).to.be.greaterThan(i);
            path = list[i];
            return;
          }
          // Found where the profile says it sits, as EVE's wwan agent matches a config to a modem.
          const found = await Promise.all(list.map(async (p) => ({ path: p, addrs: physAddrsOf(await status(p)) })));
          ctx.fact('addresses', found);
          path = found.find((f) => addressMatches(declared, f.addrs))?.path;
          expect(path, `no modem at ${JSON.stringify(declared)} among ${list.length} ModemManager lists`).to.not.equal(undefined);
        });
        t.check({ item: m.name, check: 'sim' }, `${m.name}: SIM present`, async function () {
          if (!m.sim) notDeclared(this, `the profile declares no SIM in ${m.name}`);
          if (noMmcli) notRun(this, NO_MMCLI);
          expect(path, `${m.name} was not detected`).to.not.equal(undefined);
          const s = await status(path!);
          ctx.fact('modem', s);
          expect(s.sim, `no SIM in ${m.name} (${s.failedReason ?? 'state ' + s.state})`).to.not.equal(null);
        });
        t.check({ item: m.name, check: 'registered' }, `${m.name}: registered`, async function () {
          if (!m.sim) notDeclared(this, `the profile declares no SIM in ${m.name}`);
          if (noMmcli) notRun(this, NO_MMCLI);
          expect(path, `${m.name} was not detected`).to.not.equal(undefined);
          const s = await status(path!);
          ctx.fact('modem', s);
          await mustBeManaged(this, m, s);
          expect(s.registration, `${m.name} is not registered (state ${s.state}, power state ${s.powerState ?? 'unknown'}, registration ${s.registration ?? 'none'})`).to.be.oneOf(['home', 'roaming']);
        });
        t.check({ item: m.name, check: 'data-bearer' }, `${m.name}: data bearer connected`, async function () {
          if (!m.sim) notDeclared(this, `the profile declares no SIM in ${m.name}`);
          if (noMmcli) notRun(this, NO_MMCLI);
          expect(path, `${m.name} was not detected`).to.not.equal(undefined);
          const s = await status(path!);
          await mustBeManaged(this, m, s);
          const bearers = await Promise.all(s.bearers.map(async (b) => bearerStatus((await mm(`-b ${b} -J`)).out)));
          ctx.fact('bearers', bearers);
          const up = bearers.find((b) => b.connected);
          const errors = bearers.map((b) => b.error).filter((e) => e !== null);
          expect(up, `no connected bearer on ${m.name} (state ${s.state}${errors.length ? `; ${errors.join('; ')}` : ''})`).to.not.equal(undefined);
          if (m.interface) expect(up!.interface).to.equal(m.interface);
          const wwan = await read(ctx, 'cat /run/wwan/WwanStatus/global.json 2>/dev/null || cat /run/wwan/status.json 2>/dev/null');
          if (wwan.code === 0) ctx.attach('WwanStatus', `inventory/wwan-status-${m.name}.json`, wwan.out);
        });
      });
    });
  },
};
