// From a profile's plain link object to a Link. Profiles are YAML written by hand, so the object is checked here
// field by field, and unknown fields are errors: a misspelt `baudrate` must not silently leave a box at 115200.
import { ConfigError } from '../errors.ts';
import type { Link } from './link.ts';
import type { ReconnectOptions } from './reconnecting-link.ts';
import { resolveSerialSettings, type SerialSettings } from './serial-settings.ts';
import { SerialLink, checkLocalSerialSupport } from './serial-link.ts';
import { TcpSerialLink, type TcpSerialProtocol } from './tcp-serial-link.ts';
import { QemuSocketLink } from './qemu-socket-link.ts';
import { ProcessLink } from './process-link.ts';

type Timing = Pick<ReconnectOptions, 'connectTimeoutMs' | 'reconnectDeadlineMs'>;

export interface SerialLinkConfig extends Timing, Partial<SerialSettings> {
  type: 'serial';
  path: string;
}

export interface TcpLinkConfig extends Timing, Partial<SerialSettings> {
  type: 'tcp';
  host: string;
  port: number;
  /** Default 'raw'. Serial settings are accepted only with 'rfc2217', the one protocol that can apply them. */
  protocol?: TcpSerialProtocol;
  /** telnet and rfc2217: wait for the server's answer to DO TIMING-MARK before the link counts as open (default). */
  confirmOpen?: boolean;
}

export type QemuLinkConfig = Timing & { type: 'qemu' } & ({ path: string; host?: never; port?: never } | { host: string; port: number; path?: never });

export interface ProcessLinkConfig extends Timing {
  type: 'process';
  /** argv: [file, ...args]; a shell line is refused. */
  command: string[];
  name?: string;
  cwd?: string;
  env?: Record<string, string>;
  stderr?: 'data' | 'ignore';
}

export type LinkConfig = SerialLinkConfig | TcpLinkConfig | QemuLinkConfig | ProcessLinkConfig;

const serialKeys = ['baudRate', 'dataBits', 'parity', 'stopBits', 'rtscts', 'xon', 'xoff'] as const;
const timingKeys = ['connectTimeoutMs', 'reconnectDeadlineMs'] as const;

/**
 * Check a link object and build the Link. `field` is where the object sits in the profile (e.g. `console.link`), so
 * a ConfigError names the exact field to fix.
 */
export function createLink(config: LinkConfig, field = 'link'): Link {
  const c = parseLinkConfig(config, field);
  switch (c.type) {
    case 'serial':
      return new SerialLink(c);
    case 'tcp':
      return new TcpSerialLink(c);
    case 'qemu':
      return new QemuSocketLink(c);
    case 'process':
      return new ProcessLink(c);
  }
}

/** Validate an untyped object (e.g. straight from YAML) as a LinkConfig. */
export function parseLinkConfig(raw: unknown, field = 'link'): LinkConfig {
  const check = new Checker(raw, field);
  const type = check.oneOf('type', ['serial', 'tcp', 'qemu', 'process'] as const, true);
  const timing: Timing = {
    connectTimeoutMs: check.positiveInt('connectTimeoutMs'),
    reconnectDeadlineMs: check.positiveInt('reconnectDeadlineMs'),
  };
  switch (type) {
    case 'serial': {
      check.only(['type', 'path', ...serialKeys, ...timingKeys]);
      const path = check.string('path', true);
      const serial = check.serial();
      checkLocalSerialSupport(resolveSerialSettings(serial, field), field);
      return { type, path, ...timing, ...serial };
    }
    case 'tcp': {
      check.only(['type', 'host', 'port', 'protocol', 'confirmOpen', ...serialKeys, ...timingKeys]);
      const host = check.string('host', true);
      const port = check.port('port', true);
      const protocol = check.oneOf('protocol', ['raw', 'telnet', 'rfc2217'] as const) ?? 'raw';
      const confirmOpen = check.boolean('confirmOpen');
      if (confirmOpen !== undefined && protocol === 'raw')
        throw new ConfigError(`${field}.confirmOpen: applies only with protocol telnet or rfc2217`, { where: `${field}.confirmOpen` });
      const serial = check.serial();
      const given = serialKeys.filter((k) => check.obj[k] !== undefined);
      if (protocol !== 'rfc2217' && given.length > 0)
        throw new ConfigError(
          `${field}.${given[0]}: serial settings apply only with protocol rfc2217; with ${protocol} the terminal server's own port setup decides`,
          { where: `${field}.${given[0]}` },
        );
      return { type, host, port, protocol, ...(confirmOpen !== undefined ? { confirmOpen } : {}), ...timing, ...serial };
    }
    case 'qemu': {
      check.only(['type', 'path', 'host', 'port', ...timingKeys]);
      if (check.obj.path !== undefined) {
        if (check.obj.host !== undefined || check.obj.port !== undefined)
          throw new ConfigError(`${field}: give either path (unix socket) or host and port (TCP), not both`, { where: field });
        return { type, path: check.string('path', true), ...timing };
      }
      if (check.obj.host === undefined && check.obj.port === undefined)
        throw new ConfigError(`${field}: needs path (unix socket) or host and port (TCP)`, { where: field });
      return { type, host: check.string('host', true), port: check.port('port', true), ...timing };
    }
    case 'process': {
      check.only(['type', 'command', 'name', 'cwd', 'env', 'stderr', ...timingKeys]);
      const command = check.argv('command');
      const env = check.env('env');
      return {
        type,
        command,
        name: check.string('name'),
        cwd: check.string('cwd'),
        ...(env ? { env } : {}),
        stderr: check.oneOf('stderr', ['data', 'ignore'] as const),
        ...timing,
      };
    }
  }
}

