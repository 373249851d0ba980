// eve-qual's traffic peer: a TCP receiver on the runner that a box sends a bounded transfer to, through one of its
// Ethernet ports. The receiver counts the bytes and the time itself, so a throughput is what arrived here, never an
// SSH round trip timed by the harness.
//
// Protocol (one transfer per connection): the box sends the line `EVEQUAL <token> <bytes>\n`, then exactly <bytes>
// bytes. Once they have all arrived the peer answers `OK <bytes>\n` and closes, so a sender that waits for the far
// end to close (socat) ends with the transfer. Anything else is dropped.
import net from 'node:net';
import { DeadlineError, LabError } from '../errors.ts';

/** One transfer as the peer saw it. */
export interface Transfer {
  token: string;
  /** Bytes the sender announced. */
  announced: number;
  /** Payload bytes received (after the header line). */
  bytes: number;
  /** Seconds from the header's arrival to the last byte, measured here. */
  seconds: number;
  /** Whether every announced byte arrived before the connection ended. */
  complete: boolean;
  /** The sender as this socket saw it (QEMU user net: 127.0.0.1). */
  remote: string;
}

const HEADER = /^EVEQUAL ([A-Za-z0-9._-]{1,64}) (\d{1,12})$/;
const MAX_HEADER = 128;

export class TrafficPeer {
  private readonly done = new Map<string, Transfer>();
  private readonly waiters = new Map<string, (t: Transfer) => void>();
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    /** The address it listens on and its port. */
    readonly host: string,
    readonly port: number,
  ) {}

  /** Listen on `host` (an ephemeral port). */
  static async start(host: string): Promise<TrafficPeer> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new LabError(`the traffic peer cannot listen on ${host}: ${e.message}`, { cause: e })));
      server.listen(0, host, () => resolve());
    });
    const peer = new TrafficPeer(server, host, (server.address() as net.AddressInfo).port);
    server.on('connection', (s) => peer.accept(s));
    return peer;
  }

  /** The transfer announced with `token`, once its connection ended (complete or not). */
  transfer(token: string, timeoutMs: number): Promise<Transfer> {
    const seen = this.done.get(token);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(token);
        reject(new DeadlineError(`a transfer "${token}" to the traffic peer on ${this.host}:${this.port}`, timeoutMs));
      }, timeoutMs);
      this.waiters.set(token, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => s.destroy());
    let head = Buffer.alloc(0);
    let t: Transfer | null = null;
    let started = 0n;
    let last = 0n;
    const finish = () => {
      if (!t || this.done.has(t.token)) return;
      t.seconds = Number(last - started) / 1e9;
      this.done.set(t.token, t);
      this.waiters.get(t.token)?.(t);
      this.waiters.delete(t.token);
    };
    const take = (chunk: Buffer) => {
      last = process.hrtime.bigint();
      t!.bytes += chunk.length;
      if (t!.bytes >= t!.announced) {
        t!.complete = t!.bytes === t!.announced;
        finish();
        s.end(`OK ${t!.bytes}\n`);
      }
    };
    s.on('data', (chunk: Buffer) => {
      if (t) return take(chunk);
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(0x0a);
      if (nl < 0) {
        if (head.length > MAX_HEADER) s.destroy();
        return;
      }
      const m = HEADER.exec(head.subarray(0, nl).toString('latin1'));
      if (!m) return void s.destroy();
      started = last = process.hrtime.bigint();
      t = { token: m[1]!, announced: Number(m[2]), bytes: 0, seconds: 0, complete: false, remote: s.remoteAddress ?? '' };
      if (head.length > nl + 1) take(head.subarray(nl + 1));
      else if (t.announced === 0) take(Buffer.alloc(0));
    });
    s.on('close', finish);
  }
}
