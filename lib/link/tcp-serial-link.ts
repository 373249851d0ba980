// Serial over TCP, as lab terminal servers (ser2net, Moxa, Digi, Opengear…) export a box's console: a raw byte
// stream, telnet, or telnet with RFC 2217 so the link itself sets the line (baud rate, 8N1…) on the server.
import { ReconnectingLink, type ReconnectOptions, type Transport, type TransportSink } from './reconnecting-link.ts';
import { connectSocket, socketTransport } from './socket-transport.ts';
import { TelnetCodec, TelnetOption } from './telnet.ts';
import { ComPortControl, type ComPortReport } from './rfc2217.ts';
import { resolveSerialSettings, type SerialSettings } from './serial-settings.ts';

export type TcpSerialProtocol = 'raw' | 'telnet' | 'rfc2217';

export interface TcpSerialLinkOptions extends ReconnectOptions, Partial<SerialSettings> {
  host: string;
  port: number;
  /** Default 'raw'. The serial settings are only sent with 'rfc2217'; otherwise the server's own setup applies. */
  protocol?: TcpSerialProtocol;
}

/** `tcp:lab-ts1:4001 (telnet)`; IPv6 literals get brackets so the port stays readable. */
export function tcpLinkName(host: string, port: number, protocol: TcpSerialProtocol): string {
  return `tcp:${host.includes(':') ? `[${host}]` : host}:${port} (${protocol})`;
}

export class TcpSerialLink extends ReconnectingLink {
  readonly host: string;
  readonly port: number;
  readonly protocol: TcpSerialProtocol;
  readonly settings: SerialSettings;
  #report: ComPortReport | undefined;

  constructor(opts: TcpSerialLinkOptions) {
    const protocol = opts.protocol ?? 'raw';
    super(tcpLinkName(opts.host, opts.port, protocol), opts);
    this.host = opts.host;
    this.port = opts.port;
    this.protocol = protocol;
    this.settings = resolveSerialSettings(opts);
  }

  /** With 'rfc2217': the line settings the terminal server confirmed on the last (re)connect. */
  get comPortReport(): ComPortReport | undefined {
    return this.#report;
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const socket = await connectSocket({ host: this.host, port: this.port }, signal);
    if (this.protocol === 'raw') return socketTransport(socket, sink);

    const comPort = this.protocol === 'rfc2217' ? new ComPortControl(() => codec, this.settings) : undefined;
    let onNegotiation: () => void = () => {};
    const codec: TelnetCodec = new TelnetCodec({
      send: (bytes) => {
        if (!socket.destroyed) socket.write(bytes);
      },
      // BINARY both ways so 0xFF and CR reach the box untouched; SGA because a console is not line-at-a-time; the
      // server's ECHO is accepted because a terminal server echoes nothing itself, the box does.
      acceptLocal: [TelnetOption.BINARY, TelnetOption.SGA],
      acceptRemote: [TelnetOption.BINARY, TelnetOption.SGA, TelnetOption.ECHO],
      onOption: (side, option, enabled) => {
        comPort?.onOption(side, option, enabled);
        onNegotiation();
      },
      onSubnegotiation: (option, data) => comPort?.onSubnegotiation(option, data),
    });
    const transport = socketTransport(socket, sink, codec);

    // Until BINARY is settled both ways a CR or NUL would be encoded one way and decoded another, and until the
    // server confirms the line settings the box may be talking at another speed: the link is not open before that.
    const binarySettled = new Promise<void>((resolve) => {
      onNegotiation = () => {
        if (codec.isSettled('local', TelnetOption.BINARY) && codec.isSettled('remote', TelnetOption.BINARY)) resolve();
      };
    });
    // ser2net accepts the TCP connection and then hangs up when it cannot open its device, or while it shuts down:
    // fail the attempt at once rather than wait out the connect timeout.
    const hangup = new Promise<never>((_, reject) =>
      socket.once('close', () => reject(new Error('the terminal server closed the connection during telnet negotiation'))),
    );
    hangup.catch(() => undefined);
    codec.requestLocal(TelnetOption.BINARY);
    codec.requestRemote(TelnetOption.BINARY);
    codec.requestRemote(TelnetOption.SGA);
    comPort?.start();
    try {
      await abortable(Promise.race([Promise.all([binarySettled, comPort?.settled]), hangup]), signal);
      if (comPort) this.#report = { ...comPort.report };
      return transport;
    } catch (err) {
      await transport.destroy();
      throw err;
    }
  }
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
