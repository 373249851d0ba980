// Serial line settings, shared by a local serial device (SerialLink) and a terminal server port driven over RFC 2217
// (TcpSerialLink): a profile says "115200 8N1" once, whichever way the box is wired.
import { ConfigError } from '../errors.ts';

export type Parity = 'none' | 'even' | 'odd' | 'mark' | 'space';
export type DataBits = 5 | 6 | 7 | 8;
export type StopBits = 1 | 1.5 | 2;

export interface SerialSettings {
  baudRate: number;
  dataBits: DataBits;
  parity: Parity;
  stopBits: StopBits;
  /** Hardware (RTS/CTS) flow control. */
  rtscts: boolean;
  /** Software flow control, input and output. Consoles almost never use it: a 0x13 in a binary stream would stall. */
  xon: boolean;
  xoff: boolean;
}

/** 115200 8N1 without flow control: what EVE's supported boxes use out of the box. */
export const defaultSerialSettings: Readonly<SerialSettings> = Object.freeze({
  baudRate: 115200,
  dataBits: 8,
  parity: 'none',
  stopBits: 1,
  rtscts: false,
  xon: false,
  xoff: false,
});

const parities: readonly Parity[] = ['none', 'even', 'odd', 'mark', 'space'];

/**
 * Fill in defaults and check each field, so a typo in a profile fails before anything is opened. `field` is the
 * profile path of the object (e.g. `console.link`), used to name the bad field in the ConfigError.
 */
export function resolveSerialSettings(given: Partial<Record<keyof SerialSettings, unknown>>, field = 'link'): SerialSettings {
  const s: SerialSettings = { ...defaultSerialSettings };
  const bad = (name: string, what: string, value: unknown) =>
    new ConfigError(`${field}.${name}: ${what} (got ${JSON.stringify(value)})`, { where: `${field}.${name}` });

  if (given.baudRate !== undefined) {
    if (typeof given.baudRate !== 'number' || !Number.isInteger(given.baudRate) || given.baudRate <= 0 || given.baudRate > 0xffffffff)
      throw bad('baudRate', 'must be a positive integer', given.baudRate);
    s.baudRate = given.baudRate;
  }
  if (given.dataBits !== undefined) {
    if (given.dataBits !== 5 && given.dataBits !== 6 && given.dataBits !== 7 && given.dataBits !== 8)
      throw bad('dataBits', 'must be 5, 6, 7 or 8', given.dataBits);
    s.dataBits = given.dataBits;
  }
  if (given.parity !== undefined) {
    if (!parities.includes(given.parity as Parity)) throw bad('parity', `must be one of ${parities.join(', ')}`, given.parity);
    s.parity = given.parity as Parity;
  }
  if (given.stopBits !== undefined) {
    if (given.stopBits !== 1 && given.stopBits !== 1.5 && given.stopBits !== 2) throw bad('stopBits', 'must be 1, 1.5 or 2', given.stopBits);
    s.stopBits = given.stopBits;
  }
  for (const flag of ['rtscts', 'xon', 'xoff'] as const) {
    const v = given[flag];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw bad(flag, 'must be true or false', v);
    s[flag] = v;
  }
  return s;
}

/** `115200 8N1`, as lab engineers write it. */
export function formatSerialSettings(s: SerialSettings): string {
  return `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;
}
