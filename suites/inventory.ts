// inventory: what the box is, as it says itself. Collected first and attached to the run; what the box lacks is
// noted, not failed. A pass lists what was read; a box that gave nothing at all is an error (the shell does not
// work as a shell on EVE should), never a pass. Each command prints nothing when it found nothing, so an empty
// answer is a missing one (a loop over an empty glob prints no placeholder lines).
import { LabError } from '../lib/errors.ts';
import type { SuiteModule } from '../lib/suite-runtime/suite-context.ts';
import { read } from './box-facts.ts';

const COMMANDS: Array<[string, string]> = [
  ['eve-release', 'cat /run/eve-release 2>/dev/null || cat /hostfs/etc/eve-release'],
  ['uname', 'uname -a'],
  ['cpuinfo', 'cat /proc/cpuinfo'],
  ['meminfo', 'cat /proc/meminfo'],
  ['cmdline', 'cat /proc/cmdline'],
  ['network', 'ip -d addr 2>/dev/null || ifconfig -a'],
  ['block', 'for b in /sys/block/*; do [ -e $b/size ] && echo "$(basename $b) $(cat $b/size) $(readlink -f $b/device)"; done; true'],
  ['usb', 'for d in /sys/bus/usb/devices/*; do [ -f $d/idVendor ] && echo "$(basename $d) $(cat $d/idVendor):$(cat $d/idProduct) $(cat $d/manufacturer 2>/dev/null) $(cat $d/product 2>/dev/null)"; done; true'],
  ['pci', 'lspci -nn 2>/dev/null || for d in /sys/bus/pci/devices/*; do [ -f $d/vendor ] && echo "$(basename $d) $(cat $d/vendor):$(cat $d/device) class $(cat $d/class)"; done; true'],
  ['dmi', 'grep -H . /sys/class/dmi/id/sys_vendor /sys/class/dmi/id/product_name /sys/class/dmi/id/product_serial /sys/class/dmi/id/board_name /sys/class/dmi/id/bios_version 2>/dev/null'],
  ['watchdog', 'for w in /sys/class/watchdog/*; do [ -d $w ] && echo "$(basename $w) $(cat $w/identity 2>/dev/null) timeout=$(cat $w/timeout 2>/dev/null)"; done; true'],
  ['modules', 'cat /proc/modules'],
  ['dmesg', 'dmesg 2>/dev/null | tail -500'],
];

export const inventorySuite: SuiteModule = {
  capability: 'inventory',
  proves: {},
  register(t, ctx) {
    t.describe('inventory', () => {
      t.check({ check: 'collected' }, 'inventory: collected from the box', async () => {
        const got: string[] = [];
        const missing: string[] = [];
        let release = '';
        for (const [name, cmd] of COMMANDS) {
          const r = await read(ctx, cmd, 60_000);
          const ok = r.code === 0 && r.out !== '';
          (ok ? got : missing).push(name);
          if (name === 'eve-release' && ok) release = r.out;
          ctx.attach(`inventory ${name}`, `inventory/${name}.txt`, r.out + '\n');
        }
        if (got.length === 0) throw new LabError(`on ${ctx.box.name}: the box gave nothing: every inventory command failed or printed nothing (${missing.join(', ')})`);
        ctx.fact('read', got);
        ctx.fact('not-available', missing);
        if (release) ctx.fact('eve-release', release);
      });
    });
  },
};
