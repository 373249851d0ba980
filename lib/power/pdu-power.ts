// A PDU outlet through pdudaemon's HTTP API (`/power/control/on|off?hostname=PDU&port=OUTLET`), so any PDU that
// pdudaemon has a driver for works (APC, Raritan-over-SNMP, Tasmota, relays...). pdudaemon runs the request before it
// answers, but it cannot read an outlet back and answers 200 even when its driver failed: state() is `unknown`, on/off
// mean "pdudaemon accepted it", and whoever needs certainty confirms from the console or SSH
// (lib/power/confirm.ts). What pdudaemon does refuse (an unknown PDU hostname, a bad outlet) is a lab error.
import http from 'node:http';
import { ConfigError, LabError, describeSystemError, formatMs } from '../errors.ts';
import type { PowerState } from './power.ts';
import { SequencedPower, type PowerActions, type SequenceOptions } from './sequencing.ts';

export interface PduPowerOptions extends SequenceOptions {
  /** pdudaemon's base URL, http://HOST:16421. */
  daemon: string;
  /** The PDU's name in pdudaemon.conf (its `pdus:` key). */
  hostname: string;
  /** The outlet number. */
  port: number | string;
  /** Deadline of one request, ms (default 60 s: pdudaemon runs the PDU command, and retries it, before answering). */
  requestTimeoutMs?: number;
}

class PduActions implements PowerActions {
  readonly readsState = false;
  readonly where: string;
  readonly #base: URL;
  readonly #outlet: number;

  constructor(readonly opts: PduPowerOptions) {
    let base: URL;
    try {
      base = new URL(opts.daemon);
    } catch {
      throw new ConfigError(`power.daemon ${JSON.stringify(opts.daemon)} is not a URL (http://HOST:16421)`);
    }
    if (base.protocol !== 'http:') throw new ConfigError(`power.daemon must be pdudaemon's http:// URL (got ${opts.daemon})`);
    const outlet = typeof opts.port === 'number' ? opts.port : /^\d+$/.test(opts.port) ? Number(opts.port) : NaN;
    if (!Number.isInteger(outlet) || outlet < 0) throw new ConfigError(`power.port: pdudaemon outlets are numbers (got ${JSON.stringify(opts.port)})`);
    this.#base = base;
    this.#outlet = outlet;
    this.where = `pdu:${opts.hostname}/${outlet} via ${base.host}`;
  }

  async #request(what: 'on' | 'off'): Promise<void> {
    const url = new URL(`/power/control/${what}`, this.#base);
    url.searchParams.set('hostname', this.opts.hostname);
    url.searchParams.set('port', String(this.#outlet));
    const ms = this.opts.requestTimeoutMs ?? 60_000;
    const r = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.get(url, { timeout: ms }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      });
      req.on('timeout', () => {
        req.destroy();
        reject(new LabError(`${this.where}: pdudaemon did not answer power ${what} within ${formatMs(ms)} (is its PDU driver hanging?)`, { where: this.where }));
      });
      req.on('error', (e) => reject(e instanceof LabError ? e : new LabError(`${this.where}: cannot reach pdudaemon at ${this.#base.origin}: ${describeSystemError(e)}`, { where: this.where, cause: e })));
    });
    if (r.status === 200) return;
    const said = r.text.trim().split('\n')[0] ?? '';
    const hint = /Invalid request/i.test(said) ? ` (is ${JSON.stringify(this.opts.hostname)} a PDU in pdudaemon.conf?)` : r.status >= 500 ? ' (pdudaemon failed on the request: see its log)' : '';
    throw new LabError(`${this.where}: pdudaemon refused power ${what}: HTTP ${r.status} ${said}${hint}`, { where: this.where });
  }

  requestOn(): Promise<void> {
    return this.#request('on');
  }
  requestOff(): Promise<void> {
    return this.#request('off');
  }
  async readState(): Promise<PowerState> {
    return 'unknown';
  }
}

export class PduPower extends SequencedPower {
  constructor(opts: PduPowerOptions) {
    super(new PduActions(opts), opts);
  }
}
