// Framing for the persistent shell channel: many commands share one `sh` reading its script from the channel, so
// each command is wrapped to report where its output ends and what its exit status was, without a second round trip.
// The shell is started with SHELL_COMMAND, then runs setupScript(), which reports how it could be set up (Framing).
//
// Per command the box sees one line. The usual one:
//   trap 'eve_qual_end A B X x' EXIT; command eval 'CMD'; eve_qual_end A B E -
// where setupScript() defined
//   eve_qual_end() { eve_qual_rc=$?; if [ -s /proc/self/fd/7 ]; then
//     printf '%03d%s%s%s' $eve_qual_rc "$3" "$1" "$2"; command -p cat </proc/self/fd/7; true >/proc/self/fd/7;
//     printf %s%s "$1" "$2"; else printf '%03d%s%s%s' $eve_qual_rc "$4" "$1" "$2"; fi; }
// i.e. on stdout: OUT, status, a flag, marker; and if the flag says the command wrote to stderr (E, X): ERR, marker.
// The flags X and x say that the shell is ending (CMD ran `exit`), so the channel takes no further command.
// - `command eval 'CMD'`: CMD is parsed only when it runs, so a syntax error in it (an unbalanced quote) cannot
//   swallow the framing after it; `command` keeps that error from ending the shell, as it would with a bare `eval`
//   (a special builtin);
// - no subshell: a fork per command would cost more than the whole SSH round trip (the benchmark's budget), so
//   shell state (cwd, variables) carries over like lines of a script; `exit` in CMD ends the shell, and the EXIT
//   trap still reports CMD's output and status (exit's) in the same framing;
// - the marker A+B is random per command, and passed as two halves so that it never appears whole in the script
//   text (nor in the trap, should a command list traps);
// - the status is fixed-width and sits right before the flag and marker, so the output is exactly the bytes
//   before it (no trailing newline added or removed);
// - stderr (Framing.stderr 'file'): the shell's fd 2 is a temp file, unlinked as soon as it is open (nothing is
//   left behind whatever becomes of the shell) and reached again through /proc/self/fd/7, a second descriptor for
//   it that stays put if CMD points fd 2 elsewhere (`exec 2>>log`: that file is neither read nor truncated).
//   Why: with stderr on a pipe of its own, every command had to end both streams with a marker, so the box wrote
//   twice, sshd woke for each pipe and often sent two packets, and the client woke twice: on loopback, a good
//   third of the round trip. Now a command that writes nothing to stderr costs a stat and a single write; one that
//   does also costs a `cat`, a fork (`command -p`: a command that changed PATH must not lose stderr; `true >`, not
//   `: >`, to truncate: a redirection error on the special builtin `:` would end the shell). It all comes on the
//   one ordered stream, so stderr can neither race the stdout trailer nor be taken for it. The file is O_APPEND
//   and truncated once read; what a background process writes to it between commands goes to the next command's
//   stderr. The channel's own stderr is closed: a background process keeps no pipe of the channel open through
//   fd 2, and commands inherit fd 7 only;
// - stdin (Framing.stdin 'null'): CMD must not read the commands queued behind it, so it gets /dev/null.
//   SHELL_COMMAND has the shell read its script from /proc/self/fd/3 (the channel) with fd 0 on /dev/null for
//   good, rather than a `</dev/null` per command, whose open, dup2s and closes were a third of the shell's time per
//   command. (A command that reassigns fd 0 with `exec` keeps it so, like any other shell state.)
// Where the box does not allow these (no /proc, no mktemp or no writable temp dir, a channel on a socket rather
// than a pipe), the shell falls back to, respectively: stdout and stderr each ending with the marker, the client
// waiting for both,
//   command eval 'CMD'; printf '%03d%s%s' $? A B; printf '%s%s' A B >&2
// and a `command eval 'CMD' </dev/null` per command.
import { randomBytes } from 'node:crypto';
import type { RawResult } from './ssh-command-channel.ts';
import { shellQuote } from './shell.ts';

