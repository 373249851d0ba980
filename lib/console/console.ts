// The Console: the expect engine over a Link. Every byte goes to the raw log and to the live taps; the normalised
// text feeds one StreamBuffer that the (single) pending wait scans together with the fail patterns, in stream
// order, on every chunk. A fail pattern seen before the awaited pattern ends the wait at once with a
// FailPatternError (a box error); the deadline ends it with a DeadlineError showing the last console lines.
import { BoxError, DeadlineError, EveQualError, LabError } from '../errors.ts';
import type { Link } from '../link/link.ts';
import { pause } from '../util/deadline.ts';
import { ConsoleLog } from './console-log.ts';
import { CompiledPatterns, type Pattern } from './pattern.ts';
import { StreamBuffer } from './stream-buffer.ts';
import { ConsoleTail } from './tail.ts';
import { TextNormalizer } from './text-normalizer.ts';

export interface ConsoleOptions {
  /** The box this console belongs to: named in every error. */
  boxName: string;
  /** Raw log file (one per console). */
  logFile?: string;
  /** Patterns that end any pending wait as a box failure (kernel panic, Oops...). */
  failPatterns?: Pattern[];
  /** Delay between characters written, for UARTs that drop input at full speed. 0 = write at once. */
  charDelayMs?: number;
  /** What ends a line we send. */
  newline?: string;
  /** Longest match guaranteed to be found across chunk boundaries (chars). */
  maxMatch?: number;
  /** Unconsumed text kept while nobody waits (chars). */
  retain?: number;
  /** Default deadline of expect() (ms). */
  defaultTimeout?: number;
}

