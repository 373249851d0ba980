// Run a command on the console and get its output and exit status. The command is framed by a begin marker and an
// end marker carrying `$?`; both are printed by the shell, so the terminal's echo of our line never matches.
// Kernel messages that arrive mid-output are removed from the output. A command that overruns its deadline is
// interrupted (Ctrl-C) and the console resynchronised with a probe, so it does not poison the next command.
import { DeadlineError, LabError } from '../errors.ts';
import { Deadline } from '../util/deadline.ts';
import type { Console } from './console.ts';
import { probe } from './login.ts';
import { markerText, nonce, printMarker, stripKernelMessages } from './markers.ts';

export interface FramedResult {
  output: string;
  code: number;
}

export async function runFramed(con: Console, cmd: string, timeout = 60_000): Promise<FramedResult> {
  const deadline = new Deadline(timeout);
  const id = nonce();
  const w = await con.acquire(`command ${JSON.stringify(cmd.slice(0, 40))}`, timeout);
  try {
    con.discard();
    // A subshell: `exit 3` or a failing `set -e` ends the command, not the console's shell.
    const line = `${printMarker('B', id)}; ( ${cmd} ); ${printMarker('E', id, '_%d\\n', '$?')}`;
    await w.sendLine(line);
    const awaitedDone = `the end of command ${JSON.stringify(cmd)}`;
    try {
      await con.expect(markerText('B', id) + '\n', { timeout: deadline.remaining(), awaited: `the start of command ${JSON.stringify(cmd)}` });
      const end = await con.expect(new RegExp(`${markerText('E', id)}_(\\d+)\\n`), {
        timeout: deadline.remaining(),
        awaited: awaitedDone,
      });
      return { output: stripKernelMessages(end.before), code: Number(end.match![1]) };
    } catch (e) {
      if (!(e instanceof DeadlineError)) throw e;
      // Interrupt the command and make sure the shell answers again before the next command.
      await w.send('\x03');
      const state = await probe(con, w, 5000);
      if (state !== 'shell') {
        throw new LabError(`${e.message}; the console did not answer after Ctrl-C`, { where: con.where, tail: con.tail(), cause: e });
      }
      throw e;
    }
  } finally {
    w.release();
  }
}
