// Deadlines: every wait in eve-qual is for an event, bounded by one of these.

/** A point in time by which something must have happened. */
export class Deadline {
  readonly at: number;
  readonly totalMs: number;
  constructor(ms: number) {
    this.totalMs = ms;
    this.at = Date.now() + ms;
  }
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }
  expired(): boolean {
    return Date.now() >= this.at;
  }
}

/**
 * Resolve after `ms` unless the signal aborts first. Used only for backoff between retries and for deliberate
 * pacing of UART writes, never to wait for an event.
 */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run `fn` and reject with `onTimeout()` if it has not settled within `ms`. */
export async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
