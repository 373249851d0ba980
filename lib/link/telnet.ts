// Telnet (RFC 854/855) as lab terminal servers speak it: a codec that turns the telnet byte stream into the box's
// bytes and back, and answers option negotiation. Negotiation follows the Q method of RFC 1143 so that both sides
// offering the same option at once (ser2net opens with DO/WILL of its own) settles without a loop.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;
const CR = 13;
const LF = 10;
const NUL = 0;

export const TelnetOption = {
  BINARY: 0,
  ECHO: 1,
  SGA: 3,
  TIMING_MARK: 6,
  COM_PORT: 44,
} as const;

type Q = 'no' | 'yes' | 'wantyes' | 'wantno';

/** `local` is what we do (WILL/WONT from us), `remote` what the server does (DO/DONT from us). */
export type TelnetSide = 'local' | 'remote';

export interface TelnetCodecOptions {
  /** Send negotiation bytes to the server (already telnet-encoded). */
  send(bytes: Buffer): void;
  /** Options we agree to perform when the server asks (DO x → WILL x). Others are refused. */
  acceptLocal: Iterable<number>;
  /** Options we agree to let the server perform (WILL x → DO x). Others are refused. */
  acceptRemote: Iterable<number>;
  /** An option became enabled or disabled; `enabled: false` after we asked for it means the server refused. */
  onOption?(side: TelnetSide, option: number, enabled: boolean): void;
  /** A subnegotiation (IAC SB option … IAC SE), with IAC IAC already unescaped. */
  onSubnegotiation?(option: number, data: Buffer): void;
}

/** A subnegotiation longer than this is a broken peer, not a message: drop it rather than grow without bound. */
const MAX_SB = 4096;

type ParseState = 'data' | 'iac' | 'verb' | 'sb-option' | 'sb' | 'sb-iac';

export class TelnetCodec {
  readonly #opts: TelnetCodecOptions;
  readonly #acceptLocal: Set<number>;
  readonly #acceptRemote: Set<number>;
  readonly #local = new Map<number, Q>();
  readonly #remote = new Map<number, Q>();

  #state: ParseState = 'data';
  #verb = 0;
  #sbOption = 0;
  #sb: number[] = [];
  /** The last data byte was a CR in NVT (non-binary) mode: a NUL right after it is padding, not data. */
  #afterCR = false;

  constructor(opts: TelnetCodecOptions) {
    this.#opts = opts;
    this.#acceptLocal = new Set(opts.acceptLocal);
    this.#acceptRemote = new Set(opts.acceptRemote);
  }

