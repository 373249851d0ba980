// ipmitool over IPMI v2 (lanplus), shared by the IPMI power driver and the SOL link. Always an argv array, never a
// shell; the password goes by environment (`-E` reads IPMI_PASSWORD), so `ps` never shows it. Every call has a
// deadline (ipmitool's own retries are bounded with -N/-R and the process is killed at the deadline).
//
// Cipher suites: ipmitool 1.8.19 first asks the BMC which suites it supports; BMCs (and ipmi_sim) that do not answer
// that command cost 10 s per call. So a suite is always given: 17 (SHA256, what current BMCs prefer) first, then 3
// (SHA1, what older BMCs have), and the one that worked is kept. A profile may name one.
import { execa } from 'execa';
import fs from 'node:fs';
import { ConfigError, LabError, formatMs } from '../errors.ts';
import { redact } from '../util/redact.ts';

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

export interface IpmiTarget {
  host: string;
  /** UDP port of the BMC's RMCP+ service (623). */
  port: number;
  user: string;
  password: string;
  /** A cipher suite ID (0-17); default: try 17, then 3. */
  cipherSuite?: number;
  /** ipmitool executable (tests point this elsewhere to simulate a broken tool). */
  ipmitool?: string;
}

export interface IpmiResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `ipmi:HOST` (or `ipmi:HOST:PORT` when not 623). */
export function ipmiWhere(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return port === 623 ? `ipmi:${h}` : `ipmi:${h}:${port}`;
}

const CIPHER_REFUSED = /invalid (authentication|integrity|confidentiality) algorithm|no matching cipher suite|cipher suite .* not supported/i;

/** What went wrong, in words, from ipmitool's -v output. */
export function ipmiCause(text: string, user: string): string {
  if (/RAKP 2 HMAC is invalid|RAKP \d+ message indicates an error : (unauthorized name|invalid|inactive)|password/i.test(text))
    return `authentication failed for user ${JSON.stringify(user)} (wrong user name or password)`;
  if (/insufficient privilege|privilege level/i.test(text)) return `user ${JSON.stringify(user)} lacks the privilege for this (needs operator or admin)`;
  if (CIPHER_REFUSED.test(text)) return 'the BMC accepts none of the cipher suites tried (set the one it supports)';
  if (/Get Auth Capabilities error|Error issuing Get Channel Authentication Capabilities|No response from remote controller|Unable to establish IPMI v2/i.test(text))
    return 'no answer from the BMC (unreachable, wrong port, or IPMI over LAN disabled)';
  if (/SOL payload already active on another session/i.test(text)) return 'Serial over LAN is in use by another session';
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/^Loading IANA|^Running Get VSO|^Invalid completion code received: Invalid command|^Discovered IPMB|^tcgetattr/.test(l));
  return lines.at(-1) ?? 'ipmitool failed without saying why';
}

export class Ipmitool {
  readonly where: string;
  readonly #t: IpmiTarget;
  #suite: number | undefined;

  constructor(target: IpmiTarget) {
    if (target.cipherSuite !== undefined && !(Number.isInteger(target.cipherSuite) && target.cipherSuite >= 0 && target.cipherSuite <= 17))
      throw new ConfigError(`IPMI cipher suite must be 0 to 17 (got ${target.cipherSuite})`);
    // IPMI v2 passwords are at most 20 bytes; a longer one can never authenticate, whatever the BMC says about it.
    if (Buffer.byteLength(target.password) > 20) throw new ConfigError('IPMI passwords are at most 20 bytes (IPMI v2); this one is longer');
    this.#t = target;
    this.#suite = target.cipherSuite;
    this.where = ipmiWhere(target.host, target.port);
  }

  get host(): string {
    return this.#t.host;
  }
  get user(): string {
    return this.#t.user;
  }
  /** The cipher suite in use once a call has succeeded (or the profile's). */
  get cipherSuite(): number | undefined {
    return this.#suite;
  }

