// A peer process started by a test (sshd, socat, ser2net...): started with execa, killed (whole process group) in
// the test's after hook, so nothing outlives the test run.
import { execa, type ResultPromise } from 'execa';

export interface Peer {
  readonly name: string;
  readonly proc: ResultPromise;
  /** Everything the peer printed, for diagnostics when a test fails. */
  output(): string;
  stop(): Promise<void>;
}

const live = new Set<Peer>();

export function startPeer(file: string, args: string[], opts: { name?: string; cwd?: string } = {}): Peer {
  let out = '';
  const proc = execa(file, args, {
    cwd: opts.cwd,
    reject: false,
    stdin: 'ignore',
    all: true,
    buffer: false,
    detached: true,
    cleanup: true,
  });
  proc.all?.on('data', (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  const peer: Peer = {
    name: opts.name ?? file,
    proc,
    output: () => out,
    async stop() {
      live.delete(peer);
      if (proc.exitCode === null && proc.pid) {
        try {
          process.kill(-proc.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        const t = setTimeout(() => {
          try {
            if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }, 3000);
        await proc;
        clearTimeout(t);
      }
    },
  };
  live.add(peer);
  return peer;
}

/** Stop every peer still running (a root hook calls this after all tests). */
export async function stopAllPeers(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}