  isEnabled(side: TelnetSide, option: number): boolean {
    return (side === 'local' ? this.#local : this.#remote).get(option) === 'yes';
  }

  /** No request for this option is waiting for the server's answer. */
  isSettled(side: TelnetSide, option: number): boolean {
    const q = (side === 'local' ? this.#local : this.#remote).get(option) ?? 'no';
    return q === 'yes' || q === 'no';
  }

  /** Offer to perform an option (IAC WILL). The answer arrives through onOption. */
  requestLocal(option: number): void {
    this.#acceptLocal.add(option);
    if ((this.#local.get(option) ?? 'no') === 'no') {
      this.#local.set(option, 'wantyes');
      this.#sendCommand(WILL, option);
    }
  }

  /** Ask the server to perform an option (IAC DO). */
  requestRemote(option: number): void {
    this.#acceptRemote.add(option);
    if ((this.#remote.get(option) ?? 'no') === 'no') {
      this.#remote.set(option, 'wantyes');
      this.#sendCommand(DO, option);
    }
  }

  /** Send IAC SB option <payload, IAC doubled> IAC SE. */
  subnegotiate(option: number, payload: Buffer): void {
    this.#opts.send(Buffer.concat([Buffer.from([IAC, SB, option]), escapeIAC(payload), Buffer.from([IAC, SE])]));
  }

  /** Strip telnet commands from a received chunk, keeping the state across chunk boundaries; returns the data. */
  decode(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const b of chunk) {
      switch (this.#state) {
        case 'data':
          if (b === IAC) {
            this.#state = 'iac';
          } else if (this.#afterCR && b === NUL) {
            this.#afterCR = false;
          } else {
            out[n++] = b;
            this.#afterCR = b === CR && !this.isEnabled('remote', TelnetOption.BINARY);
          }
          break;
        case 'iac':
          if (b === IAC) {
            out[n++] = IAC;
            this.#afterCR = false;
            this.#state = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.#verb = b;
            this.#state = 'verb';
          } else if (b === SB) {
            this.#state = 'sb-option';
          } else {
            // NOP, GA, DM, AYT, BRK…: nothing a console needs to act on.
            this.#state = 'data';
          }
          break;
        case 'verb':
          this.#negotiate(this.#verb, b);
          this.#state = 'data';
          break;
        case 'sb-option':
          this.#sbOption = b;
          this.#sb = [];
          this.#state = 'sb';
          break;
        case 'sb':
          if (b === IAC) this.#state = 'sb-iac';
          else if (this.#sb.length < MAX_SB) this.#sb.push(b);
          break;
        case 'sb-iac':
          if (b === SE) {
            this.#state = 'data';
            if (this.#sb.length < MAX_SB) this.#opts.onSubnegotiation?.(this.#sbOption, Buffer.from(this.#sb));
            this.#sb = [];
          } else {
            if (b === IAC && this.#sb.length < MAX_SB) this.#sb.push(IAC);
            // Anything else after IAC inside SB is a protocol error; stay in SB until IAC SE like most servers do.
            this.#state = 'sb';
          }
          break;
      }
    }
    return out.subarray(0, n);
  }

  /** Prepare data for the wire: double every 0xFF; outside BINARY mode, send a bare CR as CR NUL (RFC 854). */
  encode(data: Buffer): Buffer {
    const binary = this.isEnabled('local', TelnetOption.BINARY);
    let extra = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i];
      if (b === IAC || (!binary && b === CR && data[i + 1] !== LF)) extra++;
    }
    if (extra === 0) return data;
    const out = Buffer.allocUnsafe(data.length + extra);
    let n = 0;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      out[n++] = b;
      if (b === IAC) out[n++] = IAC;
      else if (!binary && b === CR && data[i + 1] !== LF) out[n++] = NUL;
    }
    return out;
  }

  #sendCommand(verb: number, option: number): void {
    this.#opts.send(Buffer.from([IAC, verb, option]));
  }

  #set(side: TelnetSide, option: number, q: Q): void {
    const table = side === 'local' ? this.#local : this.#remote;
    const was = table.get(option) ?? 'no';
    table.set(option, q);
    if (q === 'yes' && was !== 'yes') this.#opts.onOption?.(side, option, true);
    // A refusal of something we asked for, or a switch-off: both matter to whoever waits on the option.
    if (q === 'no' && was !== 'no') this.#opts.onOption?.(side, option, false);
  }

  // RFC 1143 section 7, without the queue bit: we never change our mind while a request is pending.
  #negotiate(verb: number, option: number): void {
    if (verb === WILL || verb === WONT) {
      const q = this.#remote.get(option) ?? 'no';
      if (verb === WILL) {
        if (q === 'no') {
          if (this.#acceptRemote.has(option)) {
            this.#set('remote', option, 'yes');
            this.#sendCommand(DO, option);
          } else {
            this.#sendCommand(DONT, option);
          }
        } else if (q === 'wantyes') {
          this.#set('remote', option, 'yes');
        } else if (q === 'wantno') {
          this.#set('remote', option, 'no');
        }
      } else if (q === 'yes') {
        this.#set('remote', option, 'no');
        this.#sendCommand(DONT, option);
      } else if (q !== 'no') {
        this.#set('remote', option, 'no');
      }
      return;
    }
    const q = this.#local.get(option) ?? 'no';
    if (verb === DO) {
      if (q === 'no') {
        if (this.#acceptLocal.has(option)) {
          this.#set('local', option, 'yes');
          this.#sendCommand(WILL, option);
        } else {
          this.#sendCommand(WONT, option);
        }
      } else if (q === 'wantyes') {
        this.#set('local', option, 'yes');
      } else if (q === 'wantno') {
        this.#set('local', option, 'no');
      }
    } else if (q === 'yes') {
      this.#set('local', option, 'no');
      this.#sendCommand(WONT, option);
    } else if (q !== 'no') {
      this.#set('local', option, 'no');
    }
  }
}

/** Double every IAC byte, as data and subnegotiation payloads require. */
export function escapeIAC(data: Buffer): Buffer {
  let count = 0;
  for (const b of data) if (b === IAC) count++;
  if (count === 0) return data;
  const out = Buffer.allocUnsafe(data.length + count);
  let n = 0;
  for (const b of data) {
    out[n++] = b;
    if (b === IAC) out[n++] = IAC;
  }
  return out;
}
