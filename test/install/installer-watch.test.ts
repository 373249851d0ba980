// The installer watch (the wait installRelease makes on EVE's installer console) fed EVE's own lines, as
// pkg/installer/install prints them, in the pieces a serial console delivers.
import { expect } from 'chai';
import { Console } from '../../lib/console/console.ts';
import { BoxError, EveQualError, LabError } from '../../lib/errors.ts';
import { INSTALL_FAILURES, INSTALLING_ON, NOTICE_POWEROFF, NOTICE_REBOOT } from '../../lib/install/eve-installer-lines.ts';
import { expectInstaller } from '../../lib/install/installer-watch.ts';
import { withTimeout } from '../../lib/util/deadline.ts';
import { MemoryLink } from '../helpers/memory-link.ts';

const fails = { failPatterns: INSTALL_FAILURES, noDefaultFailPatterns: true };

function watch(patterns: RegExp[]): { link: MemoryLink; result: Promise<unknown> } {
  const link = new MemoryLink();
  const con = new Console(link, { boxName: 'box1' });
  const result = expectInstaller(con, patterns, { ...fails, timeout: 3000, awaited: "the installer's NOTICE line" }).catch((e: unknown) => e);
  return { link, result };
}

/** What the watch ended with: it must end well before its 3 s deadline (on the line itself). */
async function outcome(result: Promise<unknown>): Promise<unknown> {
  return withTimeout(result, 2000, () => new Error('the watch did not end on the line'));
}

describe("EVE's installer on the console (installer watch)", () => {
  describe('EVE pauses with a multi-word reason (Pausing before start the installation.)', () => {
    for (const [reason, option] of [
      ['start the installation', 'eve_pause_before_install'],
      ['shutting the node down', 'eve_pause_after_install'],
    ] as const) {
      it(`"${reason}": ends the wait at once as a lab error naming the reason and ${option}`, async () => {
        const { link, result } = watch([INSTALLING_ON]);
        link.feedChunked(Buffer.from(`Pausing before ${reason}. Entering shell. Type 'exit' to proceed to ${reason}\r\n`), 9);
        const err = await outcome(result);
        expect(err).to.be.instanceOf(LabError);
        const msg = (err as EveQualError).message;
        expect(msg).to.contain(`paused before ${reason}`);
        expect(msg).to.contain(option);
        expect(msg).to.contain('exit');
      });
    }
  });

  describe('EVE 16.13+ creates an EFI boot entry after "completed" and fails on legacy BIOS (FATAL: cannot mount efivarfs)', () => {
    it('the FATAL line fails the install as a box error that says the box must boot in UEFI mode', async () => {
      const { link, result } = watch([NOTICE_POWEROFF, NOTICE_REBOOT]);
      link.feed('2026-12-03 09:41:20 : EVE-OS installation completed, device will now reboot/poweroff\r\n');
      link.feed('mount: mounting efivarfs on /sys/firmware/efi/efivars failed: No such file or directory\r\n');
      link.feedChunked(Buffer.from('2026-12-03 09:41:20 : FATAL: cannot mount efivarfs\r\n'), 5);
      const err = await outcome(result);
      expect(err).to.be.instanceOf(BoxError);
      const msg = (err as EveQualError).message;
      expect(msg).to.contain('FATAL: cannot mount efivarfs');
      expect(msg).to.match(/must boot in UEFI mode/);
      expect(msg).to.match(/legacy BIOS|CSM/);
      expect((err as EveQualError).tail!.join('\n')).to.contain('installation completed');
    });

    it('FATAL: cannot create EFI boot entry (efivarfs there, NVRAM refused) also names UEFI boot and the firmware', async () => {
      const { link, result } = watch([NOTICE_POWEROFF, NOTICE_REBOOT]);
      link.feed('2026-12-03 09:41:20 : EVE-OS installation completed, device will now reboot/poweroff\r\n');
      link.feed('2026-12-03 09:41:21 : creating EFI boot entry for EVE-OS: (X86_64) /dev/sda EFI\\BOOT\\BOOTX64.EFI\r\n');
      link.feed('Could not prepare Boot variable: No space left on device\r\n2026-12-03 09:41:21 : FATAL: cannot create EFI boot entry\r\n');
      const err = await outcome(result);
      expect(err).to.be.instanceOf(BoxError);
      const msg = (err as EveQualError).message;
      expect(msg).to.contain('FATAL: cannot create EFI boot entry');
      expect(msg).to.match(/UEFI mode/);
      expect(msg).to.match(/EFI variables/);
    });

    it('another FATAL line keeps its own words (no UEFI advice where it does not apply)', async () => {
      const { link, result } = watch([INSTALLING_ON]);
      link.feed("2026-12-03 09:41:20 : FATAL: didn't find a single free disk\r\n");
      const err = await outcome(result);
      expect(err).to.be.instanceOf(BoxError);
      expect((err as EveQualError).message).to.contain("FATAL: didn't find a single free disk");
      expect((err as EveQualError).message).to.not.match(/UEFI/);
    });

    it('the EFI step succeeding is not a failure: the NOTICE line after it ends the wait', async () => {
      const { link, result } = watch([NOTICE_POWEROFF, NOTICE_REBOOT]);
      link.feed('2026-12-03 09:41:20 : EVE-OS installation completed, device will now reboot/poweroff\r\n');
      link.feed('2026-12-03 09:41:21 : creating EFI boot entry for EVE-OS: (X86_64) /dev/vda EFI\\BOOT\\BOOTX64.EFI\r\n');
      link.feed('2026-12-03 09:41:21 : EFI boot entries after install:\r\n');
      link.feed('NOTICE: Device will now power off. Remove the USB stick and power it back on to complete the installation.\r\n');
      const r = (await outcome(result)) as { index: number };
      expect(r.index).to.equal(0);
    });
  });
});
