// A local serial device: a USB-serial adapter, an on-board UART, or a pty. The device is locked (flock) so a second
// eve-qual or a picocom left open fails fast instead of silently stealing half the bytes. Unplugging the adapter makes
// the device vanish; the link reconnects when it comes back under the same path (use a /dev/serial/by-id/ path in
// profiles: /dev/ttyUSB0 may come back as /dev/ttyUSB1).
import type { SerialPort } from 'serialport';
import { ConfigError, describeSystemError } from '../errors.ts';
import { createSerialPort } from './serial-binding.ts';
import { ReconnectingLink, type ReconnectOptions, type Transport, type TransportSink } from './reconnecting-link.ts';
import { resolveSerialSettings, type SerialSettings } from './serial-settings.ts';

export interface SerialLinkOptions extends ReconnectOptions, Partial<SerialSettings> {
  path: string;
}

export class SerialLink extends ReconnectingLink {
  readonly path: string;
  readonly settings: SerialSettings;

  constructor(opts: SerialLinkOptions) {
    super(`serial:${opts.path}`, opts);
    this.path = opts.path;
    this.settings = resolveSerialSettings(opts);
    checkLocalSerialSupport(this.settings);
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const port = createSerialPort({ path: this.path, ...this.settings, autoOpen: false, lock: true });
    // The native open cannot be cancelled; it does not block on a tty opened non-blocking, so wait for it and
    // close the port again if we were aborted meanwhile.
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    const transport = serialTransport(port, sink);
    if (signal.aborted) {
      await transport.destroy();
      throw signal.reason;
    }
    return transport;
  }

  protected override describeError(err: unknown): string {
    return describeSerialError(err);
  }
}

/**
 * serialport's unix driver has no mark/space parity and no 1.5 stop bits (it fails at open with "Invalid parity
 * setting"): refuse them as configuration, before anything is opened. A terminal server over RFC 2217 may have them.
 */
export function checkLocalSerialSupport(s: SerialSettings, field = 'link'): void {
  const bad = (name: string, value: unknown) =>
    new ConfigError(`${field}.${name}: ${JSON.stringify(value)} is not supported by a local serial device`, { where: `${field}.${name}` });
  if (s.parity === 'mark' || s.parity === 'space') throw bad('parity', s.parity);
  if (s.stopBits === 1.5) throw bad('stopBits', s.stopBits);
}

function serialTransport(port: SerialPort, sink: TransportSink): Transport {
  port.on('data', (chunk: Buffer) => sink.data(chunk));
  // serialport reports a vanished device (read error EIO/ENXIO/EBADF) as a close with a DisconnectedError.
  port.on('close', (err?: Error | null) => sink.lost(err ? `device disconnected: ${describeSerialError(err)}` : 'port closed'));
  port.on('error', (err: Error) => sink.lost(describeSerialError(err)));
  port.on('end', () => sink.lost('end of stream'));
  let destroyed: Promise<void> | undefined;
  // A write on a closed SerialPort is queued until the port reopens, which this one never will: settle such writes
  // ourselves so a write caught in a disconnect fails (and is retried by the link) instead of hanging.
  const inFlight = new Set<(err: Error) => void>();
  const gone = () => Object.assign(new Error('port is closed'), { code: 'EPIPE' });
  return {
    write: (data) =>
      new Promise((resolve, reject) => {
        if (!port.isOpen || destroyed) return reject(gone());
        inFlight.add(reject);
        port.write(data, (err) => {
          inFlight.delete(reject);
          if (err) reject(err);
          else resolve();
        });
      }),
    destroy: () =>
      (destroyed ??= new Promise<void>((resolve) => {
        for (const reject of inFlight) reject(gone());
        inFlight.clear();
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }).then(() => {
        port.removeAllListeners();
        port.on('error', () => undefined);
        port.destroy();
      })),
  };
}

/**
 * serialport reports open failures as bare strings ("Error: No such file or directory, cannot open /dev/x",
 * "Error Resource temporarily unavailable Cannot lock port"): turn them into the same words as system errors.
 */
export function describeSerialError(err: unknown): string {
  if ((err as NodeJS.ErrnoException | undefined)?.code) return describeSystemError(err);
  const msg = err instanceof Error ? err.message : String(err);
  const known: [RegExp, string][] = [
    [/Cannot lock port|Resource temporarily unavailable/i, 'device busy: locked by another program (EWOULDBLOCK)'],
    [/No such file or directory/i, describeSystemError({ code: 'ENOENT' })],
    [/Permission denied/i, describeSystemError({ code: 'EACCES' })],
    [/Operation not permitted/i, describeSystemError({ code: 'EPERM' })],
    [/Device or resource busy/i, describeSystemError({ code: 'EBUSY' })],
    [/No such device/i, 'device not present (ENODEV/ENXIO)'],
    [/Input\/output error/i, 'input/output error (EIO)'],
    [/Inappropriate ioctl/i, 'not a serial device (ENOTTY)'],
  ];
  for (const [re, words] of known) if (re.test(msg)) return words;
  return msg.replace(/^Error:?\s*/, '');
}
