// socat pty pairs for link tests: one end (`device`) is what a SerialLink or ser2net opens, as it would a USB-serial
// adapter; the test plays the box on the other end (`peer`). Killing socat (SIGTERM) removes both link paths, like
// unplugging the adapter; starting it again with the same paths is plugging it back in (new /dev/pts numbers).
// Also here: waiting on peer output, on events and on received bytes, all with deadlines.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { SerialPort } from 'serialport';
import { DeadlineError } from '../../lib/errors.ts';
import { createSerialPort } from '../../lib/link/serial-binding.ts';
import { startPeer, type Peer } from './peer.ts';

/** Resolve once `re` matches the peer's output; reject when the peer exits first or on the deadline. */
export function waitForOutput(peer: Peer, re: RegExp, timeoutMs = 10_000): Promise<void> {
  if (re.test(peer.output())) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const stream = peer.proc.all;
    const done = (err?: Error) => {
      clearTimeout(timer);
      stream?.off('data', onData);
      if (err) reject(err);
      else resolve();
    };
    // The peer's own listener updates output() before ours runs: it was registered first.
    const onData = () => {
      if (re.test(peer.output())) done();
    };
    const timer = setTimeout(
      () => done(new DeadlineError(`${re} in the output of ${peer.name}`, timeoutMs, { tail: peer.output().split('\n').slice(-10) })),
      timeoutMs,
    );
    stream?.on('data', onData);
    void peer.proc.then(() => done(new Error(`${peer.name} exited before printing ${re}:\n${peer.output()}`)));
  });
}

/** The next `event` from `emitter`, within the deadline; resolves with the event's arguments. */
export function waitForEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter<any>, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new DeadlineError(`the '${event}' event`, timeoutMs));
    }, timeoutMs);
    const on = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, on);
  });
}

/** Collects every received byte and lets a test wait for what it expects, with a deadline. */
export class ByteCollector {
  #chunks: Buffer[] = [];
  #length = 0;
  #waiters = new Set<() => void>();

  readonly push = (chunk: Buffer): void => {
    this.#chunks.push(Buffer.from(chunk));
    this.#length += chunk.length;
    for (const w of [...this.#waiters]) w();
  };

  get length(): number {
    return this.#length;
  }

  bytes(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }

  text(): string {
    return this.bytes().toString('latin1');
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }

  /** Wait until `ok()` holds; `what` names it in the deadline error, which also shows the tail of what came. */
  until(ok: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    if (ok()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!ok()) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        const tail = JSON.stringify(this.text().slice(-200));
        reject(new DeadlineError(`${what} (received ${this.#length} bytes, ending ${tail})`, timeoutMs));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  untilLength(n: number, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.#length >= n, `${n} bytes`, timeoutMs);
  }

  untilText(s: string, timeoutMs = 10_000): Promise<void> {
    return this.until(() => this.text().includes(s), JSON.stringify(s), timeoutMs);
  }
}

export interface PtyPair {
  /** The path the code under test opens (a symlink to /dev/pts/N). */
  readonly device: string;
  /** The test's end. */
  readonly peer: string;
  readonly socat: Peer;
  /** Kill socat: both paths vanish (an unplugged adapter). */
  unplug(): Promise<void>;
  /** Start socat again with the same paths. */
  replug(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPtyPair(dir: string, names = { device: 'ttyBOX', peer: 'ttyPEER' }): Promise<PtyPair> {
  const device = path.join(dir, names.device);
  const peerPath = path.join(dir, names.peer);
  // raw,echo=0 on both ends: every byte passes unchanged, nothing is echoed back by the line discipline.
  const start = async () => {
    const p = startPeer('socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${peerPath}`], { name: 'socat' });
    await waitForOutput(p, /starting data transfer loop/);
    return p;
  };
  let socat = await start();
  return {
    device,
    peer: peerPath,
    get socat() {
      return socat;
    },
    unplug: () => socat.stop(),
    replug: async () => {
      socat = await start();
    },
    stop: () => socat.stop(),
  };
}

/** The box's side of a pty pair: raw, unlocked (the lock belongs to the code under test). */
export interface PtyEnd {
  readonly received: ByteCollector;
  write(data: Buffer | string): Promise<void>;
  close(): Promise<void>;
}

export async function openPtyEnd(p: string): Promise<PtyEnd> {
  const port = createSerialPort({ path: p, baudRate: 115200, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const received = new ByteCollector();
  port.on('data', received.push);
  // socat going away closes this end too; the test notices through what it does not receive.
  port.on('error', () => undefined);
  return {
    received,
    write: (data) =>
      new Promise((resolve, reject) => {
        port.write(data, (err) => (err ? reject(err) : port.drain((e) => (e ? reject(e) : resolve()))));
      }),
    close: () =>
      new Promise((resolve) => {
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
