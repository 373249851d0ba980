// cellular: each declared modem through ModemManager (`mmcli -J`, in EVE's wwan service): detected, SIM present,
// registered, a data bearer connected on its wwan interface; EVE's WwanStatus where present.
import { expect } from 'chai';
import { notDeclared, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { bearerStatus, modemPaths, modemStatus } from './mmcli.ts';

/** mmcli runs in EVE's wwan service container; on other systems it is on the PATH. */
const MMCLI = 'if command -v eve >/dev/null && eve list 2>/dev/null | grep -q wwan; then eve exec --fork wwan mmcli "$@"; else mmcli "$@"; fi';

export const cellularSuite: SuiteModule = {
  capability: 'cellular',
  register({ describe, it }, ctx) {
    describe('cellular', () => {
      const modems = ctx.profile.hardware.cellular;
      if (modems.length === 0) {
        it('cellular modems', function () {
          notDeclared(this, 'the profile declares no cellular modem');
        });
        return;
      }
      const mm = (args: string) => read(ctx, `sh -c '${MMCLI}' mmcli ${args}`, 60_000);
      modems.forEach((m, i) => {
        let path: string | undefined;
        it(`${m.name}: detected by ModemManager`, async () => {
          const r = await mm('-L -J');
          const list = modemPaths(r.out);
          ctx.fact('modems', list);
          expect(list.length, `ModemManager lists ${list.length} modem(s); modem ${i + 1} is declared`).to.be.greaterThan(i);
          path = list[i];
        });
        it(`${m.name}: SIM present and registered`, async () => {
          expect(path, `${m.name} was not detected`).to.not.equal(undefined);
          const s = modemStatus((await mm(`-m ${path} -J`)).out);
          ctx.fact('modem', s);
          if (m.sim) expect(s.sim, `no SIM in ${m.name} (${s.failedReason ?? 'state ' + s.state})`).to.not.equal(null);
          expect(s.registration, `${m.name} is not registered (state ${s.state}, registration ${s.registration ?? 'none'})`).to.be.oneOf(['home', 'roaming']);
        });
        it(`${m.name}: data bearer connected`, async () => {
          expect(path, `${m.name} was not detected`).to.not.equal(undefined);
          const s = modemStatus((await mm(`-m ${path} -J`)).out);
          const bearers = await Promise.all(s.bearers.map(async (b) => bearerStatus((await mm(`-b ${b} -J`)).out)));
          ctx.fact('bearers', bearers);
          const up = bearers.find((b) => b.connected);
          expect(up, `no connected bearer on ${m.name} (state ${s.state})`).to.not.equal(undefined);
          if (m.interface) expect(up!.interface).to.equal(m.interface);
          const wwan = await read(ctx, 'cat /run/wwan/WwanStatus/global.json 2>/dev/null || cat /run/wwan/status.json 2>/dev/null');
          if (wwan.code === 0) ctx.attach('WwanStatus', `inventory/wwan-status-${m.name}.json`, wwan.out);
        });
      });
    });
  },
};
