// From power-on to a root shell on the console of an installed EVE. Nothing is typed until the box shows that EVE
// is up (its /etc/issue banner, which agetty prints before the autologin): keys typed at the firmware or at GRUB's
// menu would edit the boot entry ('e') or pick another one.
import type { Console } from '../console/console.ts';
import { login } from '../console/login.ts';
import { Deadline } from '../util/deadline.ts';

export const EVE_ISSUE = /Edge Virtualization Engine/;
const BOOT_FAILURES = [/Kernel panic - not syncing[^\n]*/, /Oops: [^\n]*/, /grub rescue> /];

export async function bootToShell(con: Console, opts: { timeout: number; user?: string; password?: string }): Promise<void> {
  const deadline = new Deadline(opts.timeout);
  await con.expect(EVE_ISSUE, {
    timeout: deadline.remaining(),
    failPatterns: BOOT_FAILURES,
    noDefaultFailPatterns: true,
    awaited: "EVE's console banner (/etc/issue: Edge Virtualization Engine) after boot",
  });
  await login(con, {
    timeout: Math.max(deadline.remaining(), 30_000),
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
  });
}
