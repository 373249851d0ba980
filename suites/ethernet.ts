// ethernet: every declared port is present (EVE renames ethN to kethN behind a bridge ethN: both layouts handled)
// with the driver of its declared model, has carrier on the physical interface where cabled, an IPv4 address that
// a DHCP lease gave it (the kernel's lease lifetime and EVE's network status, never just "an address"), links at the
// declared speed and duplex, and carries a measured transfer to eve-qual's traffic peer out of that very port.
import { expect } from 'chai';
import { LabError } from '../lib/errors.ts';
import type { Profile } from '../lib/profile/schema.ts';
import { notDeclaredCheck, pollBox, type Bdd, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';
import { DHCP_CLIENT, DNS_FILE, DRIVER_OF_MODEL, driverOf, ipv4Addresses, layout, portStatus, sendThrough, TRANSFER_BYTES, txBytes, type Layout } from './ethernet-port.ts';

type Port = Profile['hardware']['ethernet'][number];

/** QEMU's user network: the host (the runner's loopback, where the traffic peer listens) as the guest sees it. */
const SLIRP_HOST = '10.0.2.2';
const TRANSFER_TIMEOUT_MS = 120_000;

async function mustLayout(ctx: SuiteContext, name: string): Promise<Layout> {
  const l = await layout(ctx, name);
  expect(l, `${name} (or k${name}) is not in /sys/class/net on the box`).to.not.equal(null);
  return l!;
}

async function checkDhcp(ctx: SuiteContext, p: Port): Promise<void> {
  const l = await mustLayout(ctx, p.name);
  ctx.fact('declared', { dhcp: true });
  const addrs = await pollBox(() => ipv4Addresses(ctx, l.addr), (a) => a.length > 0, 60_000, 2000);
  ctx.fact(`${l.addr}.ipv4`, addrs.map((a) => a.line));
  const status = await portStatus(ctx, p.name);
  if (status === undefined) throw new LabError(`EVE's network status ${DNS_FILE} is missing or not JSON on the box: the address's origin cannot be read`);
  ctx.fact('DeviceNetworkStatus', status ?? `no port ${p.name} in ${DNS_FILE}`);
  const config = status ? `EVE's status gives it Dhcp ${status.Dhcp} (4 client, 1 static, 2 none)` : `EVE's status (${DNS_FILE}) has no port ${p.name}`;
  expect(addrs, `${l.addr} has no IPv4 address after 60 s; ${config}`).to.not.be.empty;
  expect(status, config).to.not.equal(null);
  expect(status!.Dhcp, `EVE runs no DHCP client on ${p.name} (its DevicePortConfig gives Dhcp ${status!.Dhcp}; 4 is client, 1 static)`).to.equal(DHCP_CLIENT);
  const leased = addrs.filter((a) => a.validLft !== null);
  expect(leased, `${l.addr}'s address ${addrs.map((a) => a.cidr).join(', ')} has no lease lifetime (valid_lft forever): set statically, not by DHCP`).to.not.be.empty;
  const listed = new Set((status!.AddrInfoList ?? []).map((a) => a.Addr));
  const proven = leased.filter((a) => listed.has(a.cidr.split('/')[0]!));
  expect(proven.map((a) => a.cidr), `EVE's status lists ${[...listed].join(', ') || 'no address'} for ${p.name}, not the leased ${leased.map((a) => a.cidr).join(', ')}`).to.not.be.empty;
  ctx.fact('lease', { address: proven[0]!.cidr, validLftSeconds: proven[0]!.validLft });
}

async function checkTraffic(ctx: SuiteContext, p: Port): Promise<void> {
  const host = p.peer ?? (ctx.profile.box.kind === 'virtual' ? SLIRP_HOST : null);
  if (!host) throw new LabError(`hardware.ethernet ${p.name} declares no peer: the runner's address this port reaches (eve-qual's traffic peer listens there)`);
  if (!ctx.peer) throw new LabError('this run started no traffic peer on the runner');
  const l = await mustLayout(ctx, p.name);
  ctx.fact('declared', { peer: p.peer ?? null, minThroughputMbps: p.minThroughputMbps ?? null });
  ctx.fact('peer', `${host}:${ctx.peer.port} (eve-qual on the runner, listening on ${ctx.peer.host})`);
  const before = await txBytes(ctx, l.phys);
  const sent = await sendThrough(ctx, l.addr, host, TRANSFER_TIMEOUT_MS);
  const after = await txBytes(ctx, l.phys);
  ctx.fact('sender', sent.sender);
  const got = sent.received;
  const mbps = got && got.seconds > 0 ? Math.round(((got.bytes * 8) / got.seconds / 1e6) * 10) / 10 : null;
  ctx.fact('received', got ? { bytes: got.bytes, announced: got.announced, seconds: got.seconds, complete: got.complete, mbps } : null);
  ctx.fact(`${l.phys}.tx_bytes`, { before, after, grew: before !== null && after !== null ? after - before : null });
  expect(got, `the peer ${host} received nothing through ${l.addr}: ${sent.sender.out.slice(-300)}`).to.not.equal(null);
  expect(got!.complete, `the peer received ${got!.bytes} of ${got!.announced} bytes through ${l.addr}`).to.equal(true);
  expect(before !== null && after !== null, `tx_bytes of ${l.phys} unreadable`).to.equal(true);
  expect(after! - before!, `${l.phys} sent ${after! - before!} bytes while ${TRANSFER_BYTES} went to the peer: the transfer left by another port`).to.be.at.least(TRANSFER_BYTES);
  if (p.minThroughputMbps !== undefined) {
    expect(mbps, `${TRANSFER_BYTES} bytes through ${p.name} at ${mbps} Mb/s (the peer's count), under the declared ${p.minThroughputMbps}`).to.be.at.least(p.minThroughputMbps);
  }
}

/** A sysfs link attribute (speed, duplex) of the physical interface against its declared value. */
async function checkLinkAttr(ctx: SuiteContext, p: Port, attr: 'speed' | 'duplex', declared: number | string): Promise<void> {
  const l = await mustLayout(ctx, p.name);
  const r = await read(ctx, `cat /sys/class/net/${l.phys}/${attr} 2>/dev/null`);
  ctx.fact('declared', { [attr === 'speed' ? 'speedMbps' : 'duplex']: declared });
  ctx.fact(`${l.phys}.${attr}`, r.code === 0 ? r.out : '(unreadable: no link)');
  expect(r.code === 0 ? r.out : 'unknown', `${l.phys} links at ${attr} ${r.out || 'unknown'}, declared ${declared}`).to.equal(String(declared));
}

function registerPort(t: Bdd, ctx: SuiteContext, p: Port): void {
  t.check({ item: p.name, check: 'present' }, `${p.name}: present`, async () => {
    const l = await layout(ctx, p.name);
    ctx.fact('declared', { name: p.name });
    ctx.fact('interfaces', l);
    expect(l, `${p.name} (or k${p.name}) is not in /sys/class/net on the box`).to.not.equal(null);
  });
  if (p.model) {
    const want = DRIVER_OF_MODEL[p.model]!;
    t.check({ item: p.name, check: 'model' }, `${p.name}: a ${p.model} NIC (driver ${want})`, async () => {
      const l = await mustLayout(ctx, p.name);
      const driver = await driverOf(ctx, l.phys);
      ctx.fact('declared', { model: p.model, driver: want });
      ctx.fact(`${l.phys}.driver`, driver || '(none bound)');
      expect(driver, `${l.phys} is driven by ${driver || 'no driver'}, not ${want} (a ${p.model})`).to.equal(want);
    });
  }
  if (!p.cabled) return;
  t.check({ item: p.name, check: 'carrier' }, `${p.name}: has carrier`, async () => {
    const l = await mustLayout(ctx, p.name);
    const carrier = await pollBox(() => read(ctx, `cat /sys/class/net/${l.phys}/carrier 2>/dev/null`), (r) => r.out === '1', 30_000);
    ctx.fact('declared', { cabled: true });
    ctx.fact(`${l.phys}.carrier`, carrier.out || '(unreadable: interface down)');
    expect(carrier.out, `no carrier on ${l.phys} (is the cable in? the profile says it is cabled)`).to.equal('1');
  });
  if (p.dhcp) t.check({ item: p.name, check: 'dhcp' }, `${p.name}: has an address by DHCP (a lease, in EVE's network status)`, () => checkDhcp(ctx, p));
  if (p.speedMbps !== undefined) t.check({ item: p.name, check: 'speed' }, `${p.name}: links at ${p.speedMbps} Mb/s`, () => checkLinkAttr(ctx, p, 'speed', p.speedMbps!));
  if (p.duplex) t.check({ item: p.name, check: 'duplex' }, `${p.name}: links at ${p.duplex} duplex`, () => checkLinkAttr(ctx, p, 'duplex', p.duplex!));
  t.check({ item: p.name, check: 'traffic' }, `${p.name}: carries a measured transfer to the peer`, () => checkTraffic(ctx, p));
}

export const ethernetSuite: SuiteModule = {
  capability: 'ethernet',
  proves: { cabled: 'carrier', dhcp: 'dhcp', peer: 'traffic', speedMbps: 'speed', duplex: 'duplex', minThroughputMbps: 'traffic', model: 'model' },
  register(t, ctx) {
    t.describe('ethernet', () => {
      const ports = ctx.profile.hardware.ethernet;
      if (ports.length === 0) notDeclaredCheck(t, 'Ethernet ports', 'the profile declares no Ethernet port');
      for (const p of ports) registerPort(t, ctx, p);
    });
  },
};
