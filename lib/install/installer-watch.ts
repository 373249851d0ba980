// The wait on EVE's installer console: one of its progress lines, with its failure lines as fail patterns (given by
// the caller), and two things a harness must say in words rather than as a bare line or a silence:
//   a pause (eve_pause_*): the installer waits at a shell for someone to type `exit`, which an unattended run never
//     does, so the wait ends at once (a lab error: the profile asked for it, the box is not at fault);
//   the EFI boot entry step of EVE 16.13+ failing: the box booted in legacy BIOS/CSM mode, and EVE installs only
//     on UEFI now (a box error: that box, as set up, cannot run the release).
import type { Console, ExpectOptions, ExpectResult } from '../console/console.ts';
import { FailPatternError } from '../console/console.ts';
import { BoxError, LabError } from '../errors.ts';
import { EFI_ENTRY_FAILURE, EFI_VARS_FAILURE, PAUSE, PAUSE_OPTIONS } from './eve-installer-lines.ts';

function pauseError(con: Console, reason: string): LabError {
  const option = PAUSE_OPTIONS[reason] ?? 'eve_pause_before_install or eve_pause_after_install';
  return new LabError(
    `the installer paused before ${reason} (${option} on its kernel command line, from install.extraArgs) and waits at a shell on the console until someone types exit; an unattended install cannot go on: remove ${option} from the profile`,
    { where: con.where, tail: con.tail() },
  );
}

/** A FATAL line of the EFI boot entry step, explained; other failures pass unchanged. */
function explainFailure(err: unknown): unknown {
  if (!(err instanceof FailPatternError)) return err;
  const details = { where: err.where ?? '', tail: err.tail ?? [], cause: err };
  if (EFI_VARS_FAILURE.test(err.line)) {
    return new BoxError(
      `${err.message}: since EVE 16.13 the installer creates an EFI boot entry and needs the firmware's EFI variables; this box booted the installer in legacy BIOS/CSM mode. The box must boot in UEFI mode: turn CSM/legacy boot off in its firmware setup and boot the installer through UEFI`,
      details,
    );
  }
  if (EFI_ENTRY_FAILURE.test(err.line)) {
    return new BoxError(
      `${err.message}: since EVE 16.13 the installer creates an EFI boot entry (efibootmgr), and the firmware refused it: the box must boot in UEFI mode with writable EFI variables (check the firmware's boot settings, or clear its NVRAM of stale entries)`,
      details,
    );
  }
  return err;
}

/** Wait for the first of `patterns` from the installer (opts carries the installer's fail patterns). */
export async function expectInstaller(con: Console, patterns: RegExp[], opts: ExpectOptions): Promise<ExpectResult> {
  let r: ExpectResult;
  try {
    r = await con.expect([...patterns, PAUSE], opts);
  } catch (e) {
    throw explainFailure(e);
  }
  if (r.index === patterns.length) throw pauseError(con, r.match![1]!.trim());
  return r;
}
