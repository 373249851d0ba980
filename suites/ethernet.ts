// ethernet: every declared port is present (EVE renames ethN to kethN behind a bridge ethN: both layouts handled),
// has carrier where cabled, an IPv4 address by DHCP, reaches its declared peer, links at its declared speed.
import { expect } from 'chai';
import { notDeclaredCheck, pollBox, type SuiteContext, type SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { q, read } from './box-facts.ts';

interface Layout {
  /** The interface that carries the link (kethN under EVE, else ethN). */
  phys: string;
  /** The interface that holds the address (the bridge ethN under EVE, else ethN). */
  addr: string;
}

async function layout(ctx: SuiteContext, name: string): Promise<Layout | null> {
  const r = await read(ctx, `for n in ${q(name)} ${q('k' + name)}; do [ -e /sys/class/net/$n ] && echo $n; done`);
  const present = r.out.split('\n').filter(Boolean);
  if (present.includes(`k${name}`)) return { phys: `k${name}`, addr: name };
  if (present.includes(name)) return { phys: name, addr: name };
  return null;
}

async function mustLayout(ctx: SuiteContext, name: string): Promise<Layout> {
  const l = await layout(ctx, name);
  expect(l, `${name} (or k${name}) is not in /sys/class/net on the box`).to.not.equal(null);
  return l!;
}

export const ethernetSuite: SuiteModule = {
  capability: 'ethernet',
  proves: {},
  register(t, ctx) {
    t.describe('ethernet', () => {
      const ports = ctx.profile.hardware.ethernet;
      if (ports.length === 0) {
        notDeclaredCheck(t, 'Ethernet ports', 'the profile declares no Ethernet port');
      }
      for (const p of ports) {
        t.check({ item: p.name, check: 'present' }, `${p.name}: present`, async () => {
          const l = await layout(ctx, p.name);
          ctx.fact('interfaces', l);
          expect(l, `${p.name} (or k${p.name}) is not in /sys/class/net on the box`).to.not.equal(null);
        });
        if (p.cabled) {
          t.check({ item: p.name, check: 'carrier' }, `${p.name}: has carrier`, async () => {
            const l = await mustLayout(ctx, p.name);
            const carrier = await pollBox(() => read(ctx, `cat /sys/class/net/${l.phys}/carrier 2>/dev/null`), (r) => r.out === '1', 30_000);
            ctx.fact(`${l.phys}.carrier`, carrier.out || '(unreadable: interface down)');
            expect(carrier.out, `no carrier on ${l.phys} (is the cable in? the profile says it is cabled)`).to.equal('1');
          });
        }
        if (p.dhcp) {
          t.check({ item: p.name, check: 'dhcp' }, `${p.name}: has an address by DHCP`, async () => {
            const l = await mustLayout(ctx, p.name);
            const addr = await pollBox(
              () => read(ctx, `ip -4 -o addr show dev ${l.addr} 2>/dev/null | sed -n 's/.* inet \\([0-9.]*\\/[0-9]*\\).*/\\1/p'`),
              (r) => r.out !== '',
              60_000,
              2000,
            );
            ctx.fact(`${l.addr}.ipv4`, addr.out || null);
            expect(addr.out, `${l.addr} has no IPv4 address after 60 s`).to.match(/^\d+\.\d+\.\d+\.\d+\/\d+/);
          });
        }
        if (p.peer) {
          t.check({ item: p.name, check: 'reaches-peer' }, `${p.name}: reaches ${p.peer}`, async () => {
            const l = await mustLayout(ctx, p.name);
            const r = await read(ctx, `ping -c 3 -W 2 -I ${l.addr} ${q(p.peer!)} 2>&1`, 30_000);
            ctx.fact('ping', r.out.split('\n').slice(-2).join(' | '));
            expect(r.code, `no answer from ${p.peer} through ${l.addr}:\n${r.out}`).to.equal(0);
          });
        }
        if (p.speedMbps) {
          t.check({ item: p.name, check: 'speed' }, `${p.name}: links at ${p.speedMbps} Mb/s`, async () => {
            const l = await mustLayout(ctx, p.name);
            const r = await read(ctx, `cat /sys/class/net/${l.phys}/speed 2>/dev/null`);
            ctx.fact(`${l.phys}.speed`, r.out);
            expect(Number(r.out), `${l.phys} links at ${r.out || 'unknown'} Mb/s`).to.equal(p.speedMbps);
          });
        }
      }
    });
  },
};
