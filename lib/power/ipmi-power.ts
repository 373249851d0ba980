// IPMI chassis power through ipmitool (lanplus): `chassis power on|off|status`, sequenced (confirmed by reading the
// status back, minimum off time) by SequencedPower. The reset button (`chassis power reset`) is there for callers
// that want it; cycle() is off, minimum off time, on, which every BMC does the same way.
import type { PowerState } from './power.ts';
import { Ipmitool, type IpmiTarget } from '../link/ipmitool.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

export interface IpmiPowerOptions extends IpmiTarget, SequenceOptions {
  /** Deadline of one ipmitool call, ms (default 15 s). */
  callTimeoutMs?: number;
}

class IpmiActions implements PowerActions {
  readonly readsState = true;
  readonly where: string;
  constructor(
    readonly tool: Ipmitool,
    readonly timeoutMs: number,
  ) {
    this.where = tool.where;
  }

  async requestOn(): Promise<void> {
    await this.tool.check(['chassis', 'power', 'on'], 'chassis power on', this.timeoutMs);
  }

  async requestOff(): Promise<void> {
    await this.tool.check(['chassis', 'power', 'off'], 'chassis power off', this.timeoutMs);
  }

  async readState(): Promise<PowerState> {
    const r = await this.tool.check(['chassis', 'power', 'status'], 'chassis power status', this.timeoutMs);
    const m = /Chassis Power is (on|off)/i.exec(r.stdout);
    if (!m) throw this.tool.error(`chassis power status: unexpected answer ${JSON.stringify(r.stdout.trim().slice(-200))}`);
    return m[1]!.toLowerCase() as PowerState;
  }
}

export class IpmiPower extends SequencedPower {
  readonly ipmitool: Ipmitool;
  readonly #timeoutMs: number;

  constructor(opts: IpmiPowerOptions) {
    const tool = new Ipmitool(opts);
    const timeoutMs = opts.callTimeoutMs ?? 15_000;
    super(new IpmiActions(tool, timeoutMs), opts);
    this.ipmitool = tool;
    this.#timeoutMs = timeoutMs;
  }

  /** The reset button (a warm reset: the box does not lose power). */
  async reset(): Promise<void> {
    await this.ipmitool.check(['chassis', 'power', 'reset'], 'chassis power reset', this.#timeoutMs);
  }
}
