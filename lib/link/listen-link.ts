// A link that listens and lets the box connect to it: eve-qual owns a unix (or loopback TCP) socket and QEMU's
// serial chardev connects to it as a client when QEMU starts, before the guest runs a single instruction. So no
// byte of firmware output is lost, and the same Link (and its console log) spans any number of QEMU restarts
// (power-off/on): each new connection is a `reconnect`, each end of one a `disconnect`.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import { LabError, describeSystemError } from '../errors.ts';
import type { Link, LinkEvents, LinkState } from './link.ts';

export interface ListenLinkOptions {
  /** Unix socket path to listen on (or `port` for loopback TCP). */
  path?: string;
  port?: number;
  /** How long write() waits for the box to connect (ms). */
  writeWaitMs?: number;
}

export class ListenLink extends EventEmitter<LinkEvents> implements Link {
  readonly name: string;
  private server: net.Server | null = null;
  private conn: net.Socket | null = null;
  private everConnected = false;
  private lostAt: Date | null = null;
  private lostCause = '';
  private _state: LinkState = 'closed';
  private connectWaiters: Array<() => void> = [];

  constructor(private readonly opts: ListenLinkOptions) {
    super();
    if (!opts.path && !opts.port) throw new LabError('a listen link needs a socket path or a port');
    this.name = opts.path ? `listen:unix:${opts.path}` : `listen:tcp:127.0.0.1:${opts.port}`;
  }

  get state(): LinkState {
    return this._state;
  }

  /** True while a box is connected. */
  get connected(): boolean {
    return this.conn !== null;
  }

  async open(): Promise<void> {
    if (this.server) return;
    if (this.opts.path && fs.existsSync(this.opts.path)) fs.unlinkSync(this.opts.path);
    const server = net.createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new LabError(`cannot listen on ${this.name}: ${describeSystemError(e)}`, { where: this.name, cause: e })));
      if (this.opts.path) server.listen(this.opts.path, resolve);
      else server.listen(this.opts.port, '127.0.0.1', resolve);
    });
    this.server = server;
    this._state = 'reconnecting';
  }

  private accept(sock: net.Socket): void {
    // One box, one connection: a newer one replaces an older (a restarted QEMU).
    this.conn?.destroy();
    this.conn = sock;
    this._state = 'open';
    sock.on('data', (d: Buffer) => this.emit('data', d));
    sock.on('error', (e) => (this.lostCause = describeSystemError(e)));
    sock.on('close', () => {
      if (this.conn !== sock) return;
      this.conn = null;
      if (!this.server) return;
      this._state = 'reconnecting';
      this.lostAt = new Date();
      const cause = this.lostCause || 'the box closed its end (power off or QEMU exit)';
      this.lostCause = '';
      this.emit('disconnect', cause);
    });
    if (!this.everConnected) {
      this.everConnected = true;
      this.emit('open');
    } else {
      const start = this.lostAt ?? new Date();
      this.emit('reconnect', { start, end: new Date(), cause: 'box reconnected', recovered: true });
    }
    for (const w of this.connectWaiters.splice(0)) w();
  }

  async write(data: Buffer | string): Promise<void> {
    if (!this.server) throw new LabError(`${this.name} is closed`, { where: this.name });
    if (!this.conn) {
      const ms = this.opts.writeWaitMs ?? 30_000;
      await new Promise<void>((resolve, reject) => {
        const onConn = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(() => {
          this.connectWaiters = this.connectWaiters.filter((w) => w !== onConn);
          reject(new LabError(`nothing connected to ${this.name} within ${ms} ms (is the box powered on?)`, { where: this.name }));
        }, ms);
        this.connectWaiters.push(onConn);
      });
    }
    const conn = this.conn!;
    await new Promise<void>((resolve, reject) => conn.write(data, (e) => (e ? reject(new LabError(`write to ${this.name} failed: ${describeSystemError(e)}`)) : resolve())));
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    this._state = 'closed';
    this.conn?.destroy();
    this.conn = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    if (this.opts.path) fs.rmSync(this.opts.path, { force: true });
    this.emit('close');
  }
}
