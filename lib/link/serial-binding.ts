// serialport's native binding (bindings-cpp 13) with two fixes, both found by the pty tests:
// - a read of 0 bytes means the tty hung up (USB adapter unplugged, pty master gone) and is reported as a disconnect;
//   bindings-cpp retries such reads in a tight loop instead (serialport/bindings-cpp issue #162), so an unplugged
//   adapter would burn a CPU and never be noticed;
// - its Poller re-arms the fd's single uv_poll handle with only the event just asked for, so a read waiting for
//   "readable" cancels a write waiting for "writable": a long write (a file pushed over the console) then stalls
//   until the box happens to send a byte, forever if it is silent. Each poll here re-arms every awaited event.
import { read } from 'node:fs';
import { promisify } from 'node:util';
import { SerialPort } from 'serialport';

const readAsync = promisify(read);

/** The parts of bindings-cpp's unix port (LinuxPortBinding/DarwinPortBinding) the read loop needs. */
interface UnixPoller {
  once(event: 'readable', cb: (err: Error | null) => void): unknown;
  poll(flags: number): void;
  listenerCount(event: string): number;
}

interface UnixPort {
  fd: number | null;
  readonly isOpen: boolean;
  readonly poller: UnixPoller;
  read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }>;
}

const base = SerialPort.binding;

export const hangupAwareBinding: typeof base = {
  list: () => base.list(),
  async open(options: Parameters<typeof base.open>[0]) {
    const port = await base.open(options as never);
    const unix = port as unknown as UnixPort;
    if (typeof unix.fd === 'number' && unix.poller) {
      unix.read = (buffer, offset, length) => readUntilData(unix, buffer, offset, length);
      pollEverythingAwaited(unix.poller);
    }
    return port;
  },
} as typeof base;

/** bindings-cpp's Poller event flags (UV_READABLE, UV_WRITABLE, UV_DISCONNECT). */
const pollFlags = { readable: 1, writable: 2, disconnect: 4 } as const;

function pollEverythingAwaited(poller: UnixPoller): void {
  const poll = poller.poll.bind(poller);
  poller.poll = (flags: number) => {
    // Poller.once() polls before it adds its listener, so `flags` covers the new waiter and listeners the others.
    for (const [event, flag] of Object.entries(pollFlags)) if (poller.listenerCount(event) > 0) flags |= flag;
    poll(flags);
  };
}

const canceled = () => Object.assign(new Error('Port is not open'), { canceled: true });

// Same contract as bindings-cpp's unixRead: resolve with at least one byte; reject `canceled` once closed; any other
// rejection makes the stream close with a disconnect.
async function readUntilData(port: UnixPort, buffer: Buffer, offset: number, length: number) {
  for (;;) {
    if (!port.isOpen || port.fd === null) throw canceled();
    try {
      const { bytesRead } = await readAsync(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) throw Object.assign(new Error('hung up (read returned end of file)'), { code: 'EOF', disconnect: true });
      return { bytesRead, buffer };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      if (!port.isOpen) throw canceled();
      await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
    }
  }
}

export type SerialPortOptions = ConstructorParameters<typeof SerialPort>[0];

/** A SerialPort on the hang-up-aware binding (SerialPort's type leaves `binding` out; its constructor honours it). */
export function createSerialPort(options: SerialPortOptions): SerialPort {
  const withBinding = { ...options, binding: hangupAwareBinding };
  return new SerialPort(withBinding);
}
