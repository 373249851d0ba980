// The Link behaviour, written once: open with a connect timeout, report a loss, reopen with backoff until a deadline,
// hold writes across the gap, close without leaving a handle behind. A kind of link only says how to connect once
// (connect() → Transport); everything about time and state lives here, so every kind reconnects the same way.
import { EventEmitter } from 'node:events';
import { LabError, describeSystemError, formatMs } from '../errors.ts';
import { Deadline, pause } from '../util/deadline.ts';
import type { Link, LinkEvents, LinkGap, LinkState } from './link.ts';

/** One established connection: what a kind of link hands back from connect(). */
export interface Transport {
  /** Resolves once the bytes are handed to the OS (socket, tty, pipe); rejects if the connection is broken. */
  write(data: Buffer): Promise<void>;
  /** Release everything (fd, socket, child process). Must not throw, must be safe to call twice. */
  destroy(): Promise<void>;
}

/** Where a transport reports what happens to it. Calls after the transport was given up are ignored. */
export interface TransportSink {
  data(chunk: Buffer): void;
  /** The connection is gone (peer closed, device vanished, process exited); `cause` is for humans. */
  lost(cause: string): void;
  /**
   * Once connected, how to say what the attempt is still waiting for (e.g. the server's telnet answers); a connect
   * timeout names it. Asked only when the timeout fires.
   */
  awaiting?(what: () => string): void;
}