/** How a shell could be set up: where its stderr goes, and whether its stdin is /dev/null already. */
export interface Framing {
  stderr: 'file' | 'pipe';
  stdin: 'null' | 'script';
}

/** The framing on a Linux box, which is what setupScript() normally reports. */
export const FAST: Framing = { stderr: 'file', stdin: 'null' };

/** Marker length in bytes (hex characters): 96 random bits. */
const MARKER_HEX = 24;
/** Exit status digits before the stdout marker. */
export const STATUS_DIGITS = 3;
/**
 * With stderr in a file, the flag after the status: whether the command's stderr follows on stdout, and whether the
 * shell is ending (the EXIT trap wrote the trailer).
 */
const FLAGS: Record<number, { stderr: boolean; ends: boolean } | undefined> = {
  0x2d /* - */: { stderr: false, ends: false },
  0x45 /* E */: { stderr: true, ends: false },
  0x78 /* x */: { stderr: false, ends: true },
  0x58 /* X */: { stderr: true, ends: true },
};

// One randomBytes call per command shows up in profiles (a syscall each); a pool amortises it.
let pool = Buffer.alloc(0);
let poolAt = 0;
function randomHex(chars: number): string {
  const bytes = chars / 2;
  if (poolAt + bytes > pool.length) {
    pool = randomBytes(4096);
    poolAt = 0;
  }
  const s = pool.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return s;
}

/** A fresh marker, and its two halves for printf (so the script never holds it whole). */
export function newMarker(): { a: string; b: string; marker: Buffer } {
  const m = randomHex(MARKER_HEX);
  return { a: m.slice(0, MARKER_HEX / 2), b: m.slice(MARKER_HEX / 2), marker: Buffer.from(m, 'latin1') };
}

/** One command's reply as it arrives on the channel's two streams. */
export interface Reply {
  /** Take a chunk of the channel's stdout (or stderr); true once the reply is complete. */
  push(chunk: Buffer, isStderr: boolean): boolean;
  /** The command's result, once push() returned true. */
  result(): RawResult;
  /** What arrived so far, when the shell ended before the reply was complete (`exec` in the command, a signal). */
  partial(): { stdout: Buffer; stderr: Buffer };
  /** Once complete: the shell ends after this command (it ran `exit`), so it must not be given another. */
  readonly shellEnds: boolean;
}

export interface Framed {
  /** The line to write to the shell's stdin. */
  script: string;
  /** Parses what the shell sends back for it. */
  reply: Reply;
  /** What ends the command's output (after the status digits). */
  marker: Buffer;
}

export function frame(cmd: string, framing: Framing = FAST): Framed {
  const { a, b, marker } = newMarker();
  // Not `{ ...; } </dev/null`: after a syntax error in eval, bash (as sh) fails to parse a next line that starts with `{`.
  const run = framing.stdin === 'null' ? `command eval ${shellQuote(cmd)};` : `command eval ${shellQuote(cmd)} </dev/null;`;
  if (framing.stderr === 'pipe') {
    return { script: `${run} printf '%03d%s%s' $? ${a} ${b}; printf '%s%s' ${a} ${b} >&2\n`, reply: new MarkersReply(marker), marker };
  }
  return { script: `trap 'eve_qual_end ${a} ${b} X x' EXIT; ${run} eve_qual_end ${a} ${b} E -\n`, reply: new ErrFileReply(marker), marker };
}

/**
 * What the channel execs (through the user's login shell, hence one quoted POSIX line): a shell reading its script
 * from the channel through /proc/self/fd/3, with stdin on /dev/null, if that can be opened (not on a box without
 * /proc, nor when the channel is a socket); else a shell reading the channel on stdin. `exec` all the way, so the
 * shell keeps the session's pid, which is its process group.
 */
export const SHELL_COMMAND = "exec sh -c 'true 2>/dev/null </proc/self/fd/0 && exec sh /proc/self/fd/3 3<&0 </dev/null; exec sh'";