class Checker {
  readonly obj: Record<string, unknown>;
  readonly #field: string;

  constructor(raw: unknown, field: string) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new ConfigError(`${field}: must be an object with a type (serial, tcp, qemu or process)`, { where: field });
    this.obj = raw as Record<string, unknown>;
    this.#field = field;
  }

  #bad(key: string, what: string): ConfigError {
    const value = this.obj[key];
    return new ConfigError(`${this.#field}.${key}: ${what}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`, {
      where: `${this.#field}.${key}`,
    });
  }

  only(keys: readonly string[]): void {
    for (const k of Object.keys(this.obj)) {
      if (!keys.includes(k)) throw this.#bad(k, `unknown field for a ${String(this.obj.type)} link (known: ${keys.join(', ')})`);
    }
  }

  string(key: string, required: true): string;
  string(key: string, required?: boolean): string | undefined;
  string(key: string, required = false): string | undefined {
    const v = this.obj[key];
    if (v === undefined) {
      if (required) throw this.#bad(key, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v === '') throw this.#bad(key, 'must be a non-empty string');
    return v;
  }

  port(key: string, required: true): number {
    const v = this.obj[key];
    if (v === undefined && required) throw this.#bad(key, 'is required');
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw this.#bad(key, 'must be a TCP port, 1 to 65535');
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v !== undefined && typeof v !== 'boolean') throw this.#bad(key, 'must be true or false');
    return v;
  }

  positiveInt(key: string): number | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw this.#bad(key, 'must be a positive whole number of milliseconds');
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], required: true): T;
  oneOf<T extends string>(key: string, values: readonly T[], required?: boolean): T | undefined;
  oneOf<T extends string>(key: string, values: readonly T[], required = false): T | undefined {
    const v = this.obj[key];
    if (v === undefined) {
      if (required) throw this.#bad(key, `is required: one of ${values.join(', ')}`);
      return undefined;
    }
    if (!values.includes(v as T)) throw this.#bad(key, `must be one of ${values.join(', ')}`);
    return v as T;
  }

  serial(): Partial<SerialSettings> {
    const given: Partial<Record<keyof SerialSettings, unknown>> = {};
    for (const k of serialKeys) if (this.obj[k] !== undefined) given[k] = this.obj[k];
    // Validate through the same code the links use; return only what was given so defaults stay in one place.
    resolveSerialSettings(given, this.#field);
    return given as Partial<SerialSettings>;
  }

  argv(key: string): string[] {
    const v = this.obj[key];
    if (v === undefined) throw this.#bad(key, 'is required: an argv array, e.g. [ipmitool, -I, lanplus, sol, activate]');
    if (typeof v === 'string') throw this.#bad(key, 'must be an argv array, not a shell line (nothing is run through a shell)');
    if (!Array.isArray(v) || v.length === 0 || !v.every((a) => typeof a === 'string') || v[0] === '')
      throw this.#bad(key, 'must be a non-empty array of strings');
    return [...(v as string[])];
  }

  env(key: string): Record<string, string> | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v) || !Object.values(v).every((x) => typeof x === 'string'))
      throw this.#bad(key, 'must be a map of names to string values');
    return { ...(v as Record<string, string>) };
  }
}
