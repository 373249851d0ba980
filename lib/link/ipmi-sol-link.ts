// A box's console through its BMC: IPMI Serial over LAN with `ipmitool sol activate`, as a reconnecting link.
// - The password goes by environment (-E), never on a command line.
// - The link is open only once ipmitool says the SOL session is operational (its banner, flushed at once by running
//   it line-buffered with stdbuf; box bytes are flushed by ipmitool per packet); the banner is not box output.
// - A SOL session left active by a crashed run (or by our own ipmitool that died) blocks a new one until the BMC
//   times it out (a minute or more): every (re)open deactivates it first (`sol deactivate`), unless
//   `onBusy: 'fail'`, where SOL held by anyone else is a lab error naming the BMC. Closing the link ends ipmitool and
//   deactivates the payload it held, so the next user finds SOL free.
// - ipmitool's escape character is set to a control character nobody types (0x1f) so that box input such as "~."
//   at the start of a line reaches the box instead of ending the session.
import { execa, type ResultPromise } from 'execa';
import { Ipmitool, ipmiCause, type IpmiTarget } from './ipmitool.ts';
import { redact } from '../util/redact.ts';
import { ReconnectingLink, type ReconnectOptions, type Transport, type TransportSink } from './reconnecting-link.ts';

export interface IpmiSolLinkOptions extends IpmiTarget, ReconnectOptions {
  /** What to do when SOL is already active at the first open: deactivate it (default) or fail. */
  onBusy?: 'deactivate' | 'fail';
  /** Deadline of the helper calls (deactivate), ms (default 15 s). */
  callTimeoutMs?: number;
}

const BANNER = /\[SOL Session operational[^\n]*\n/;
const ESCAPE = '\x1f';

export class IpmiSolLink extends ReconnectingLink {
  readonly ipmitool: Ipmitool;
  readonly #opts: IpmiSolLinkOptions;

  constructor(opts: IpmiSolLinkOptions) {
    const tool = new Ipmitool(opts);
    super(`ipmi-sol:${tool.where.slice('ipmi:'.length)}`, { connectTimeoutMs: 20_000, ...opts });
    this.ipmitool = tool;
    this.#opts = opts;
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const tool = this.ipmitool;
    const callMs = this.#opts.callTimeoutMs ?? 15_000;
    // A cheap call first: it settles the cipher suite and turns wrong credentials into a clear cause.
    if ((this.#opts.onBusy ?? 'deactivate') === 'deactivate') {
      const r = await tool.run(['sol', 'deactivate'], Math.min(callMs, this.connectTimeoutMs));
      const text = r.stdout + '\n' + r.stderr;
      if (r.code !== 0 && !/already de-?activated/i.test(text)) throw new Error(`sol deactivate failed: ${ipmiCause(text, tool.user)}`);
    } else if (tool.cipherSuite === undefined) {
      const r = await tool.run(['sol', 'info'], Math.min(callMs, this.connectTimeoutMs));
      if (r.code !== 0) throw new Error(ipmiCause(r.stdout + '\n' + r.stderr, tool.user));
    }
    if (signal.aborted) throw signal.reason;
    const suite = tool.cipherSuite ?? tool.suites()[0]!;
    const { file, args } = tool.spawnArgs(['-e', ESCAPE, ...tool.argv(['sol', 'activate'], suite, this.connectTimeoutMs)], ['stdbuf', '-oL', '-eL']);
    const proc = execa(file, args, {
      env: tool.env(),
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      cleanup: true,
      stripFinalNewline: false,
    });
    let said = '';
    const remember = (s: string) => (said = redact(said + s, [this.#opts.password]).slice(-4000));
    proc.stderr!.on('data', (d: Buffer) => remember(d.toString('latin1')));
    proc.stdin!.on('error', () => undefined);
    let ready = false;
    let head = Buffer.alloc(0);
    const operational = new Promise<void>((resolve, reject) => {
      proc.stdout!.on('data', (chunk: Buffer) => {
        if (ready) return sink.data(chunk);
        head = Buffer.concat([head, chunk]);
        const text = head.toString('latin1');
        remember(chunk.toString('latin1'));
        const m = BANNER.exec(text);
        if (!m) return;
        ready = true;
        const rest = head.subarray(m.index + m[0].length);
        head = Buffer.alloc(0);
        resolve();
        if (rest.length) sink.data(rest);
      });
      void proc.then((r) => {
        if (!ready) reject(new Error(ipmiCause(said, tool.user) + (r.exitCode === 127 ? ' (ipmitool or stdbuf not found)' : '')));
        else sink.lost(`ipmitool sol ended (${r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`}): ${ipmiCause(said, tool.user)}`);
      });
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const transport = solTransport(proc, async () => {
      await tool.run(['sol', 'deactivate'], 5000).catch(() => undefined);
    });
    try {
      await operational;
    } catch (e) {
      await transport.destroy();
      throw e;
    }
    return transport;
  }
}

function solTransport(proc: ResultPromise, release: () => Promise<void>): Transport {
  let destroyed: Promise<void> | undefined;
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        const stdin = proc.stdin!;
        if (proc.exitCode !== null || stdin.destroyed || !stdin.writable) return reject(Object.assign(new Error('ipmitool stdin is closed'), { code: 'EPIPE' }));
        stdin.write(data, (err) => (err ? reject(err) : resolve()));
      }),
    destroy: () =>
      (destroyed ??= (async () => {
        if (proc.exitCode === null && proc.signalCode === null) {
          proc.kill('SIGTERM');
          const force = setTimeout(() => proc.kill('SIGKILL'), 2000);
          await proc;
          clearTimeout(force);
          // A killed ipmitool leaves its payload active on the BMC: free it for whoever comes next.
          await release();
        }
      })()),
  };
}
