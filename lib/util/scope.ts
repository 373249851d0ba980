// Lifetimes in the spirit of tbot's context managers: every resource a run acquires (a QEMU process, swtpm, a
// console link, a power-on) registers how to undo itself, and closing the scope undoes everything in reverse order,
// whatever failed. Open scopes are closed on SIGINT/SIGTERM before the process exits, so Ctrl-C leaves no child
// process and loses no finished result.

type Cleanup = () => void | Promise<void>;

const openScopes = new Set<Scope>();
let signalsHooked = false;
let interruptedBy: 'SIGINT' | 'SIGTERM' | null = null;

/** The signal that interrupted this process, once one did: whatever fails after it was stopped by it, not broken. */
export function interruption(): 'SIGINT' | 'SIGTERM' | null {
  return interruptedBy;
}

export class Scope {
  private readonly cleanups: Array<{ name: string; fn: Cleanup }> = [];
  private closed = false;

  constructor(readonly name: string) {
    openScopes.add(this);
    hookSignals();
  }

  /** Register an undo step; returns a function that runs it early (and unregisters it). */
  defer(name: string, fn: Cleanup): () => Promise<void> {
    const entry = { name, fn };
    this.cleanups.push(entry);
    return async () => {
      const i = this.cleanups.indexOf(entry);
      if (i >= 0) {
        this.cleanups.splice(i, 1);
        await fn();
      }
    };
  }

  /** Undo everything in reverse order; errors are collected, never stop the rest. */
  async close(): Promise<Error[]> {
    if (this.closed) return [];
    this.closed = true;
    openScopes.delete(this);
    const errors: Error[] = [];
    while (this.cleanups.length) {
      const { name, fn } = this.cleanups.pop()!;
      try {
        await fn();
      } catch (e) {
        errors.push(new Error(`cleanup '${name}' of ${this.name} failed: ${e instanceof Error ? e.message : String(e)}`));
      }
    }
    return errors;
  }
}

/** Close every open scope (newest first). */
export async function closeAllScopes(): Promise<void> {
  for (const s of [...openScopes].reverse()) await s.close();
}

function hookSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  let cleaning = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: execa's signal-exit re-raises the signal (killing us mid-cleanup) as soon as it is the last
    // listener left. A second signal during cleanup exits at once.
    process.on(sig, () => {
      if (cleaning) process.exit(sig === 'SIGINT' ? 130 : 143);
      cleaning = true;
      interruptedBy = sig;
      process.stderr.write(`\neve-qual: ${sig}, cleaning up (again to force)...\n`);
      void closeAllScopes().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}