/**
 * The first line a new shell runs: kill the process groups in `reap` (shells abandoned after a timeout), move stderr
 * to a file if the box allows it, and print how it is set up and the shell's pid (see parseSetup). Its reply only
 * uses stdout, so it is read the same whatever the outcome.
 */
export function setupScript(reap: number[]): Framed {
  const { a, b, marker } = newMarker();
  const kill = reap.map((p) => `kill -9 -${p} 2>/dev/null; `).join('');
  const setup =
    // Reading its script through fd 3 (SHELL_COMMAND), the shell no longer needs fd 3, and commands must not get it.
    `if [ "$0" = /proc/self/fd/3 ]; then exec 3<&-; eve_qual_i=null; else eve_qual_i=script; fi; ` +
    // `exec` whose redirection fails ends the shell: the file exists (mktemp made it) before exec opens it. The
    // channel's stderr is kept on fd 8 until the file has proved usable.
    `if eve_qual_f=$(mktemp 2>/dev/null) && [ -f "$eve_qual_f" ] && exec 8>&2 7>>"$eve_qual_f" 2>&7; then rm -f "$eve_qual_f"; ` +
    // Check the stat and the truncation through /proc/self/fd/7 that every command relies on.
    `printf x >&2; if [ -s /proc/self/fd/7 ] && true >/proc/self/fd/7 && [ ! -s /proc/self/fd/7 ]; then exec 8>&-; ` +
    `eve_qual_end() { eve_qual_rc=$?; if [ -s /proc/self/fd/7 ]; then printf '%03d%s%s%s' $eve_qual_rc "$3" "$1" "$2"; ` +
    `command -p cat </proc/self/fd/7; true >/proc/self/fd/7; printf %s%s "$1" "$2"; else printf '%03d%s%s%s' $eve_qual_rc "$4" "$1" "$2"; fi; }; ` +
    `eve_qual_f=file; else exec 2>&8 7>&- 8>&-; eve_qual_f=pipe; fi; else eve_qual_f=pipe; fi; ` +
    `echo "eve-qual-shell $eve_qual_f $eve_qual_i $$"; unset eve_qual_f eve_qual_i;`;
  return { script: `${kill}${setup} printf '%03d-%s%s' 0 ${a} ${b}\n`, reply: new ErrFileReply(marker), marker };
}

/** The framing and pid from the setup line's output (its last line: the login shell may have printed before it). */
export function parseSetup(stdout: Buffer): { framing: Framing; pid: number } | undefined {
  const m = /eve-qual-shell (file|pipe) (null|script) (\d+)\n$/.exec(stdout.toString('latin1'));
  if (!m) return undefined;
  return { framing: { stderr: m[1] as Framing['stderr'], stdin: m[2] as Framing['stdin'] }, pid: Number(m[3]) };
}

const EMPTY: Buffer = Buffer.alloc(0);

/** One output stream of one command: collects chunks until the marker shows up (possibly split across chunks). */
export class MarkedStream {
  private readonly chunks: Buffer[] = [];
  private length = 0;
  /** The last marker.length-1 bytes seen, to find a marker split across chunks. */
  private tail: Buffer = EMPTY;
  private all: Buffer | undefined;
  /** Offset of the marker in the stream once seen, else -1. */
  end = -1;

  constructor(private readonly marker: Buffer) {}

