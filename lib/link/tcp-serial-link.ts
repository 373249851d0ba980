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
  /**
   * Telnet only, default true: the link counts as open once the server has answered DO TIMING-MARK, which proves it
   * reads from this connection (ser2net does only after it has opened the device). False for servers that never
   * answer a telnet request, such as QEMU's telnet chardev: there BINARY settles on the server's own offers alone.
   */
  confirmOpen?: boolean;
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
  readonly #confirmOpen: boolean;
  #report: ComPortReport | undefined;

  constructor(opts: TcpSerialLinkOptions) {
    const protocol = opts.protocol ?? 'raw';
    super(tcpLinkName(opts.host, opts.port, protocol), opts);
    this.host = opts.host;
    this.port = opts.port;
    this.protocol = protocol;
    this.settings = resolveSerialSettings(opts);
    this.#confirmOpen = opts.confirmOpen ?? true;
  }

  /** With 'rfc2217': the line settings the terminal server confirmed on the last (re)connect. */
  get comPortReport(): ComPortReport | undefined {
    return this.#report;
  }

  protected override async connect(sink: TransportSink, signal: AbortSignal): Promise<Transport> {
    const socket = await connectSocket({ host: this.host, port: this.port }, signal);
    if (this.protocol === 'raw') return socketTransport(socket, withFirstWords(sink));

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
    // What the server says before it hangs up ("Device open failure: …" from ser2net) is the reason: keep the start.
    let said = '';
    const transport = socketTransport(
      socket,
      {
        ...sink,
        data: (chunk) => {
          if (said.length < 200) said += chunk.toString('latin1');
          sink.data(chunk);
        },
      },
      codec,
    );

    // Until BINARY is settled both ways a CR or NUL would be encoded one way and decoded another, and until the
    // server confirms the line settings the box may be talking at another speed: the link is not open before that.
    // ser2net sends its own offers (BINARY both ways among them) as it accepts, before it opens the device, so BINARY
    // can settle on a connection that is about to be hung up on. It reads from the client only once the device is
    // open, so the answer to DO TIMING-MARK (WILL or WONT, RFC 860) proves the server got past that.
    const confirmOpen = this.#confirmOpen;
    const negotiated = new Promise<void>((resolve) => {
      onNegotiation = () => {
        if (
          codec.isSettled('local', TelnetOption.BINARY) &&
          codec.isSettled('remote', TelnetOption.BINARY) &&
          (!confirmOpen || codec.isSettled('remote', TelnetOption.TIMING_MARK))
        )
          resolve();
      };
    });
    // ser2net accepts the TCP connection and then hangs up when it cannot open its device, or while it shuts down:
    // fail the attempt at once rather than wait out the connect timeout.
    const hangup = new Promise<never>((_, reject) =>
      socket.once('close', () => {
        const words = said.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 160);
        // Often the words are lost: our first requests hit the closed socket, and Node drops unread data on EPIPE.
        const why = words ? `, saying "${words}"` : ' (ser2net does that when it cannot open its serial device)';
        reject(new Error(`the terminal server closed the connection during telnet negotiation${why}`));
      }),
    );
    hangup.catch(() => undefined);
    codec.requestLocal(TelnetOption.BINARY);
    codec.requestRemote(TelnetOption.BINARY);
    codec.requestRemote(TelnetOption.SGA);
    if (confirmOpen) codec.requestRemote(TelnetOption.TIMING_MARK);
    sink.awaiting?.(() => {
      const missing: string[] = [];
      const binary = codec.isSettled('local', TelnetOption.BINARY) && codec.isSettled('remote', TelnetOption.BINARY);
      if (!binary) missing.push('telnet BINARY');
      // With BINARY settled on the server's own offers, a missing TIMING-MARK answer means it is not reading.
      if (confirmOpen && !codec.isSettled('remote', TelnetOption.TIMING_MARK))
        missing.push(binary ? 'telnet TIMING-MARK (the server offered its options but does not read: ser2net does that until its device opens)' : 'telnet TIMING-MARK');
      missing.push(...(comPort?.unconfirmed ?? []));
      return `answer to ${missing.join(', ')}`;
    });
    comPort?.start();
    try {
      await abortable(Promise.race([Promise.all([negotiated, comPort?.settled]), hangup]), signal);
      if (comPort) this.#report = { ...comPort.report };
      return transport;
    } catch (err) {
      await transport.destroy();
      throw err;
    }
  }
}

/** How soon after connecting a hang-up is the server's answer to the connection, not the loss of a working console. */
const ANSWER_MS = 1000;

/**
 * A raw terminal server that hangs up at once says why first (ser2net: "Device open failure: …" when its serial
 * adapter is gone): a loss that soon carries those words. Later, what came before is the box talking, not the cause.
 */
function withFirstWords(sink: TransportSink): TransportSink {
  const since = Date.now();
  let said = '';
  return {
    ...sink,
    data: (chunk) => {
      if (said.length < 200 && Date.now() - since < ANSWER_MS) said += chunk.toString('latin1');
      sink.data(chunk);
    },
    lost: (cause) => {
      const words = said.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, 160);
      sink.lost(words && Date.now() - since < ANSWER_MS ? `${cause} right after connecting, having sent "${words}"` : cause);
    },
  };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
