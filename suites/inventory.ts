// inventory: what the box is, as it says itself. Always collected first and attached to the run; never a reason to
// fail (a command the box lacks is noted, not failed).
import type { SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

const COMMANDS: Array<[string, string]> = [
  ['eve-release', 'cat /run/eve-release 2>/dev/null || cat /hostfs/etc/eve-release'],
  ['uname', 'uname -a'],
  ['cpuinfo', 'cat /proc/cpuinfo'],
  ['meminfo', 'cat /proc/meminfo'],
  ['cmdline', 'cat /proc/cmdline'],
  ['network', 'ip -d addr 2>/dev/null || ifconfig -a'],
  ['block', 'for b in /sys/block/*; do echo "$(basename $b) $(cat $b/size) $(readlink -f $b/device)"; done'],
  ['usb', 'for d in /sys/bus/usb/devices/*; do [ -f $d/idVendor ] && echo "$(basename $d) $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/manufacturer 2>/dev/null) $(cat $d/product 2>/dev/null)"; done'],
  ['pci', 'lspci -nn 2>/dev/null || for d in /sys/bus/pci/devices/*; do echo "$(basename $d) $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"; done'],
  ['dmi', 'for f in sys_vendor product_name product_serial board_name bios_version; do echo "$f: $(cat /sys/class/dmi/id/$f 2>/dev/null)"; done'],
  ['watchdog', 'for w in /sys/class/watchdog/*; do echo "$(basename $w) $(cat $w/identity 2>/dev/null) timeout=$(cat $w/timeout 2>/dev/null)"; done'],
  ['modules', 'cat /proc/modules'],
  ['dmesg', 'dmesg 2>/dev/null | tail -500'],
];

export const inventorySuite: SuiteModule = {
  capability: 'inventory',
  proves: {},
  register(t, ctx) {
    t.describe('inventory', () => {
      t.check({ check: 'collected' }, 'inventory: collected from the box', async () => {
        const missing: string[] = [];
        for (const [name, cmd] of COMMANDS) {
          const r = await read(ctx, cmd, 60_000);
          if (r.code !== 0 && !r.out) missing.push(name);
          ctx.attach(`inventory ${name}`, `inventory/${name}.txt`, r.out + '\n');
        }
        ctx.fact('not-available', missing);
        const rel = await read(ctx, COMMANDS[0]![1]);
        ctx.fact('eve-release', rel.out);
      });
    });
  },
};