  /** Add a chunk; true once the marker has been seen. Chunks after the one holding the marker are dropped. */
  push(chunk: Buffer): boolean {
    if (this.end >= 0) return true;
    const m = this.marker;
    let at = -1;
    // A marker split across chunks lies within the seam: the previous tail plus the start of this chunk. Searching
    // the seam and the chunk apart avoids copying large chunks.
    if (this.tail.length > 0) {
      const j = Buffer.concat([this.tail, chunk.subarray(0, m.length - 1)]).indexOf(m);
      if (j >= 0) at = this.length - this.tail.length + j;
    }
    if (at < 0) {
      const j = chunk.indexOf(m);
      if (j >= 0) at = this.length + j;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.all = undefined;
    if (at >= 0) {
      this.end = at;
      return true;
    }
    const keep = m.length - 1;
    this.tail = chunk.length >= keep ? chunk.subarray(chunk.length - keep) : Buffer.concat([this.tail, chunk]).subarray(-keep);
    return false;
  }

  /** Everything received, up to the marker if it was seen. */
  bytes(): Buffer {
    const all = this.whole();
    return this.end >= 0 ? all.subarray(0, this.end) : all;
  }

  /** What followed the marker in the chunk that held it. */
  rest(): Buffer {
    return this.end >= 0 ? this.whole().subarray(this.end + this.marker.length) : EMPTY;
  }

  private whole(): Buffer {
    return (this.all ??= this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.length));
  }
}

/** Split a finished stdout into the command's output and its exit status. */
export function splitStatus(stdoutWithStatus: Buffer): { out: Buffer; code: number } {
  const n = stdoutWithStatus.length - STATUS_DIGITS;
  const code = Number(stdoutWithStatus.toString('latin1', Math.max(0, n)));
  return { out: stdoutWithStatus.subarray(0, Math.max(0, n)), code: Number.isInteger(code) ? code : -1 };
}

/** Stderr in a file: OUT status flag marker [ERR marker], all on stdout. */
class ErrFileReply implements Reply {
  private readonly out: MarkedStream;
  /** The command's stderr, relayed on stdout after the trailer when the flag announced it. */
  private err: MarkedStream | undefined;
  private stdout = EMPTY;
  private code = -1;
  shellEnds = false;

  constructor(private readonly marker: Buffer) {
    this.out = new MarkedStream(marker);
  }

  push(chunk: Buffer, isStderr: boolean): boolean {
    // The shell has closed the channel's stderr: whatever still comes there (a login shell's noise) is no output.
    if (isStderr) return false;
    if (this.err) return this.err.push(chunk);
    if (!this.out.push(chunk)) return false;
    const head = this.out.bytes();
    const flag = FLAGS[head[head.length - 1] ?? -1];
    const { out, code } = splitStatus(head.subarray(0, Math.max(0, head.length - 1)));
    this.stdout = out;
    this.code = flag ? code : -1;
    this.shellEnds = flag?.ends ?? false;
    if (!flag?.stderr) return true;
    this.err = new MarkedStream(this.marker);
    return this.err.push(this.out.rest());
  }

  result(): RawResult {
    return { stdout: this.stdout, stderr: this.err ? this.err.bytes() : EMPTY, code: this.code };
  }

  partial(): { stdout: Buffer; stderr: Buffer } {
    if (this.out.end < 0) return { stdout: this.out.bytes(), stderr: EMPTY };
    return { stdout: this.stdout, stderr: this.err ? this.err.bytes() : EMPTY };
  }
}

/** Stderr on the channel: OUT status marker on stdout, ERR marker on stderr. */
class MarkersReply implements Reply {
  private readonly out: MarkedStream;
  private readonly err: MarkedStream;
  /** `exit` in the command ends the shell before the markers: the channel's close reports it instead. */
  readonly shellEnds = false;

  constructor(marker: Buffer) {
    this.out = new MarkedStream(marker);
    this.err = new MarkedStream(marker);
  }

  push(chunk: Buffer, isStderr: boolean): boolean {
    (isStderr ? this.err : this.out).push(chunk);
    return this.out.end >= 0 && this.err.end >= 0;
  }

  result(): RawResult {
    const { out, code } = splitStatus(this.out.bytes());
    return { stdout: out, stderr: this.err.bytes(), code };
  }

  partial(): { stdout: Buffer; stderr: Buffer } {
    return { stdout: this.out.bytes(), stderr: this.err.bytes() };
  }
}
