// Error classes. Every error eve-qual raises has a class that decides how it is reported and which exit code it
// maps to (docs/ARCHITECTURE.md, "Errors have a class"):
//   config → bad profile or arguments: exit 2, nothing touched;
//   box    → the hardware or EVE failed: a test failure, evidence against the box;
//   lab    → link, power, network of the lab: an error, never evidence against the box;
//   bug    → eve-qual itself is wrong.

export type ErrorClass = 'config' | 'box' | 'lab' | 'bug';

export interface ErrorDetails {
  /** What the error is about: a device path, host:port, file, or box name. */
  where?: string;
  /** The last console lines (already normalised text), shown under the message. */
  tail?: string[];
  cause?: unknown;
}

export class EveQualError extends Error {
  readonly errorClass: ErrorClass;
  readonly where?: string;
  readonly tail?: string[];

  constructor(errorClass: ErrorClass, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.errorClass = errorClass;
    if (details.where !== undefined) this.where = details.where;
    if (details.tail !== undefined) this.tail = details.tail;
  }

  /** The message plus the console tail, for a human. */
  describe(): string {
    if (!this.tail || this.tail.length === 0) return this.message;
    return `${this.message}\n--- last console lines${this.where ? ` (${this.where})` : ''} ---\n${this.tail.join('\n')}`;
  }
}

export class ConfigError extends EveQualError {
  constructor(message: string, details?: ErrorDetails) {
    super('config', message, details);
  }
}

export class BoxError extends EveQualError {
  constructor(message: string, details?: ErrorDetails) {
    super('box', message, details);
  }
}

export class LabError extends EveQualError {
  constructor(message: string, details?: ErrorDetails) {
    super('lab', message, details);
  }
}

/** eve-qual itself is wrong (a suite registered two checks with one id, a pass without a fact). */
export class HarnessBug extends EveQualError {
  constructor(message: string, details?: ErrorDetails) {
    super('bug', message, details);
  }
}

/** A wait that ran out of time. Lab class by default: we could not see what we waited for. */
export class DeadlineError extends EveQualError {
  readonly awaited: string;
  readonly timeoutMs: number;
  constructor(awaited: string, timeoutMs: number, details: ErrorDetails = {}, errorClass: ErrorClass = 'lab') {
    super(errorClass, `timed out after ${formatMs(timeoutMs)} waiting for ${awaited}${details.where ? ` on ${details.where}` : ''}`, details);
    this.awaited = awaited;
    this.timeoutMs = timeoutMs;
  }
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}

/** Exit codes of the command-line contract (../shared/DESIGN.md). */
export const ExitCode = { ok: 0, failed: 1, usage: 2, lab: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof EveQualError) {
    switch (err.errorClass) {
      case 'config':
        return ExitCode.usage;
      case 'box':
        return ExitCode.failed;
      default:
        return ExitCode.lab;
    }
  }
  return ExitCode.lab;
}

/** Node system errors carry a code (ENOENT, ECONNREFUSED...): turn it into words a lab engineer reads. */
export function describeSystemError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e !== 'object') return String(err);
  const known: Record<string, string> = {
    ENOENT: 'no such device or file',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EBUSY: 'device busy',
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by peer',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'timed out',
    ENOTFOUND: 'host name not found',
    EPIPE: 'broken pipe',
  };
  const words = e.code ? known[e.code] : undefined;
  return words ? `${words} (${e.code})` : e.message ?? String(err);
}
