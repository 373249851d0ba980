// A connected net.Socket as a Transport: shared by serial over TCP (terminal servers) and QEMU chardev sockets.
import net from 'node:net';
import { describeSystemError } from '../errors.ts';
import type { Transport, TransportSink } from './reconnecting-link.ts';

/** Connect a TCP or unix socket; rejects with the OS error, or with `signal.reason` when aborted. */
export function connectSocket(opts: net.NetConnectOpts, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = net.connect(opts);
    const done = () => {
      socket.off('connect', onConnect);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      done();
      socket.setNoDelay(true);
      // A terminal server that loses power never sends FIN: keepalive turns that silence into a loss we can see.
      if (!('path' in opts)) socket.setKeepAlive(true, 5000);
      resolve(socket);
    };
    const onError = (err: Error) => {
      done();
      socket.destroy();
      reject(err);
    };
    const onAbort = () => {
      done();
      socket.destroy();
      reject(signal.reason);
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface SocketCodec {
  /** Received bytes → box bytes (e.g. telnet commands stripped). */
  decode(chunk: Buffer): Buffer;
  /** Box bytes → wire bytes. */
  encode(data: Buffer): Buffer;
}

const identity: SocketCodec = { decode: (b) => b, encode: (b) => b };

/** Wire a connected socket to a sink; the returned transport owns the socket. */
export function socketTransport(socket: net.Socket, sink: TransportSink, codec: SocketCodec = identity): Transport {
  socket.on('data', (chunk: Buffer) => sink.data(codec.decode(chunk)));
  socket.on('end', () => sink.lost('connection closed by peer'));
  socket.on('error', (err) => sink.lost(describeSystemError(err)));
  socket.on('close', () => sink.lost('connection closed'));
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        if (socket.destroyed || !socket.writable) return reject(Object.assign(new Error('socket is closed'), { code: 'EPIPE' }));
        socket.write(codec.encode(data), (err) => (err ? reject(err) : resolve()));
      }),
    destroy: async () => {
      if (socket.destroyed) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    },
  };
}
