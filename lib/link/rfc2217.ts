// RFC 2217 (telnet COM-PORT-OPTION, option 44): setting a terminal server's serial line from the client. The server
// answers each SET-* with the value it actually applied, so the link can refuse to run a box at the wrong baud rate
// instead of reading garbage.
import { TelnetOption, type TelnetCodec } from './telnet.ts';
import type { Parity, SerialSettings, StopBits } from './serial-settings.ts';

const SET_BAUDRATE = 1;
const SET_DATASIZE = 2;
const SET_PARITY = 3;
const SET_STOPSIZE = 4;
const SET_CONTROL = 5;
/** Server replies carry the client command code plus 100. */
const REPLY_OFFSET = 100;

const parityCode: Record<Parity, number> = { none: 1, odd: 2, even: 3, mark: 4, space: 5 };
const stopCode = (s: StopBits) => (s === 1 ? 1 : s === 2 ? 2 : 3);
/** SET-CONTROL values for outbound flow control: none, XON/XOFF, hardware. */
const flowCode = (s: SerialSettings) => (s.rtscts ? 3 : s.xon || s.xoff ? 2 : 1);

interface Request {
  what: string;
  command: number;
  value: number;
  payload: Buffer;
}

function requests(s: SerialSettings): Request[] {
  const baud = Buffer.alloc(4);
  baud.writeUInt32BE(s.baudRate);
  const one = (command: number, value: number, what: string): Request => ({ what, command, value, payload: Buffer.from([command, value]) });
  return [
    { what: 'baud rate', command: SET_BAUDRATE, value: s.baudRate, payload: Buffer.concat([Buffer.from([SET_BAUDRATE]), baud]) },
    one(SET_DATASIZE, s.dataBits, 'data bits'),
    one(SET_PARITY, parityCode[s.parity], 'parity'),
    one(SET_STOPSIZE, stopCode(s.stopBits), 'stop bits'),
    one(SET_CONTROL, flowCode(s), 'flow control'),
  ];
}

/** What the terminal server reported it applied, in SET-* terms (raw codes for parity/stop/flow). */
export interface ComPortReport {
  baudRate?: number;
  dataBits?: number;
  parityCode?: number;
  stopCode?: number;
  flowCode?: number;
}

/**
 * Drives COM-PORT-OPTION over a TelnetCodec: offer WILL COM-PORT-OPTION, and once the server agrees send the line
 * settings; `settled` resolves when the server has confirmed every one, and rejects (with words for a lab engineer)
 * when it refuses the option or applies a different value.
 */
export class ComPortControl {
  readonly report: ComPortReport = {};
  readonly settled: Promise<ComPortReport>;
  readonly #codec: () => TelnetCodec;
  readonly #pending: Map<number, Request>;
  #resolve!: (r: ComPortReport) => void;
  #reject!: (e: Error) => void;
  #done = false;

  /** `codec` is a getter because the codec is built with this object's handlers. */
  constructor(codec: () => TelnetCodec, settings: SerialSettings) {
    this.#codec = codec;
    this.#pending = new Map(requests(settings).map((r) => [r.command, r]));
    this.settled = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Whoever opens the link awaits `settled`; a rejection nobody waits for anymore must not crash the process.
    this.settled.catch(() => undefined);
  }

  /** What the server has not confirmed yet, in words (for a connect timeout). */
  get unconfirmed(): string[] {
    if (this.#done) return [];
    if (!this.#codec().isSettled('local', TelnetOption.COM_PORT)) return ['RFC 2217 (COM-PORT-OPTION)'];
    return [...this.#pending.values()].map((r) => `RFC 2217 ${r.what}`);
  }

  start(): void {
    this.#codec().requestLocal(TelnetOption.COM_PORT);
  }

  /** Feed TelnetCodec's onOption here. */
  onOption(side: 'local' | 'remote', option: number, enabled: boolean): void {
    if (side !== 'local' || option !== TelnetOption.COM_PORT || this.#done) return;
    if (!enabled) return this.#fail('the terminal server refused RFC 2217 (COM-PORT-OPTION): enable it, e.g. telnet(rfc2217) in ser2net');
    for (const r of this.#pending.values()) this.#codec().subnegotiate(TelnetOption.COM_PORT, r.payload);
  }

  /** Feed TelnetCodec's onSubnegotiation here. */
  onSubnegotiation(option: number, data: Buffer): void {
    if (option !== TelnetOption.COM_PORT || data.length < 2) return;
    const command = data[0]! - REPLY_OFFSET;
    const value = command === SET_BAUDRATE && data.length >= 5 ? data.readUInt32BE(1) : data[1]!;
    switch (command) {
      case SET_BAUDRATE:
        this.report.baudRate = value;
        break;
      case SET_DATASIZE:
        this.report.dataBits = value;
        break;
      case SET_PARITY:
        this.report.parityCode = value;
        break;
      case SET_STOPSIZE:
        this.report.stopCode = value;
        break;
      case SET_CONTROL:
        this.report.flowCode = value;
        break;
      default:
        return; // NOTIFY-LINESTATE/MODEMSTATE and friends: not needed to run a console.
    }
    const req = this.#pending.get(command);
    if (!req || this.#done) return;
    // SET-CONTROL replies may echo other control values (e.g. DTR/RTS state); only an outbound-flow answer counts.
    if (command === SET_CONTROL && value > 3) return;
    this.#pending.delete(command);
    if (value !== req.value) return this.#fail(`the terminal server applied ${req.what} ${value} instead of ${req.value}`);
    if (this.#pending.size === 0) {
      this.#done = true;
      this.#resolve(this.report);
    }
  }

  #fail(message: string): void {
    this.#done = true;
    this.#reject(new Error(message));
  }
}