  /** Environment for an ipmitool child: the password by -E, never in argv. */
  env(): Record<string, string> {
    return { IPMI_PASSWORD: this.#t.password };
  }

  /** argv (without the executable) for `command` with cipher suite `suite`; -v so failures say why. */
  argv(command: readonly string[], suite: number, timeoutMs = 10_000): string[] {
    // -N: seconds between retransmissions, -R: retries; bounded so ipmitool gives up within our deadline.
    const perTry = Math.max(1, Math.min(5, Math.floor(timeoutMs / 4000)));
    return ['-v', '-I', 'lanplus', '-H', this.#t.host, '-p', String(this.#t.port), '-U', this.#t.user, '-E', '-C', String(suite), '-N', String(perTry), '-R', '2', ...command];
  }

  /** The executable and argv prefix that run ipmitool under pdeathsig. */
  spawnArgs(args: string[], wrap: string[] = []): { file: string; args: string[] } {
    const exe = this.#t.ipmitool ?? 'ipmitool';
    const inner = [...wrap, exe, ...args];
    return SETPRIV ? { file: SETPRIV, args: ['--pdeathsig', 'KILL', '--', ...inner] } : { file: inner[0]!, args: inner.slice(1) };
  }

  /** Which suites to try, in order. */
  suites(): number[] {
    return this.#suite !== undefined ? [this.#suite] : [17, 3];
  }

  /** Remember the suite that worked. */
  settle(suite: number): void {
    this.#suite ??= suite;
  }

  /**
   * Run one ipmitool command; resolves with its output even when it failed (exit code in `code`), rejects only with
   * a LabError when ipmitool cannot run or overruns `timeoutMs`. Tries cipher suites as described above.
   */
  async run(command: readonly string[], timeoutMs = 15_000): Promise<IpmiResult> {
    let last: IpmiResult | undefined;
    for (const suite of this.suites()) {
      last = await this.#runOnce(command, suite, timeoutMs);
      if (last.code !== 0 && CIPHER_REFUSED.test(last.stdout + last.stderr) && this.#suite === undefined) continue;
      if (last.code === 0 || !/Unable to establish IPMI v2/.test(last.stderr)) this.settle(suite);
      return last;
    }
    return last!;
  }

  /** run(), and a LabError naming the BMC and the cause when the command fails. */
  async check(command: readonly string[], what: string, timeoutMs = 15_000): Promise<IpmiResult> {
    const r = await this.run(command, timeoutMs);
    if (r.code !== 0) throw this.error(`${what} failed: ${ipmiCause(r.stdout + '\n' + r.stderr, this.#t.user)}`);
    return r;
  }

  error(message: string): LabError {
    return new LabError(`${this.where}: ${redact(message, [this.#t.password])}`, { where: this.where });
  }

  async #runOnce(command: readonly string[], suite: number, timeoutMs: number): Promise<IpmiResult> {
    const { file, args } = this.spawnArgs(this.argv(command, suite, timeoutMs));
    const r = await execa(file, args, {
      env: this.env(),
      reject: false,
      stdin: 'ignore',
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
      cleanup: true,
    });
    const clean = (s: unknown) => redact(typeof s === 'string' ? s : '', [this.#t.password]);
    if (r.timedOut) throw this.error(`ipmitool ${command.join(' ')}: no answer within ${formatMs(timeoutMs)} (BMC unreachable or hung)`);
    if (r.failed && r.exitCode === undefined) {
      const code = (r.cause as NodeJS.ErrnoException | undefined)?.code;
      throw this.error(code === 'ENOENT' ? `ipmitool not found (install the Debian package ipmitool)` : `cannot run ipmitool: ${clean(r.shortMessage)}`);
    }
    // setpriv exits 127 when it cannot exec the tool.
    if (r.exitCode === 127 && /No such file|failed to execute/i.test(clean(r.stderr)))
      throw this.error(`${this.#t.ipmitool ?? 'ipmitool'} not found (install the Debian package ipmitool)`);
    return { code: r.exitCode ?? 1, stdout: clean(r.stdout), stderr: clean(r.stderr) };
  }
}
