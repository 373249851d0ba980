// Markers for framing commands on a console or a shell channel. The command line we send spells a marker as
// `printf 'EQ%s_%s' X NONCE`, so the echo of that line never contains the marker itself (`EQX_NONCE`); only the
// shell's output does. The nonce is random per command, so output from an earlier command cannot match.
import { randomBytes } from 'node:crypto';

export function nonce(): string {
  return randomBytes(6).toString('hex');
}

/** Shell code that prints `EQ<tag>_<nonce>` followed by `suffix` (a printf format tail, e.g. `_%d\n`). */
export function printMarker(tag: string, id: string, suffix = '\\n', args = ''): string {
  return `printf 'EQ%s_%s${suffix}' ${tag} ${id}${args ? ' ' + args : ''}`;
}

export function markerText(tag: string, id: string): string {
  return `EQ${tag}_${id}`;
}

/**
 * Kernel messages the box prints on its console while a command runs (`[   12.345678] usb 1-1: ...`), possibly in
 * the middle of an output line. printk ends each message with a newline, so removing `[ts] ...\n` restores the
 * command's own output.
 */
const KERNEL_LINE = /\[ {0,6}\d{1,6}\.\d{6}\] [^\n]*\n/g;

export function stripKernelMessages(text: string): string {
  return text.includes('] ') ? text.replace(KERNEL_LINE, '') : text;
}