export interface ReconnectOptions {
  /** Bound on one connect attempt, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** After a loss, how long to keep trying before closing for good, ms (default 60 s). */
  reconnectDeadlineMs?: number;
  /** First pause between reconnect attempts, doubled after each failure up to backoffMaxMs (defaults 50 ms, 2 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

/** The link closed for good because the reconnect deadline ran out; `gap` is the outage that was not recovered. */
export class LinkLostError extends LabError {
  readonly gap: LinkGap;
  constructor(message: string, gap: LinkGap, where: string) {
    super(message, { where });
    this.gap = gap;
  }
}

/** A connect attempt that ran out of time (a distinct class so the message can say so plainly). */
class ConnectTimeout extends Error {}

/**
 * A connection that dies sooner than this after it was established does not end the outage: a terminal server that
 * accepts TCP and hangs up because its serial device is gone, or a process that exits at once, would otherwise
 * reset the reconnect deadline forever and the link would flap instead of closing.
 */
const STABLE_MS = 1000;

interface Outage {
  deadline: Deadline;
  backoffMs: number;
  firstCause: string;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export abstract class ReconnectingLink extends EventEmitter<LinkEvents> implements Link {
  readonly name: string;
  protected readonly connectTimeoutMs: number;
  protected readonly reconnectDeadlineMs: number;
  readonly #backoffInitialMs: number;
  readonly #backoffMaxMs: number;

  #state: LinkState = 'closed';
  #transport: Transport | undefined;
  /** Identifies the attempt whose transport is current; sinks of older attempts are ignored. */
  #attemptSeq = 0;
  #activeAttempt = -1;
  /** Aborted by close(): cancels attempts in flight and backoff pauses. One per open() … close() lifetime. */
  #life: AbortController | undefined;
  #opening: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #waiters = new Set<Waiter>();
  #writeChain: Promise<void> = Promise.resolve();
  #upSince = 0;
  #outage: Outage | undefined;
  /** Attempts and late-transport teardowns still running: close() waits for them so no handle outlives it. */
  #pending = new Set<Promise<unknown>>();

  constructor(name: string, opts: ReconnectOptions = {}) {
    super();
    this.name = name;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.reconnectDeadlineMs = opts.reconnectDeadlineMs ?? 60_000;
    this.#backoffInitialMs = opts.backoffInitialMs ?? 50;
    this.#backoffMaxMs = opts.backoffMaxMs ?? 2000;
  }

  get state(): LinkState {
    return this.#state;
  }

  /**
   * Connect once. Report data and loss through `sink` (data may arrive before this resolves). On `signal` abort
   * (timeout or close()), give up promptly and release what was acquired; reject with the OS error as is.
   */
  protected abstract connect(sink: TransportSink, signal: AbortSignal): Promise<Transport>;

  /** Words for a failed attempt; kinds whose libraries report errors as bare strings override this. */
  protected describeError(err: unknown): string {
    if (err instanceof ConnectTimeout) return err.message;
    return describeSystemError(err);
  }

  open(): Promise<void> {
    if (this.#state === 'open' || this.#state === 'reconnecting') return Promise.resolve();
    if (this.#opening) return this.#opening;
    const opening = (async () => {
      if (this.#closing) await this.#closing;
      this.#state = 'opening';
      const life = (this.#life = new AbortController());
      try {
        const { transport, attempt } = await this.#attempt(this.connectTimeoutMs, life.signal);
        this.#adopt(transport, attempt);
        this.#outage = undefined;
        this.#settleWaiters();
        this.emit('open');
      } catch (err) {
        const e = life.signal.aborted
          ? new LabError(`${this.name}: closed while opening`, { where: this.name })
          : new LabError(`cannot open ${this.name}: ${this.describeError(err)}`, { where: this.name, cause: err });
        if (this.#life === life) {
          this.#state = 'closed';
          this.#life = undefined;
        }
        this.#settleWaiters(e);
        throw e;
      }
    })();
    this.#opening = opening;
    const clear = () => {
      if (this.#opening === opening) this.#opening = undefined;
    };
    opening.then(clear, clear);
    return opening;
  }

  write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    // Chained so that concurrent writes reach the box in call order, also across a reconnect.
    const p = this.#writeChain.then(() => this.#writeNow(buf));
    this.#writeChain = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state === 'closed' && !this.#opening) return Promise.resolve();
    const closing = (async () => {
      const life = this.#life;
      this.#life = undefined;
      this.#state = 'closed';
      life?.abort(new LabError(`${this.name} was closed`, { where: this.name }));
      const t = this.#transport;
      this.#transport = undefined;
      this.#activeAttempt = -1;
      this.#settleWaiters(this.#closedError());
      await t?.destroy().catch(() => undefined);
      await Promise.allSettled([...this.#pending]);
      this.emit('close');
    })();
    this.#closing = closing;
    const clear = () => {
      if (this.#closing === closing) this.#closing = undefined;
    };
    closing.then(clear, clear);
    return closing;
  }

  async #writeNow(buf: Buffer): Promise<void> {
    for (;;) {
      await this.#whenOpen();
      const t = this.#transport!;
      const attempt = this.#activeAttempt;
      try {
        await t.write(buf);
        return;
      } catch (err) {
        if (this.#state === 'closed') throw this.#closedError();
        // The chunk went into a dead connection: count it as not delivered and send it again once the link is back.
        if (this.#activeAttempt === attempt) this.#lost(attempt, this.describeError(err));
      }
    }
  }

  #whenOpen(): Promise<void> {
    if (this.#state === 'open') return Promise.resolve();
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => this.#waiters.add({ resolve, reject }));
  }

  #settleWaiters(err?: Error): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) (err ? w.reject(err) : w.resolve());
  }

  #closedError(): LabError {
    return new LabError(`${this.name} is closed`, { where: this.name });
  }

  /** One connect attempt bounded by `timeoutMs`; a transport that turns up after the timeout is torn down. */
  async #attempt(timeoutMs: number, life: AbortSignal): Promise<{ transport: Transport; attempt: number }> {
    const attempt = ++this.#attemptSeq;
    const ac = new AbortController();
    const onLife = () => ac.abort(life.reason);
    life.addEventListener('abort', onLife, { once: true });
    let adopted = false;
    let lostEarly: string | undefined;
    let awaiting: (() => string) | undefined;
    const sink: TransportSink = {
      awaiting: (what) => {
        awaiting = what;
      },
      // Bytes are emitted whatever state the link is in, unless the user closed it: nothing received is dropped.
      data: (chunk) => {
        if (this.#life?.signal === life && chunk.length > 0) this.emit('data', chunk);
      },
      lost: (cause) => {
        if (adopted) this.#lost(attempt, cause);
        else lostEarly ??= cause;
      },
    };
    let timer: NodeJS.Timeout | undefined;
    const connecting = this.connect(sink, ac.signal);
    const tracked = connecting.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(tracked);
    void tracked.then(() => this.#pending.delete(tracked));
    try {
      const transport = await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const err = new ConnectTimeout(
              awaiting === undefined
                ? `no answer within ${formatMs(timeoutMs)} (connect timeout)`
                : `connected, but no ${awaiting()} within ${formatMs(timeoutMs)} (connect timeout)`,
            );
            ac.abort(err);
            reject(err);
          }, timeoutMs);
        }),
        new Promise<never>((_, reject) => {
          if (ac.signal.aborted) reject(ac.signal.reason);
          ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
        }),
      ]);
      // Both cases fall through to the catch below, which tears the transport down.
      if (life.aborted) throw life.reason;
      if (lostEarly !== undefined) throw new Error(lostEarly);
      adopted = true;
      return { transport, attempt };
    } catch (err) {
      if (!ac.signal.aborted) ac.abort(err);
      const cleanup = connecting.then(
        (t) => t.destroy().catch(() => undefined),
        () => undefined,
      );
      this.#pending.add(cleanup);
      void cleanup.then(() => this.#pending.delete(cleanup));
      throw err;
    } finally {
      clearTimeout(timer);
      life.removeEventListener('abort', onLife);
    }
  }

  #adopt(transport: Transport, attempt: number): void {
    this.#transport = transport;
    this.#activeAttempt = attempt;
    this.#state = 'open';
    this.#upSince = Date.now();
  }

  #lost(attempt: number, cause: string): void {
    if (attempt !== this.#activeAttempt || this.#state !== 'open') return;
    const t = this.#transport!;
    this.#transport = undefined;
    this.#activeAttempt = -1;
    this.#state = 'reconnecting';
    const start = new Date();
    const teardown = t.destroy().catch(() => undefined);
    this.#pending.add(teardown);
    void teardown.then(() => this.#pending.delete(teardown));
    if (!this.#outage || Date.now() - this.#upSince >= STABLE_MS) {
      this.#outage = { deadline: new Deadline(this.reconnectDeadlineMs), backoffMs: this.#backoffInitialMs, firstCause: cause };
    }
    this.emit('disconnect', cause);
    void this.#reconnect(start, cause, this.#outage, this.#life!.signal);
  }

  async #reconnect(start: Date, cause: string, outage: Outage, life: AbortSignal): Promise<void> {
    let last = cause;
    // Pause before the first attempt too: a server that just hung up on us (ser2net, QEMU on SIGTERM) often still
    // accepts for a few milliseconds while it shuts down, and an instant retry would reach the dying process.
    let wait = Math.min(outage.backoffMs, outage.deadline.remaining());
    for (;;) {
      try {
        if (wait > 0) await pause(wait, life);
      } catch {
        return;
      }
      if (life.aborted) return;
      const remaining = outage.deadline.remaining();
      if (remaining <= 0) break;
      try {
        const { transport, attempt } = await this.#attempt(Math.min(this.connectTimeoutMs, remaining), life);
        this.#adopt(transport, attempt);
        // Kept only if this connection dies at once too (a flapping server): then the next attempt waits longer.
        outage.backoffMs = Math.min(outage.backoffMs * 2, this.#backoffMaxMs);
        this.#settleWaiters();
        this.emit('reconnect', { start, end: new Date(), cause, recovered: true });
        return;
      } catch (err) {
        if (life.aborted) return;
        last = this.describeError(err);
      }
      outage.backoffMs = Math.min(outage.backoffMs * 2, this.#backoffMaxMs);
      wait = Math.min(outage.backoffMs, outage.deadline.remaining());
    }
    const gap: LinkGap = { start, end: new Date(), cause, recovered: false };
    const err = new LinkLostError(
      `${this.name}: lost (${outage.firstCause}) and not back within ${formatMs(outage.deadline.totalMs)}${last === outage.firstCause ? '' : `; last attempt: ${last}`}`,
      gap,
      this.name,
    );
    this.#state = 'closed';
    this.#life = undefined;
    this.#outage = undefined;
    this.#settleWaiters(err);
    this.emit('close', err);
  }
}
