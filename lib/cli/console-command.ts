// eve-qual console --profile FILE [--log FILE]: attach to a box's console like picocom. The terminal goes raw, every
// key goes to the box, every byte from the box to the screen and to the console log (which records the whole
// session, with notes where it was attached and left). Ctrl-] then `.` (or `q`) leaves; Ctrl-] Ctrl-] sends one
// Ctrl-]; Ctrl-] `?` shows this help. A link lost meanwhile reconnects as the link does; the log notes the gap.
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ConsoleLog } from '../console/console-log.ts';
import { ConfigError, describeSystemError, ExitCode } from '../errors.ts';
import { consoleLinkFor } from '../lab/console-link.ts';
import type { Link } from '../link/link.ts';
import { loadProfile } from '../profile/load.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import type { Command } from './main.ts';

export const ESCAPE = 0x1d; // Ctrl-]

export interface AttachOptions {
  link: Link;
  input: Readable;
  output: Writable;
  /** Every byte from the box, with notes (attach, detach, link gaps). */
  logFile?: string;
  /** Where eve-qual's own words go (default: output). */
  notice?: (text: string) => void;
}

export type DetachReason = 'escape' | 'input-ended' | 'link-closed';

/** Attach until the escape sequence, the end of input, or the link closing for good. The link must be open. */
export function attachConsole(o: AttachOptions): Promise<DetachReason> {
  const log = o.logFile ? new ConsoleLog(o.logFile) : undefined;
  const say = o.notice ?? ((t: string) => o.output.write(`\r\n[eve-qual] ${t}\r\n`));
  log?.note(`attached (eve-qual console) to ${o.link.name}`);
  say(`attached to ${o.link.name}: Ctrl-] . leaves, Ctrl-] ? for help`);
  return new Promise<DetachReason>((resolve) => {
    let escaped = false;
    let done = false;
    // Writes to the box in the order typed, without holding up the keyboard.
    let chain: Promise<void> = Promise.resolve();
    const send = (b: Buffer) => {
      if (b.length) chain = chain.then(() => o.link.write(b)).catch((e: Error) => say(`write failed: ${e.message}`));
    };
    const finish = (why: DetachReason) => {
      if (done) return;
      done = true;
      o.input.off('data', onKeys);
      o.input.off('end', onEnd);
      o.link.off('data', onBox);
      o.link.off('disconnect', onGap);
      o.link.off('reconnect', onBack);
      o.link.off('close', onClose);
      void chain.finally(() => {
        log?.note(`detached (${why})`);
        log?.close();
        resolve(why);
      });
    };
    const onKeys = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      let start = 0;
      for (let i = 0; i < buf.length; i++) {
        const c = buf[i]!;
        if (escaped) {
          escaped = false;
          // Whatever came before the escape was sent when it was seen; what follows the command is dropped.
          if (c === 0x2e /* . */ || c === 0x71 /* q */) return finish('escape');
          if (c === ESCAPE) {
            start = i; // the second Ctrl-] is sent as it is
            continue;
          }
          if (c === 0x3f /* ? */) say('Ctrl-] .  leave   Ctrl-] Ctrl-]  send Ctrl-]   Ctrl-] ?  this help');
          start = i + 1;
          continue;
        }
        if (c === ESCAPE) {
          send(buf.subarray(start, i));
          escaped = true;
          start = i + 1;
        }
      }
      if (!escaped) send(buf.subarray(start));
    };
    const onBox = (chunk: Buffer) => {
      log?.write(chunk);
      o.output.write(chunk);
    };
    const onGap = (cause: string) => {
      log?.note(`link ${o.link.name} lost: ${cause}`);
      say(`link lost (${cause}); reconnecting...`);
    };
    const onBack = () => {
      log?.note(`link ${o.link.name} back`);
      say('link back');
    };
    const onClose = (err?: Error) => {
      if (err) say(`link closed: ${err.message}`);
      finish('link-closed');
    };
    const onEnd = () => finish('input-ended');
    o.link.on('data', onBox);
    o.link.on('disconnect', onGap);
    o.link.on('reconnect', onBack);
    o.link.on('close', onClose);
    o.input.on('data', onKeys);
    o.input.on('end', onEnd);
    o.input.resume();
  });
}

export const consoleCommand: Command = {
  name: 'console',
  summary: "attach to a real box's console (like picocom); Ctrl-] . leaves",
  usage: '--profile FILE [--log FILE]',
  async run(argv) {
    const { values } = parseCommandArgs('console', argv, { profile: { type: 'string' }, log: { type: 'string' } });
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual console ${this.usage}`,
          '',
          "Attaches the terminal to the box's console link (serial, terminal server, IPMI SOL...). Keys go to the",
          'box as typed (raw mode); Ctrl-] then . (or q) leaves, Ctrl-] Ctrl-] sends a Ctrl-], Ctrl-] ? helps.',
          'Every byte from the box is also written to the console log, with the time each line arrived.',
          '',
          '  --profile FILE   the box profile',
          '  --log FILE       the console log (default runs/console/<box>-<time>.log)',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    const loaded = loadProfile(requireOption('console', values.profile, 'profile'));
    const p = loaded.profile;
    if (p.box.kind === 'virtual') throw new ConfigError(`eve-qual console: ${p.box.name} is a virtual box; its console exists only inside eve-qual run/install (see the run's console/ log)`);
    const logFile = values.log ?? path.join('runs', 'console', `${p.box.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
    openLog(logFile, values.log !== undefined);
    const link = consoleLinkFor(loaded);
    await link.open();
    const stdin = process.stdin;
    const raw = stdin.isTTY === true;
    if (raw) stdin.setRawMode(true);
    try {
      const why = await attachConsole({ link, input: stdin, output: process.stdout, logFile });
      process.stdout.write(`\r\n[eve-qual] detached (${why}); console log: ${logFile}\r\n`);
      return why === 'link-closed' ? ExitCode.lab : ExitCode.ok;
    } finally {
      if (raw) stdin.setRawMode(false);
      stdin.pause();
      await link.close();
    }
  },
};

/** The console log must be writable before the box's console is connected to: otherwise bad input, told so. */
function openLog(logFile: string, given: boolean): void {
  try {
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.closeSync(fs.openSync(logFile, 'a'));
  } catch (e) {
    throw new ConfigError(`eve-qual console: ${given ? '--log' : 'the console log'} ${logFile}: cannot write it: ${describeSystemError(e)}`, { where: logFile, cause: e });
  }
}
