// Whether EVE manages a modem: its wwan agent disables the radio of every modem its network config does not list,
// so registration and a data bearer can be checked only on a listed one. The config in effect is read from the box's
// CONFIG (what eve-qual wrote there, lib/media/network-config.ts, or what the release brought) and /persist, as nim
// reads them, and recorded; a check on a modem it does not list is skipped (not-run) with the reason, never passed.
import { addressMatches, configInEffect, networkConfigFor, type ConfigInEffect } from '../lib/media/network-config.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';
import type { FoundModem, Modem } from './cellular-match.ts';

/** Skip the current test: it could not be checked for a reason outside the hardware (not evidence either way). */
export function notRun(test: Mocha.Context, why: string): never {
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

/** A gate for the checks that need EVE to manage the modem: returns when it does (or, unknowable, left its radio
 * on), skips the test otherwise. The config is read once per run. */
export function managedGate(ctx: SuiteContext): (test: Mocha.Context, m: Modem, found: FoundModem) => Promise<void> {
  let inEffect: Promise<ConfigInEffect> | undefined;
  const plan = networkConfigFor(ctx.profile, new Date());
  return async (test, m, found) => {
    const c = await (inEffect ??= readConfigInEffect(ctx));
    ctx.fact('networkConfig', c);
    if (!c.known) {
      if (found.status.powerState === 'low') notRun(test, `EVE's wwan agent disabled the radio of ${m.name} (power state low): ${c.why}`);
      return;
    }
    const listed = c.networks.find((n) => addressMatches(n.physAddrs, found.addrs));
    ctx.fact('listedAs', listed ?? null);
    if (listed) return;
    const why = plan.unlisted.find((u) => u.name === m.name)?.reason;
    notRun(
      test,
      `EVE's network config (${c.source}) does not list ${m.name} (at ${JSON.stringify(found.addrs)})${why ? `, as ${why}` : ''}: EVE's wwan agent disables the radio of an unlisted modem`,
    );
  };
}
