// Getting a shell on the console. EVE autologins root on every console= tty (agetty -a root) and its hostname
// becomes the device UUID after onboarding, so we never match a prompt on the hostname: a shell is proven by the
// output of a probe command (a marker the echoed command line cannot contain). Login and password prompts are
// answered when they show up (non-EVE images, or a box configured with a password).
import { DeadlineError, LabError } from '../errors.ts';
import { Deadline } from '../util/deadline.ts';
import type { Console, ConsoleWriter } from './console.ts';
import { markerText, nonce, printMarker } from './markers.ts';

export interface LoginOptions {
  /** Overall deadline (ms). */
  timeout?: number;
  user?: string;
  /** The password itself, already resolved from its reference (never logged). */
  password?: string;
  loginPrompt?: RegExp;
  passwordPrompt?: RegExp;
}

const LOGIN = /\blogin: ?$/;
const PASSWORD = /[Pp]assword: ?$/;
// A prompt-looking end of output: only a hint that makes us probe sooner, never proof.
const PROMPT_HINT = /[#$>] ?$/;

export async function login(con: Console, opts: LoginOptions = {}): Promise<void> {
  const deadline = new Deadline(opts.timeout ?? 60_000);
  const loginRe = opts.loginPrompt ?? LOGIN;
  const passwordRe = opts.passwordPrompt ?? PASSWORD;
  const w = await con.acquire('login', deadline.remaining());
  try {
    let poke = true;
    while (!deadline.expired()) {
      if (poke) await w.send(con.options.newline);
      poke = true;
      const step = await waitSome(con, [loginRe, passwordRe, PROMPT_HINT], Math.min(deadline.remaining(), 3000));
      if (step === 0) {
        await w.sendLine(opts.user ?? 'root');
        poke = false;
        continue;
      }
      if (step === 1) {
        if (opts.password === undefined) {
          throw new LabError(`console of ${con.where} asks for a password and the profile gives none`, {
            where: con.where,
            tail: con.tail(),
          });
        }
        await w.sendLine(opts.password);
        poke = false;
        continue;
      }
      // A prompt hint, or quiet: prove there is a shell.
      const r = await probe(con, w, Math.min(deadline.remaining(), 5000), [loginRe, passwordRe]);
      if (r === 'shell') return;
      if (r === 'login' || r === 'password') poke = false;
      if (r === 'login') await w.sendLine(opts.user ?? 'root');
      if (r === 'password') {
        if (opts.password === undefined) continue;
        await w.sendLine(opts.password);
      }
    }
    throw new DeadlineError('a shell on the console (login or autologin)', deadline.totalMs, {
      where: con.where,
      tail: con.tail(),
    });
  } finally {
    w.release();
  }
}

/** Wait for one of `patterns`; the index, or -1 when the time ran out (quiet console). */
async function waitSome(con: Console, patterns: RegExp[], ms: number): Promise<number> {
  if (ms <= 0) return -1;
  try {
    return (await con.expect(patterns, { timeout: ms, awaited: 'a login or shell prompt' })).index;
  } catch (e) {
    if (e instanceof DeadlineError) return -1;
    throw e;
  }
}

/** Send a probe command and wait for its marker (a shell) or a login/password prompt. */
export async function probe(
  con: Console,
  w: ConsoleWriter,
  ms: number,
  prompts: RegExp[] = [],
): Promise<'shell' | 'login' | 'password' | 'quiet'> {
  const id = nonce();
  // Ctrl-U first: clears whatever half-typed line a previous user or command left.
  await w.send('\x15' + printMarker('R', id) + con.options.newline);
  const i = await waitSome(con, [new RegExp(markerText('R', id)), ...prompts], ms);
  return i === 0 ? 'shell' : i === 1 ? 'login' : i === 2 ? 'password' : 'quiet';
}
