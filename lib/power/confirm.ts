// Confirming power from what the box shows, for drivers that cannot read state back (a PDU behind pdudaemon, a
// relay without status, an operator): after the request, any byte on the box's console link is the box alive. A
// silent console is a lab error naming the driver and the link: the wrong outlet, a PDU that did nothing, or a
// console cable that is not connected, all worth a look before anything is blamed on the box.
import { LabError, formatMs } from '../errors.ts';
import type { Link } from '../link/link.ts';
import type { Power } from './power.ts';

export interface ConsoleConfirmOptions {
  /** How long the box has to say something after power on, ms (default 60 s). */
  timeoutMs?: number;
}

/**
 * Power on, confirmed: by the driver where it reads state back, else by traffic on `link` (which must be open; bytes
 * arriving while the request runs count). Resolves with how it was confirmed.
 */
export async function powerOnConfirmed(power: Power, link: Link, opts: ConsoleConfirmOptions = {}): Promise<'state' | 'console'> {
  if (power.readsState !== false) {
    await power.on();
    return 'state';
  }
  const ms = opts.timeoutMs ?? 60_000;
  let seen = false;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    if (chunk.length === 0) return;
    seen = true;
    wake?.();
  };
  link.on('data', onData);
  try {
    await power.on();
    if (seen) return 'console';
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      wake = resolve;
      timer = setTimeout(
        () =>
          reject(
            new LabError(
              `${power.where}: power on not confirmed: no console traffic on ${link.name} within ${formatMs(ms)} after the request was accepted (wrong outlet or PDU, nothing plugged in, or a dead console line)`,
              { where: power.where },
            ),
          ),
        ms,
      );
    }).finally(() => clearTimeout(timer));
    return 'console';
  } finally {
    link.off('data', onData);
  }
}
