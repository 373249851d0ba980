// The box's ModemManager, as the cellular checks ask it: `mmcli -J` in EVE's wwan service (`eve exec --fork wwan
// mmcli`), the modems it lists read once per run and matched to the declared ones (cellular-match.ts); each check
// then reads its own modem's status afresh.
import { expect } from 'chai';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { notRun } from './cellular-config.ts';
import { foundModem, matchModems, type FoundModem, type Modem, type ModemMatch } from './cellular-match.ts';
import { bearerStatus, modemPaths, modemStatus, type BearerStatus, type ModemStatus } from './mmcli.ts';

/** On EVE mmcli exists only in the wwan service container; on other systems it is on the PATH. */
const MMCLI = 'if command -v eve >/dev/null && eve list 2>/dev/null | grep -qw wwan; then eve exec --fork wwan mmcli "$@"; else mmcli "$@"; fi';
const NO_MMCLI = 'no mmcli on the box (EVE before 11.0 has no ModemManager in its wwan service); this suite reads ModemManager only';

export interface Identified {
  found: FoundModem[];
  matches: Map<string, ModemMatch>;
}

export class BoxModems {
  private identified: Promise<Identified | null> | undefined;

  constructor(
    private readonly ctx: SuiteContext,
    private readonly declared: Modem[],
  ) {}

  private mm(args: string) {
    return read(this.ctx, `sh -c '${MMCLI}' mmcli ${args}`, 60_000);
  }

  async status(path: string): Promise<ModemStatus> {
    return modemStatus((await this.mm(`-m ${path} -J`)).out);
  }

  async bearer(path: string): Promise<BearerStatus> {
    return bearerStatus((await this.mm(`-b ${path} -J`)).out);
  }

  /** Every modem ModemManager lists and the declared modems matched to them; skips the test without ModemManager. */
  async identify(test: Mocha.Context): Promise<Identified> {
    this.identified ??= (async () => {
      const r = await this.mm('-L -J');
      // EVE before 11.0 drives modems with uqmi/mbimcli scripts: its wwan service has no ModemManager to ask.
      if (r.code === 127) return null;
      const found = await Promise.all(modemPaths(r.out).map(async (p) => foundModem(p, await this.status(p))));
      return { found, matches: matchModems(this.declared, found) };
    })();
    const id = await this.identified;
    if (!id) notRun(test, NO_MMCLI);
    return id;
  }

  /** The modem ModemManager reports for a declared one, read afresh; the check fails when it was not detected. */
  async modemOf(test: Mocha.Context, m: Modem): Promise<FoundModem> {
    const match = (await this.identify(test)).matches.get(m.name)!;
    expect(match.modem, `${m.name} was not detected (${match.why ?? 'no match'})`).to.not.equal(null);
    return foundModem(match.modem!.path, await this.status(match.modem!.path));
  }
}
