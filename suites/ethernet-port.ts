// What the ethernet suite reads from the box about one port: which interfaces carry it (EVE's kethN under a bridge
// ethN, or a plain ethN), its IPv4 address with the kernel's lifetime, EVE's network status for it, and a transfer
// through it to eve-qual's traffic peer.
import { randomBytes } from 'node:crypto';
import type { Transfer } from '../lib/lab/traffic-peer.ts';
import type { SuiteContext } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';

export interface Layout {
  /** The interface that carries the link (kethN under EVE, else ethN). */
  phys: string;
  /** The interface that holds the address (the bridge ethN under EVE, else ethN). */
  addr: string;
}

export async function layout(ctx: SuiteContext, name: string): Promise<Layout | null> {
  const r = await read(ctx, `for n in ${q(name)} ${q('k' + name)}; do [ -e /sys/class/net/$n ] && echo $n; done`);
  const present = r.out.split('\n').filter(Boolean);
  if (present.includes(`k${name}`)) return { phys: `k${name}`, addr: name };
  if (present.includes(name)) return { phys: name, addr: name };
  return null;
}

/** The Linux driver a QEMU NIC model binds (virtio-net-pci is a virtio device under PCI). */
export const DRIVER_OF_MODEL: Record<string, string> = { 'virtio-net-pci': 'virtio_net', e1000: 'e1000', e1000e: 'e1000e' };

/** The driver bound to the interface's device, '' when none (a bridge, or no device). */
export async function driverOf(ctx: SuiteContext, iface: string): Promise<string> {
  const r = await read(ctx, `basename "$(readlink /sys/class/net/${iface}/device/driver)" 2>/dev/null`);
  return r.code === 0 && r.out !== '.' ? r.out : '';
}

/** One IPv4 address as `ip -o addr` prints it: the address, and its valid lifetime in seconds (null = forever). */
export interface KernelAddress {
  cidr: string;
  validLft: number | null;
  line: string;
}

export async function ipv4Addresses(ctx: SuiteContext, iface: string): Promise<KernelAddress[]> {
  const r = await read(ctx, `ip -4 -o addr show dev ${iface} 2>/dev/null`);
  const out: KernelAddress[] = [];
  for (const line of r.out.split('\n')) {
    const m = /\sinet (\d+\.\d+\.\d+\.\d+\/\d+)\s.*valid_lft (\S+)/.exec(line);
    if (!m) continue;
    out.push({ cidr: m[1]!, validLft: m[2] === 'forever' ? null : parseInt(m[2]!, 10), line: line.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

/** EVE's status of one port (pkg/pillar/types/dns.go NetworkPortStatus: the fields this suite compares). */
export interface PortStatus {
  IfName: string;
  Dhcp: number;
  Up?: boolean;
  AddrInfoList?: { Addr: string }[];
}

export const DNS_FILE = '/run/nim/DeviceNetworkStatus/global.json';
/** EVE's DhcpType for "run a DHCP client" (types.DhcpTypeClient); 1 is static. */
export const DHCP_CLIENT = 4;

/** The port's entry in EVE's DeviceNetworkStatus; undefined when the file is unreadable, null when it lists no such port. */
export async function portStatus(ctx: SuiteContext, name: string): Promise<PortStatus | null | undefined> {
  const r = await read(ctx, `cat ${DNS_FILE} 2>/dev/null`);
  if (r.code !== 0 || !r.out) return undefined;
  let dns: { Ports?: PortStatus[] };
  try {
    dns = JSON.parse(r.out) as typeof dns;
  } catch {
    return undefined;
  }
  const p = (dns.Ports ?? []).find((x) => x.IfName === name);
  return p ? { IfName: p.IfName, Dhcp: p.Dhcp, ...(p.Up !== undefined ? { Up: p.Up } : {}), AddrInfoList: p.AddrInfoList ?? [] } : null;
}

export async function txBytes(ctx: SuiteContext, iface: string): Promise<number | null> {
  const r = await read(ctx, `cat /sys/class/net/${iface}/statistics/tx_bytes 2>/dev/null`);
  return r.code === 0 && /^\d+$/.test(r.out) ? Number(r.out) : null;
}

/** Bytes each transfer sends: a few MB, enough for a throughput figure and far above the SSH chatter on a port. */
export const TRANSFER_BYTES = 4 << 20;

export interface SentTransfer {
  /** What the box's sender said (exit code, and the peer's answer or the error). */
  sender: { code: number; out: string };
  /** What the peer received, null when nothing arrived. */
  received: Transfer | null;
}

/**
 * Send TRANSFER_BYTES from the box to the peer at `host:port`, bound to `iface` (SO_BINDTODEVICE: the kernel sends
 * through that interface whatever the routing table prefers), with socat, which EVE's debug container carries.
 */
export async function sendThrough(ctx: SuiteContext, iface: string, host: string, timeoutMs: number): Promise<SentTransfer> {
  const peer = ctx.peer!;
  const token = `${iface}-${randomBytes(6).toString('hex')}`;
  const cmd =
    `{ printf 'EVEQUAL %s %s\\n' ${q(token)} ${TRANSFER_BYTES}; head -c ${TRANSFER_BYTES} /dev/zero; } | ` +
    `socat -t ${Math.ceil(timeoutMs / 1000)} - ${q(`TCP:${host}:${peer.port},so-bindtodevice=${iface},connect-timeout=15`)} 2>&1`;
  const sender = await read(ctx, cmd, timeoutMs + 30_000);
  // socat returns once the peer closed, which it does after the last byte: the record is there or never will be.
  const received = await peer.transfer(token, 5000).catch(() => null);
  return { sender, received };
}
