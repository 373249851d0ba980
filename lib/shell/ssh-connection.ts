// One SSH connection to a box: a single attempt to connect, authenticate and check the host key, with every way it
// can fail turned into a LabError that says whether trying again could help (a booting box refuses connections for
// a while; a wrong key or a foreign host key stay wrong).
import { Client } from 'ssh2';
import { describeSystemError, formatMs, LabError } from '../errors.ts';
import { HostKeyCheck, type HostKeyPolicy } from './host-key.ts';

export interface ConnectParams {
  host: string;
  port: number;
  user: string;
  /** The private key itself: read from its file for each attempt, never kept in options or logs. */
  privateKey: Buffer;
  passphrase?: string;
  hostKey: HostKeyPolicy;
  /** Bound on TCP connect + key exchange + authentication. */
  readyTimeout: number;
  keepaliveInterval: number;
  keepaliveCountMax: number;
}

/** A failed connection attempt. `transient`: the same attempt may succeed later (nothing listening yet, reset...). */
export class SshConnectError extends LabError {
  readonly transient: boolean;
  constructor(message: string, transient: boolean, details: { where: string; cause?: unknown }) {
    super(message, details);
    this.transient = transient;
  }
}

export class SshConnection {
  readonly client: Client;
  readonly hostPort: string;
  /** Why the connection went away, once it has (for the errors of whatever was running on it). */
  lostCause?: string;
  closed = false;
  /** Let go of by drop(): its loss was eve-qual's decision, not news about the box. */
  dropped = false;
  private readonly closeListeners = new Set<(cause: string) => void>();
  private readonly closedPromise: Promise<void>;

  private constructor(client: Client, hostPort: string, p: ConnectParams) {
    this.client = client;
    this.hostPort = hostPort;
    this.closedPromise = new Promise((resolve) => {
      client.on('error', (err: Error & { level?: string }) => {
        // After 'ready', errors only describe why the connection is going away; 'close' follows.
        this.lostCause ??=
          err.message === 'Keepalive timeout'
            ? `the box stopped answering (${p.keepaliveCountMax} keepalives ${formatMs(p.keepaliveInterval)} apart unanswered)`
            : describeSshError(err);
      });
      client.on('close', () => {
        this.closed = true;
        const cause = this.lostCause ?? 'connection closed by the box';
        this.lostCause = cause;
        for (const l of this.closeListeners) l(cause);
        this.closeListeners.clear();
        resolve();
      });
    });
  }

  /** Connect once; rejects with an SshConnectError (or the host key check's LabError/ConfigError). */
  static open(p: ConnectParams, onClient?: (c: Client) => void): Promise<SshConnection> {
    const hostPort = `${p.host}:${p.port}`;
    const check = new HostKeyCheck(p.hostKey, hostPort);
    const client = new Client();
    onClient?.(client);
    return new Promise<SshConnection>((resolve, reject) => {
      let settled = false;
      let firstError: (Error & { level?: string }) | undefined;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        client.removeAllListeners();
        // ssh2 may still emit late errors on a dying client: swallow them, there is nobody left to tell.
        client.on('error', () => {});
        client.destroy();
        reject(err);
      };
      // Small writes (one command line) must leave at once: Nagle would hold each behind the previous ACK. Set as
      // soon as the socket exists, so the handshake's own packets are not held either.
      client.once('connect', () => client.setNoDelay(true));
      client.once('ready', () => {
        if (settled) return;
        settled = true;
        client.removeAllListeners();
        resolve(new SshConnection(client, hostPort, p));
      });
      client.on('error', (err: Error & { level?: string }) => {
        firstError ??= err;
        fail(classify(err, check, p, hostPort));
      });
      client.on('close', () => {
        fail(
          firstError
            ? classify(firstError, check, p, hostPort)
            : new SshConnectError(`SSH connection to ${hostPort} closed during the handshake`, true, { where: hostPort }),
        );
      });
      try {
        client.connect({
          host: p.host,
          port: p.port,
          username: p.user,
          privateKey: p.privateKey,
          ...(p.passphrase !== undefined ? { passphrase: p.passphrase } : {}),
          hostVerifier: check.verifier,
          readyTimeout: p.readyTimeout,
          keepaliveInterval: p.keepaliveInterval,
          keepaliveCountMax: p.keepaliveCountMax,
          // Keys only, as on EVE: never fall back to prompting for anything.
          authHandler: ['publickey'],
        });
      } catch (err) {
        // ssh2 parses the key synchronously: a bad key file is a configuration problem, not a lab one.
        fail(new SshConnectError(`cannot use the SSH private key for ${hostPort}: ${(err as Error).message}`, false, { where: hostPort, cause: err }));
      }
    });
  }

  /** Call `fn` once when the connection goes away (at once if it already has). */
  onClose(fn: (cause: string) => void): () => void {
    if (this.closed) {
      fn(this.lostCause ?? 'connection closed');
      return () => {};
    }
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /**
   * Let go of the connection at once, without a word to the box: for a box known to have rebooted, whose connection
   * is dead although nothing said so (behind a NAT port forward no FIN ever comes). Whatever runs on it fails with
   * `cause`.
   */
  drop(cause: string): void {
    if (this.closed) return;
    this.dropped = true;
    this.lostCause = cause;
    this.client.destroy();
  }

  /** Close politely, then forcibly if the box does not answer. */
  async end(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    this.lostCause ??= 'closed by eve-qual';
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closedPromise,
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          this.client.destroy();
          resolve();
        }, graceMs);
      }),
    ]);
    clearTimeout(timer);
    await this.closedPromise;
  }
}

function classify(err: Error & { level?: string; code?: string }, check: HostKeyCheck, p: ConnectParams, hostPort: string): Error {
  // The host key check runs during key exchange; ssh2 then reports a generic handshake failure.
  if (check.refusal) return check.refusal;
  const where = hostPort;
  switch (err.level) {
    case 'client-authentication':
      return new SshConnectError(
        `SSH authentication refused for ${p.user}@${hostPort}: the box did not accept the key (${err.message})`,
        false,
        { where, cause: err },
      );
    case 'client-timeout':
      return new SshConnectError(`SSH to ${hostPort} did not complete its handshake within ${formatMs(p.readyTimeout)}`, true, { where, cause: err });
    case 'client-socket':
      return new SshConnectError(`cannot connect to ${hostPort}: ${describeSystemError(err)}`, true, { where, cause: err });
    default:
      return new SshConnectError(`SSH connection to ${hostPort} failed: ${describeSshError(err)}`, true, { where, cause: err });
  }
}

function describeSshError(err: Error & { level?: string; code?: string }): string {
  return err.level === 'client-socket' ? describeSystemError(err) : err.message;
}
