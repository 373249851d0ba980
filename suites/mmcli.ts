// Reading ModemManager's JSON (`mmcli -J`): the few fields a qualification decides on.
import type { WwanPhysAddrs } from '../lib/media/network-config.ts';

export interface ModemStatus {
  state: string;
  /** `on`, or `low` once EVE's wwan agent disabled the radio (a modem its network config does not list). */
  powerState: string | null;
  /** The sysfs path of the modem's device, e.g. /sys/devices/pci0000:00/0000:00:14.0/usb2/2-3. */
  device: string | null;
  failedReason: string | null;
  sim: string | null;
  registration: string | null;
  operator: string | null;
  accessTech: string[];
  bearers: string[];
  ports: string[];
  model: string | null;
  manufacturer: string | null;
}

export interface BearerStatus {
  path: string;
  connected: boolean;
  interface: string | null;
  ipv4: string | null;
  /** The APN the bearer was set up with (its properties). */
  apn: string | null;
  /** Why the last connection attempt failed (ModemManager's connection-error message). */
  error: string | null;
}

const none = (v: unknown): string | null => (typeof v === 'string' && v !== '--' && v !== '' ? v : null);

function parse(text: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`mmcli ${what} did not print JSON: ${text.slice(0, 200)}`);
  }
}

export function modemPaths(text: string): string[] {
  const j = parse(text, '-L -J');
  const list = j['modem-list'];
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

export function modemStatus(text: string): ModemStatus {
  const m = (parse(text, '-m -J').modem ?? {}) as Record<string, Record<string, unknown>>;
  const g = m.generic ?? {};
  const g3 = m['3gpp'] ?? {};
  return {
    state: String(g.state ?? 'unknown'),
    powerState: none(g['power-state']),
    device: none(g.device),
    failedReason: none(g['state-failed-reason']),
    sim: none(g.sim),
    registration: none(g3['registration-state']),
    operator: none(g3['operator-name']),
    accessTech: Array.isArray(g['access-technologies']) ? (g['access-technologies'] as string[]) : [],
    bearers: Array.isArray(g.bearers) ? (g.bearers as string[]) : [],
    ports: Array.isArray(g.ports) ? (g.ports as string[]) : [],
    model: none(g.model),
    manufacturer: none(g.manufacturer),
  };
}

export function bearerStatus(text: string): BearerStatus {
  const b = (parse(text, '-b -J').bearer ?? {}) as Record<string, Record<string, unknown> | string>;
  const status = (b.status ?? {}) as Record<string, unknown>;
  const v4 = (b['ipv4-config'] ?? {}) as Record<string, unknown>;
  const props = (b.properties ?? {}) as Record<string, unknown>;
  return {
    path: String(b['dbus-path'] ?? ''),
    connected: status.connected === 'yes',
    interface: none(status.interface),
    ipv4: none(v4.address),
    apn: none(props.apn),
    error: none(((status['connection-error'] ?? {}) as Record<string, unknown>).message),
  };
}

/** The address EVE's wwan agent reads for a modem (mmdbus getModemPhysAddrs): the USB device as `<bus>:<port>`, the
 * nearest PCI device above it, and the network interface among its ports. */
export function physAddrsOf(s: ModemStatus): WwanPhysAddrs {
  const parts = (s.device ?? '').split('/');
  const usb = parts.filter((p) => /^\d+-[\d.]+$/.test(p)).pop() ?? '';
  const pci = parts.filter((p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p)).pop() ?? '';
  const net = s.ports.map((p) => /^(\S+) \(net\)$/.exec(p)?.[1]).find((x) => x !== undefined) ?? '';
  return { usb: usb.replace('-', ':'), pci, interface: net };
}
