// A QEMU Machine Protocol client over QEMU's unix socket: power and state of a virtual box (system_reset,
// system_powerdown, quit, stop/cont, query-status) and its events (SHUTDOWN, RESET, STOP, WATCHDOG).
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { DeadlineError, LabError } from '../errors.ts';
import { Deadline, pause } from '../util/deadline.ts';

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  command: string;
}

export class QmpClient extends EventEmitter<{ event: [QmpEvent]; close: [] }> {
  private sock: net.Socket | null = null;
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();

  constructor(readonly socketPath: string) {
    super();
  }

  /** Connect (QEMU creates the socket as it starts: retry until `timeout`), then leave capabilities mode. */
  async connect(timeout = 10_000): Promise<void> {
    const deadline = new Deadline(timeout);
    let delay = 10;
    let lastErr: unknown;
    while (!deadline.expired()) {
      try {
        const sock = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(this.socketPath);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        await this.attach(sock, deadline.remaining());
        return;
      } catch (e) {
        lastErr = e;
        await pause(delay);
        delay = Math.min(delay * 2, 200);
      }
    }
    throw new DeadlineError(`QEMU's QMP socket ${this.socketPath}`, timeout, { cause: lastErr });
  }

  private attach(sock: net.Socket, timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new LabError(`no QMP greeting on ${this.socketPath}`));
      }, timeout);
      let greeted = false;
      this.sock = sock;
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        this.buf += d;
        let nl: number;
        while ((nl = this.buf.indexOf('\n')) >= 0) {
          const line = this.buf.slice(0, nl).trim();
          this.buf = this.buf.slice(nl + 1);
          if (!line) continue;
          let msg: Record<string, unknown>;
          try {
            msg = JSON.parse(line) as Record<string, unknown>;
          } catch {
            continue;
          }
          if (!greeted && 'QMP' in msg) {
            greeted = true;
            this.execute('qmp_capabilities').then(() => {
              clearTimeout(timer);
              resolve();
            }, reject);
            continue;
          }
          this.onMessage(msg);
        }
      });
      sock.on('error', () => undefined);
      sock.on('close', () => {
        clearTimeout(timer);
        this.sock = null;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new LabError(`QMP connection ${this.socketPath} closed during ${p.command} (QEMU exited?)`));
          this.pending.delete(id);
        }
        if (!greeted) reject(new LabError(`QMP socket ${this.socketPath} closed before its greeting`));
        this.emit('close');
      });
    });
  }

  private onMessage(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      this.emit('event', msg as unknown as QmpEvent);
      return;
    }
    const id = String(msg.id ?? '');
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = msg.error as { class?: string; desc?: string };
      p.reject(new LabError(`QMP ${p.command} failed: ${e.desc ?? e.class ?? 'unknown error'}`));
    } else p.resolve(msg.return);
  }

  get connected(): boolean {
    return this.sock !== null;
  }

  execute<T = unknown>(command: string, args?: Record<string, unknown>, timeout = 10_000): Promise<T> {
    const sock = this.sock;
    if (!sock) return Promise.reject(new LabError(`QMP ${command}: not connected to ${this.socketPath}`));
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DeadlineError(`QMP reply to ${command}`, timeout, { where: this.socketPath }));
      }, timeout);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, command });
      sock.write(JSON.stringify({ execute: command, ...(args ? { arguments: args } : {}), id }) + '\n');
    });
  }

  close(): void {
    this.sock?.destroy();
    this.sock = null;
  }
}
