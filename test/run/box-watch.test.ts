// The box watch's reading of the console, fed what a fixture box really printed (the golden level-2 run's console
// log, recorded by `npm run golden`) in the pieces a serial console delivers: a box that starts again while no reset
// was asked for is lost at once; the suites' own console traffic, and a reset the watchdog suite asked for, are not.
// The box and its shell are in-process stand-ins (nothing here powers off or disconnects); the same watch on a real
// bench VM reset mid-suite is in test/install/bench-defects.test.ts.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { Console } from '../../lib/console/console.ts';
import { BoxWatch, type BoxLoss } from '../../lib/run/box-watch.ts';
import { MemoryLink } from '../helpers/memory-link.ts';

const LOG = new URL('../golden/amd64-level2/console/qemu-amd64.log', import.meta.url);

/** The golden console log as the box sent it (without the log's timestamps and eve-qual's own `#` notes). */
function boxLines(): string[] {
  const lines = fs.readFileSync(LOG, 'utf8').split('\n');
  return lines.flatMap((l) => {
    const m = /^\S+Z \| (.*)$/s.exec(l);
    return m ? [m[1]!] : [];
  });
}

/** The installed system's boot (from its firmware) and what the console showed after it, up to the watchdog reset. */
function phases(): { boot: string[]; running: string[]; watchdogReset: string[] } {
  const lines = boxLines();
  const firmware = lines.map((l, i) => (/BdsDxe: loading Boot/.test(l) ? i : -1)).filter((i) => i >= 0);
  expect(firmware, 'three starts in the golden log: installer, installed system, watchdog reset').to.have.length(3);
  const [, installed, reset] = firmware as [number, number, number];
  const prompt = lines.findIndex((l, i) => i > installed && /:~# /.test(l));
  return { boot: lines.slice(installed, prompt), running: lines.slice(prompt, reset), watchdogReset: lines.slice(reset) };
}

/** What a watch armed on a console reports while `drive` feeds it (in 7-byte pieces: no line arrives whole). */
async function lossesWhile(drive: (feed: (lines: string[]) => void, watch: BoxWatch) => void): Promise<BoxLoss[]> {
  const link = new MemoryLink();
  const con = new Console(link, { boxName: 'box1' });
  const shell = Object.assign(new EventEmitter(), { hostPort: '127.0.0.1:1', connect: async () => undefined });
  const box = { name: 'box1', poweredOff: () => null, power: { readsState: false, where: 'stand-in', state: async () => 'on' as const } };
  const losses: BoxLoss[] = [];
  const watch = new BoxWatch({ box: box as never, console: con, ssh: () => shell as never, poweredOffIs: 'QEMU exited' }, (l) => losses.push(l));
  await link.open();
  watch.arm();
  drive((lines) => link.feedChunked(Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1'), 7), watch);
  watch.close();
  return losses;
}

describe('the box watch reads the console: a box that starts again by itself is lost at once', () => {
  it('the firmware of a box starting again, no reset asked for: one loss, "box rebooted by itself" with the line', async () => {
    const losses = await lossesWhile((feed) => feed(phases().boot));
    expect(losses).to.have.length(1);
    expect(losses[0]!.message).to.match(/^box rebooted by itself: the console showed "BdsDxe: loading Boot0002 "UEFI Misc Device"/);
    expect(losses[0]!.panic).to.equal(undefined);
  });

  it('what the console showed while the suites ran (before the watchdog reset): no loss', async () => {
    const { running } = phases();
    expect(running.length, 'the suites ran with the console open').to.be.greaterThan(10);
    expect(await lossesWhile((feed) => feed(running))).to.deep.equal([]);
  });

  it('a reset the watchdog suite asked for (expectReboot), then the shell back (arm): no loss', async () => {
    const losses = await lossesWhile((feed, watch) => {
      watch.expectReboot();
      feed(phases().watchdogReset);
      watch.arm();
      feed(['56e8844d-5a70-4867-befb-cf81fd3467c1:~# ']);
    });
    expect(losses).to.deep.equal([]);
  });

  it('a kernel banner split over many pieces with no firmware before it (a box whose firmware is silent): a loss', async () => {
    const losses = await lossesWhile((feed) => feed(phases().boot.filter((l) => !/BdsDxe|GNU GRUB/.test(l))));
    expect(losses.map((l) => l.message)).to.have.length(1);
    expect(losses[0]!.message).to.match(/the console showed "\[ +0\.000000\] Linux version 6\.1\./);
  });
});