/** Kernel panics, oopses and EVE installer failures: the usual fail patterns for a box console. */
export const DEFAULT_FAIL_PATTERNS: readonly Pattern[] = [
  /Kernel panic - not syncing/,
  /\bOops(?:: |\[#)/,
  /^FATAL: .*/m,
  /Installation failed\b/,
];

export interface ExpectOptions {
  timeout?: number;
  /** Extra fail patterns for this wait only (a step's own). */
  failPatterns?: Pattern[];
  /** Do not apply the console's own fail patterns to this wait. */
  noDefaultFailPatterns?: boolean;
  /** What we are waiting for, in words, for the deadline error. Default: the patterns. */
  awaited?: string;
  /** End the wait early when the console shows nothing for this long (ms): a box gone silent. */
  idleTimeout?: number;
}

export interface ExpectResult {
  /** Which of the patterns matched. */
  index: number;
  /** The matched text. */
  text: string;
  /** Regex groups (null for literal patterns). */
  match: RegExpExecArray | null;
  /** Text between the previous match and this one. */
  before: string;
}

/** A fail pattern showed up on the console while a wait was pending. */
export class FailPatternError extends BoxError {
  readonly pattern: Pattern;
  /** The whole console line that matched. */
  readonly line: string;
  constructor(where: string, pattern: Pattern, line: string, context: string[], awaited: string) {
    super(`console of ${where} showed ${JSON.stringify(line.trim())} while waiting for ${awaited}`, { where, tail: context });
    this.pattern = pattern;
    this.line = line;
  }
}

export interface ConsoleTapEvents {
  raw?: (chunk: Buffer, at: Date) => void;
  text?: (text: string) => void;
}

interface Waiter {
  idleTimer?: NodeJS.Timeout;
  patterns: CompiledPatterns;
  successCount: number;
  awaited: string;
  resolve: (r: ExpectResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface ConsoleWriter {
  readonly owner: string;
  send(data: string | Buffer): Promise<void>;
  sendLine(line: string): Promise<void>;
  release(): void;
}

export class Console {
  readonly link: Link;
  readonly options: Required<Omit<ConsoleOptions, 'logFile'>> & { logFile?: string };
  private readonly log: ConsoleLog | null;
  private readonly normalizer = new TextNormalizer();
  private readonly buffer: StreamBuffer;
  private readonly consoleTail = new ConsoleTail();
  private readonly taps = new Set<ConsoleTapEvents>();
  private waiter: Waiter | null = null;
  private failPatterns: Pattern[];
  private closedError: Error | null = null;
  private writerOwner: string | null = null;
  private writerQueue: Array<() => void> = [];
  private bytesIn = 0;
  private lastDataAt = Date.now();

  constructor(link: Link, opts: ConsoleOptions) {
    this.link = link;
    this.options = {
      failPatterns: [...DEFAULT_FAIL_PATTERNS],
      charDelayMs: 0,
      newline: '\n',
      maxMatch: 8192,
      retain: 1 << 20,
      defaultTimeout: 30_000,
      ...opts,
    };
    this.failPatterns = [...this.options.failPatterns];
    this.buffer = new StreamBuffer(this.options.maxMatch, this.options.retain);
    this.log = opts.logFile ? new ConsoleLog(opts.logFile) : null;
    link.on('data', (chunk) => this.onData(chunk));
    link.on('disconnect', (cause) => this.log?.note(`link ${link.name} lost: ${cause}`));
    link.on('reconnect', (gap) =>
      this.log?.note(`link ${link.name} back after ${((gap.end.getTime() - gap.start.getTime()) / 1000).toFixed(1)} s`),
    );
    link.on('close', (err) => {
      if (!err) return;
      this.closedError = new LabError(`console link ${link.name} of ${opts.boxName} lost: ${err.message}`, {
        where: link.name,
        tail: this.tail(),
        cause: err,
      });
      this.log?.note(`link ${link.name} closed: ${err.message}`);
      this.failWaiter(this.closedError);
    });
  }

  /** `box (link)`: used in errors. */
  get where(): string {
    return `${this.options.boxName} (${this.link.name})`;
  }

  /** Characters of normalised text held for matching (bounded by `retain`). */
  get bufferedChars(): number {
    return this.buffer.size;
  }

  /** How long the console has shown nothing, ms (a box gone quiet: the run's box watch reads it). */
  get silentForMs(): number {
    return Date.now() - this.lastDataAt;
  }

  /** Bytes received so far (for "the console shows traffic" checks). */
  get received(): number {
    return this.bytesIn;
  }

  async open(): Promise<void> {
    this.closedError = null;
    await this.link.open();
  }

  async close(): Promise<void> {
    this.failWaiter(new LabError(`console of ${this.where} closed while waiting`, { where: this.link.name }));
    await this.link.close();
    const rest = this.normalizer.end();
    if (rest) this.consoleTail.push(rest);
    this.log?.close();
  }

  /** Replace the console's own fail patterns (per box). */
  setFailPatterns(patterns: Pattern[]): void {
    this.failPatterns = [...patterns];
  }

  /** A line of eve-qual's own in the console log. */
  note(text: string, opts: { cut?: boolean } = {}): void {
    this.log?.note(text, new Date(), opts);
  }

  /** The last console lines, normalised. */
  tail(n = 20): string[] {
    return this.consoleTail.lines(n);
  }

  /** Forget unconsumed text, so the next wait only sees what arrives from now on. */
  discard(): void {
    this.buffer.discard();
  }

  /** A read-only listener on everything that arrives; returns the function that removes it. */
  tap(listener: ConsoleTapEvents): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** Collect the normalised text from now until stop() (bounded), e.g. the console excerpt of one test. */
  excerpt(maxChars = 65_536): { stop(): string } {
    let text = '';
    const off = this.tap({
      text: (t) => {
        text += t;
        if (text.length > 2 * maxChars) text = text.slice(-maxChars);
      },
    });
    return {
      stop: () => {
        off();
        return text.length > maxChars ? text.slice(-maxChars) : text;
      },
    };
  }

  private onData(chunk: Buffer): void {
    const at = new Date();
    this.bytesIn += chunk.length;
    this.lastDataAt = at.getTime();
    this.log?.write(chunk, at);
    const text = this.normalizer.push(chunk);
    for (const t of this.taps) {
      try {
        t.raw?.(chunk, at);
        if (text) t.text?.(text);
      } catch {
        // A broken listener must not break the console.
      }
    }
    if (!text) return;
    this.consoleTail.push(text);
    this.buffer.append(text);
    if (this.waiter) this.scan(this.waiter);
    this.buffer.bound();
  }

  private scan(w: Waiter): void {
    const hit = this.buffer.scan(w.patterns);
    if (!hit) return;
    this.waiter = null;
    clearTimeout(w.timer);
    clearTimeout(w.idleTimer);
    if (hit.index < w.successCount) {
      w.resolve({ index: hit.index, text: hit.text, match: hit.match, before: hit.before });
      return;
    }
    const line = StreamBuffer.lineOf(hit.before, hit.text, this.buffer.pending());
    const context = hit.before.split('\n').slice(-20, -1);
    context.push(line);
    w.reject(new FailPatternError(this.where, w.patterns.sources[hit.index]!, line, context, w.awaited));
  }

  /** End the pending wait (if any) with `err`: something outside the console decided (the box powered off). */
  abortWait(err: Error): void {
    this.failWaiter(err);
  }

  private failWaiter(err: Error): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    clearTimeout(w.idleTimer);
    w.reject(err);
  }

  /**
   * Wait for the first of `patterns` in the stream (unconsumed text first, then what arrives). Consumes through the
   * match. Rejects with FailPatternError, DeadlineError, or LabError when the link is lost for good.
   */
  expect(patterns: Pattern | Pattern[], opts: ExpectOptions = {}): Promise<ExpectResult> {
    const list = Array.isArray(patterns) ? patterns : [patterns];
    if (list.length === 0) throw new EveQualError('bug', 'expect() needs at least one pattern');
    if (this.waiter) {
      return Promise.reject(
        new EveQualError('bug', `console of ${this.where} already has a pending wait (${this.waiter.awaited})`),
      );
    }
    if (this.closedError) return Promise.reject(this.closedError);
    const fail = [...(opts.noDefaultFailPatterns ? [] : this.failPatterns), ...(opts.failPatterns ?? [])];
    const compiled = new CompiledPatterns([...list, ...fail]);
    const awaited = opts.awaited ?? new CompiledPatterns(list).describe();
    const timeout = opts.timeout ?? this.options.defaultTimeout;
    return new Promise<ExpectResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.waiter !== w) return;
        this.failWaiter(new DeadlineError(awaited, timeout, { where: this.where, tail: this.tail() }));
      }, timeout);
      const w: Waiter = { patterns: compiled, successCount: list.length, awaited, resolve, reject, timer };
      const idle = opts.idleTimeout;
      if (idle !== undefined && idle < timeout) {
        // Re-armed for the time left since the last byte, so no timer churn on every chunk.
        const started = Date.now();
        const arm = (ms: number) => {
          w.idleTimer = setTimeout(() => {
            if (this.waiter !== w) return;
            const quiet = Date.now() - Math.max(this.lastDataAt, started);
            if (quiet >= idle) {
              this.failWaiter(
                new DeadlineError(`${awaited} (the console was silent for ${Math.round(quiet / 1000)} s)`, idle, {
                  where: this.where,
                  tail: this.tail(),
                }),
              );
            } else arm(idle - quiet);
          }, ms);
        };
        arm(idle);
      }
      this.waiter = w;
      this.buffer.resetScan();
      this.scan(w);
    });
  }

  /** Take exclusive ownership of writing to the console; waits for the current owner up to `timeout`. */
  async acquire(owner: string, timeout = 30_000): Promise<ConsoleWriter> {
    if (this.writerOwner !== null) {
      const holder = this.writerOwner;
      await new Promise<void>((resolve, reject) => {
        const grant = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.writerQueue = this.writerQueue.filter((g) => g !== grant);
          reject(new LabError(`console of ${this.where} is held by ${this.writerOwner ?? holder}; ${owner} waited ${timeout} ms`, { where: this.link.name }));
        }, timeout);
        this.writerQueue.push(grant);
      });
    }
    this.writerOwner = owner;
    let released = false;
    const check = () => {
      if (released) throw new EveQualError('bug', `${owner} wrote to the console of ${this.where} after releasing it`);
    };
    return {
      owner,
      send: async (data) => {
        check();
        await this.write(data);
      },
      sendLine: async (line) => {
        check();
        await this.write(line + this.options.newline);
      },
      release: () => {
        if (released) return;
        released = true;
        this.writerOwner = null;
        this.writerQueue.shift()?.();
      },
    };
  }

  /** Write as a short-lived owner (waits if someone else holds the console). */
  async send(data: string | Buffer, owner = 'send'): Promise<void> {
    const w = await this.acquire(owner);
    try {
      await w.send(data);
    } finally {
      w.release();
    }
  }

  private async write(data: string | Buffer): Promise<void> {
    if (this.closedError) throw this.closedError;
    const delay = this.options.charDelayMs;
    if (delay <= 0) return this.link.write(data);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let i = 0; i < bytes.length; i++) {
      await this.link.write(bytes.subarray(i, i + 1));
      // Deliberate pacing: some UARTs drop characters written at full speed.
      if (i + 1 < bytes.length) await pause(delay);
    }
  }
}
