// A Shell over the serial console, with the framed runner. Used before SSH is up (right after install) and on boxes
// whose network is what is being debugged. stdout and stderr arrive merged on a console: stderr is always ''.
// Files move as base64 text in lines short enough for any tty, verified by sha256 on both ends.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import type { Console } from '../console/console.ts';
import { runFramed } from '../console/framed-runner.ts';
import { BoxError, LabError } from '../errors.ts';
import { shellQuote, type RunOptions, type RunResult, type Shell } from './shell.ts';

const LINE = 768; // base64 characters per line written: well under a canonical-mode tty's 4095-byte line limit

export class ConsoleShell implements Shell {
  constructor(
    readonly console: Console,
    private readonly defaultTimeout = 60_000,
  ) {}

  get where(): string {
    return `console:${this.console.where}`;
  }

  async run(cmd: string, opts: RunOptions = {}): Promise<RunResult> {
    const t0 = Date.now();
    const r = await runFramed(this.console, cmd, opts.timeout ?? this.defaultTimeout);
    return { stdout: r.output, stderr: '', code: r.code, durationMs: Date.now() - t0 };
  }

  private async check(cmd: string, what: string, opts: RunOptions): Promise<string> {
    const r = await this.run(cmd, opts);
    if (r.code !== 0) throw new BoxError(`${what} on ${this.where} failed (exit ${r.code}): ${r.stdout.trim().slice(-500)}`);
    return r.stdout;
  }

  private async remoteSha256(remotePath: string, opts: RunOptions): Promise<string> {
    const out = await this.check(`sha256sum ${shellQuote(remotePath)}`, `sha256sum of ${remotePath}`, opts);
    return out.trim().split(/\s+/)[0] ?? '';
  }

  async put(localPath: string, remotePath: string, opts: RunOptions = {}): Promise<void> {
    const data = fs.readFileSync(localPath);
    const b64 = data.toString('base64');
    const tmp = `${remotePath}.eq-b64`;
    await this.check(`: > ${shellQuote(tmp)}`, `creating ${tmp}`, opts);
    for (let i = 0; i < b64.length; i += LINE * 4) {
      const lines: string[] = [];
      for (let j = i; j < Math.min(b64.length, i + LINE * 4); j += LINE) lines.push(b64.slice(j, j + LINE));
      await this.check(`printf '%s\\n' ${lines.join(' ')} >> ${shellQuote(tmp)}`, `writing ${tmp}`, opts);
    }
    await this.check(`base64 -d ${shellQuote(tmp)} > ${shellQuote(remotePath)} && rm -f ${shellQuote(tmp)}`, `decoding ${remotePath}`, opts);
    const want = createHash('sha256').update(data).digest('hex');
    const got = await this.remoteSha256(remotePath, opts);
    if (got !== want) throw new LabError(`copy of ${localPath} to ${this.where}:${remotePath} is corrupt (sha256 ${got}, expected ${want})`);
  }

  async get(remotePath: string, localPath: string, opts: RunOptions = {}): Promise<void> {
    const out = await this.check(`base64 ${shellQuote(remotePath)}`, `reading ${remotePath}`, opts);
    const data = Buffer.from(out.replace(/\s+/g, ''), 'base64');
    const got = createHash('sha256').update(data).digest('hex');
    const want = await this.remoteSha256(remotePath, opts);
    if (got !== want) throw new LabError(`copy of ${this.where}:${remotePath} is corrupt (sha256 ${got}, expected ${want})`);
    fs.writeFileSync(localPath, data);
  }

  async close(): Promise<void> {
    // The console outlives its shells; the box closes it.
  }
}
