// The box's SSH host keys, read on its console. EVE's debug container (where SSH lands) makes new host keys at every
// start (pkg/debug/ssh-service.sh: `ssh-keygen -A` into an /etc/ssh that nothing persists), so after every boot the
// key SSH offers is new; the serial console is the channel already trusted (a cable to the box, or a terminal server
// of the lab), and the key files there are the ones to hold SSH to. They exist only inside the debug container:
// `eve exec debug` enters it from the console's host shell.
import type { Box } from '../box/box.ts';
import { LabError, formatMs } from '../errors.ts';
import { ConsoleShell } from '../shell/console-shell.ts';
import { parsePublicKeys, type TrustedHostKeys } from '../shell/host-key.ts';
import type { SshShell } from '../shell/ssh-shell.ts';
import { Deadline, pause } from '../util/deadline.ts';

/** Inside the debug container first (EVE); on the console's own system second (a box whose sshd runs on the host). */
export const HOST_KEYS_COMMAND =
  "eve exec debug sh -c 'cat /etc/ssh/ssh_host_*_key.pub' 2>/dev/null || cat /etc/ssh/ssh_host_*_key.pub 2>/dev/null";

/** How often to look again while the debug container is still making its keys. */
const RETRY_MS = 2000;

/**
 * Read the box's SSH host public keys on its console, waiting up to `timeoutMs` for them to appear (the console
 * shell comes up before the debug container has run ssh-keygen).
 */
export async function hostKeysOnConsole(box: Box, timeoutMs: number): Promise<TrustedHostKeys> {
  const shell = new ConsoleShell(box.console);
  const deadline = new Deadline(timeoutMs);
  let last = '';
  for (;;) {
    const r = await shell.run(HOST_KEYS_COMMAND, { timeout: Math.max(15_000, Math.min(30_000, deadline.remaining())) });
    last = (r.stdout || r.stderr).trim();
    const keys = parsePublicKeys(r.stdout);
    if (keys.length) return { source: `the console of ${box.name} (${box.console.where})`, keys };
    if (deadline.expired()) break;
    await pause(Math.min(RETRY_MS, deadline.remaining()));
  }
  throw new LabError(
    `no SSH host key on the console of ${box.name} within ${formatMs(timeoutMs)}: \`${HOST_KEYS_COMMAND}\` printed ` +
      `${last ? JSON.stringify(last.slice(-200)) : 'nothing'}; without it the key SSH offers cannot be checked ` +
      `(EVE's debug container makes it at start: is SSH disabled by /config/remote_access_disabled?)`,
    { where: box.console.where, tail: box.console.tail() },
  );
}

/**
 * After a boot of the box (a reset, a power cycle): learn its new host key on the console and hold `ssh` to it from
 * its next connection on, recording the key SSH then offers to `recordTo`.
 */
export async function repinAfterBoot(box: Box, ssh: SshShell, recordTo: string[], timeoutMs: number): Promise<TrustedHostKeys> {
  const trusted = await hostKeysOnConsole(box, timeoutMs);
  ssh.pinHostKey({ trusted, recordTo });
  return trusted;
}
