// A QEMU character device exported as a socket (`-chardev socket,id=c0,path=…|host=…,port=…,server=on,wait=off`):
// the serial console of a virtual box. Raw bytes; QEMU restarting (a power cycle of the virtual box) is a reconnect.
import { ReconnectingLink, type ReconnectOptions, type Transport, type TransportSink } from './reconnecting-link.ts';
import { connectSocket, socketTransport } from './socket-transport.ts';

export type QemuSocketAddress = { path: string } | { host: string; port: number };

export type QemuSocketLinkOptions = ReconnectOptions & QemuSocketAddress;

/** `qemu:unix:/run/box.sock` or `qemu:tcp:127.0.0.1:4555`. */
export function qemuLinkName(addr: QemuSocketAddress): string {
  return 'path' in addr ? `qemu:unix:${addr.path}` : `qemu:tcp:${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
}

export class QemuSocketLink extends ReconnectingLink {
  readonly address: QemuSocketAddress;

  constructor(opts: QemuSocketLinkOptions) {
    super(qemuLinkName(opts), opts);
    this.address = 'path' in opts ? { path: opts.path } : { host: opts.host, port: opts.port };
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const socket = await connectSocket(this.address, signal);
    return socketTransport(socket, sink);
  }
}
