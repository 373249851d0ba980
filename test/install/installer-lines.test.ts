// EVE's installer lines as the watcher matches them, arriving in pieces as a serial console delivers them.
import { expect } from 'chai';
import { Console } from '../../lib/console/console.ts';
import { INSTALLING_ON, INSTALL_FAILURES, NOTICE_POWEROFF } from '../../lib/install/eve-installer-lines.ts';
import { MemoryLink } from '../helpers/memory-link.ts';

describe("EVE's installer lines under chunking", () => {
  it('takes the whole device name even when a chunk ends inside it', async () => {
    const link = new MemoryLink();
    const con = new Console(link, { boxName: 'b' });
    const p = con.expect([INSTALLING_ON], { failPatterns: INSTALL_FAILURES, noDefaultFailPatterns: true });
    link.feed('2026-11-24 22:41:20 : Installing EVE-OS on device v');
    link.feed('da\r\n');
    expect((await p).match![1]).to.equal('vda');
  });

  it('an empty device name (no free disk) does not match; the FATAL line that follows fails the wait', async () => {
    const link = new MemoryLink();
    const con = new Console(link, { boxName: 'b' });
    const p = con.expect([INSTALLING_ON], { failPatterns: INSTALL_FAILURES, noDefaultFailPatterns: true });
    link.feed("2026-11-24 22:41:20 : Installing EVE-OS on device \r\n2026-11-24 22:41:20 : FATAL: didn't find a sin");
    link.feed('gle free disk\r\n');
    const err = await p.catch((e) => e);
    expect(err.line).to.equal("2026-11-24 22:41:20 : FATAL: didn't find a single free disk");
  });

  it('matches the power-off NOTICE split across chunks', async () => {
    const link = new MemoryLink();
    const con = new Console(link, { boxName: 'b' });
    const p = con.expect([NOTICE_POWEROFF]);
    const line = 'NOTICE: Device will now power off. Remove the USB stick and power it back on to complete the installation.\r\n';
    link.feedChunked(Buffer.from(line), 7);
    expect((await p).text).to.contain('power it back on');
  });
});
