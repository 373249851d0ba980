// Power sequencing that real hardware needs, written once for every driver: a change is confirmed by reading the
// state back (polling with backoff until a deadline) where the driver can, a power supply gets its minimum off time
// before it is switched on again, and a change that cannot be confirmed is a lab error that names the driver and
// what it last read. Drivers only say how to request on/off and how to read the state (PowerActions).
import { LabError, formatMs } from '../errors.ts';
import { Deadline, pause } from '../util/deadline.ts';
import type { Power, PowerState } from './power.ts';

/** What a driver does once, without any sequencing. */
export interface PowerActions {
  readonly where: string;
  /** Whether readState() can tell on from off. */
  readonly readsState: boolean;
  requestOn(): Promise<void>;
  requestOff(): Promise<void>;
  readState(): Promise<PowerState>;
  close?(): Promise<void>;
}

export interface SequenceOptions {
  /** Minimum time between off and the next on, ms (profile `minOffSeconds`; default 5 s: supplies need to drain). */
  minOffMs?: number;
  /** How long a change may take to show in the state read back, ms (default 60 s: BMCs update slowly). */
  confirmTimeoutMs?: number;
  /** Where power actions are recorded (a console log note, the step log). Never given a secret. */
  log?: (line: string) => void;
}

export const DEFAULT_MIN_OFF_MS = 5000;

export class SequencedPower implements Power {
  readonly where: string;
  readonly readsState: boolean;
  readonly minOffMs: number;
  readonly confirmTimeoutMs: number;
  readonly #actions: PowerActions;
  readonly #log: (line: string) => void;
  /** When power was last seen (or, without read-back, requested) off; undefined when not known in this process. */
  #offSince: number | undefined;

  constructor(actions: PowerActions, opts: SequenceOptions = {}) {
    this.#actions = actions;
    this.where = actions.where;
    this.readsState = actions.readsState;
    this.minOffMs = opts.minOffMs ?? DEFAULT_MIN_OFF_MS;
    this.confirmTimeoutMs = opts.confirmTimeoutMs ?? 60_000;
    this.#log = opts.log ?? (() => undefined);
  }

  async on(): Promise<void> {
    if (this.readsState) {
      const now = await this.#actions.readState();
      if (now === 'on') {
        this.#log(`power on: ${this.where} is already on`);
        return;
      }
      // Off for an unknown time (seen off for the first time now): the off time starts here.
      if (now === 'off' && this.#offSince === undefined) this.#offSince = Date.now();
    }
    await this.#waitMinOff();
    this.#log(`power on: ${this.where}`);
    await this.#actions.requestOn();
    if (this.readsState) await this.#confirm('on');
    this.#offSince = undefined;
  }

  async off(): Promise<void> {
    if (this.readsState && (await this.#actions.readState()) === 'off') {
      this.#log(`power off: ${this.where} is already off`);
      this.#offSince ??= Date.now();
      return;
    }
    this.#log(`power off: ${this.where}`);
    await this.#actions.requestOff();
    if (this.readsState) await this.#confirm('off');
    this.#offSince = Date.now();
  }

  async cycle(): Promise<void> {
    await this.off();
    await this.on();
  }

  state(): Promise<PowerState> {
    return this.readsState ? this.#actions.readState() : Promise.resolve('unknown');
  }

  async close(): Promise<void> {
    await this.#actions.close?.();
  }

  async #waitMinOff(): Promise<void> {
    if (this.#offSince === undefined) return;
    const left = this.minOffMs - (Date.now() - this.#offSince);
    if (left <= 0) return;
    // Deliberate pacing, not a wait for an event: the supply must stay off this long.
    this.#log(`power on: ${this.where}: keeping it off ${formatMs(left)} more (minimum off time ${formatMs(this.minOffMs)})`);
    await pause(left);
  }

  /** Poll the state until it reads `want`, with backoff, within the confirm deadline. */
  async #confirm(want: 'on' | 'off'): Promise<void> {
    const deadline = new Deadline(this.confirmTimeoutMs);
    let delay = 100;
    let last: PowerState | string = 'unknown';
    for (;;) {
      try {
        last = await this.#actions.readState();
        if (last === want) {
          this.#log(`power ${want}: ${this.where} confirmed ${want}`);
          return;
        }
      } catch (e) {
        // A BMC that is busy switching may fail a read; only the last word counts at the deadline.
        last = `unreadable (${e instanceof Error ? e.message : String(e)})`;
      }
      if (deadline.remaining() <= 0) break;
      await pause(Math.min(delay, deadline.remaining()));
      delay = Math.min(delay * 2, 2000);
    }
    throw new LabError(
      `${this.where}: power ${want} not confirmed: the state read back is still ${last} after ${formatMs(this.confirmTimeoutMs)}`,
      { where: this.where },
    );
  }
}
