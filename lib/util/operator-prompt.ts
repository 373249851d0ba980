// Asking the operator at the runner: a message, then a line (Enter) on stdin. Works at a terminal and through a pipe
// (a lab script or a test answering), and is refused at once when stdin can give no answer (/dev/null, a closed
// stdin in CI): waiting there would hang the run.
import fs from 'node:fs';
import { LabError } from '../errors.ts';

export type OperatorPrompt = (message: string) => Promise<void>;

function stdinCanAnswer(): boolean {
  if (process.stdin.isTTY) return true;
  try {
    const st = fs.fstatSync(0);
    return st.isFIFO() || st.isSocket();
  } catch {
    return false;
  }
}

export function stdinPrompt(out: NodeJS.WritableStream = process.stdout): OperatorPrompt {
  return async (message) => {
    if (!stdinCanAnswer()) throw new LabError(`${message}: no operator can answer (stdin is not a terminal or a pipe)`);
    out.write(`${message} `);
    await new Promise<void>((resolve, reject) => {
      const stdin = process.stdin;
      let seen = '';
      const onData = (b: Buffer) => {
        seen += b.toString('utf8');
        if (seen.includes('\n') || seen.includes('\r')) done();
      };
      const onEnd = () => done(new LabError(`${message}: stdin closed before the operator answered`));
      // A paused stdin (socket or pipe) still holds the event loop open: unref it, or the run never exits.
      const handle = stdin as unknown as { ref?: () => void; unref?: () => void };
      const done = (e?: Error) => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
        handle.unref?.();
        if (e) reject(e);
        else resolve();
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      handle.ref?.();
      stdin.resume();
    });
    out.write('\n');
  };
}
