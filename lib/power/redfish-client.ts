// A small Redfish client for BMCs: JSON over HTTPS with the BMC's certificate pinned by its SHA-256 fingerprint.
// BMCs come with self-signed certificates, so instead of a CA chain the pin is the verification: the TLS connection
// is made first, the peer certificate's fingerprint compared with the profile's, and only a matching connection ever
// carries a request (and so a password or a session token). Hostnames are not checked: the pin names the BMC.
// Authentication: a Redfish session (POST to the SessionService, X-Auth-Token, deleted on close) where the service
// offers one, HTTP basic otherwise. Long operations answer 202 with a task monitor, which is polled to a deadline.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ConfigError, LabError, describeSystemError, formatMs } from '../errors.ts';
import { Deadline, pause } from '../util/deadline.ts';
import { redact } from '../util/redact.ts';

export interface RedfishOptions {
  /** https://HOST[:PORT] of the BMC (a path, if any, is ignored: Redfish lives at /redfish/v1). */
  url: string;
  user: string;
  password: string;
  /** The BMC certificate's SHA-256 fingerprint, AA:BB:... (openssl x509 -noout -fingerprint -sha256). */
  certificateSha256: string;
  /** 'session' (default; falls back to basic when the service has no sessions) or 'basic'. */
  auth?: 'session' | 'basic';
  /** Deadline of one HTTP exchange, ms (default 15 s). */
  requestTimeoutMs?: number;
  /** Deadline of a task (202 + task monitor), ms (default 120 s). */
  taskTimeoutMs?: number;
}

export interface RedfishResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, if any. */
  body: any;
}

/** A Redfish error or task failure, in words: the messages of the extended info, or the HTTP status. */
export function redfishMessage(body: any): string {
  const err = body?.error;
  const info: any[] = err?.['@Message.ExtendedInfo'] ?? body?.Messages ?? body?.['@Message.ExtendedInfo'] ?? [];
  const msgs = info.map((m) => m?.Message ?? m?.MessageId).filter(Boolean);
  if (msgs.length) return msgs.join('; ');
  return err?.message ?? err?.code ?? '';
}

const normPin = (s: string) => s.replace(/:/g, '').toUpperCase();

export class RedfishClient {
  readonly where: string;
  readonly host: string;
  readonly port: number;
  readonly #o: RedfishOptions;
  #token: string | undefined;
  #sessionUri: string | undefined;
  #mode: 'session' | 'basic' | undefined;
  #loggingIn: Promise<void> | undefined;

  constructor(opts: RedfishOptions) {
    let u: URL;
    try {
      u = new URL(opts.url);
    } catch {
      throw new ConfigError(`Redfish url ${JSON.stringify(opts.url)} is not a URL (https://HOST[:PORT])`);
    }
    if (u.protocol !== 'https:') throw new ConfigError(`Redfish url must be https:// (got ${opts.url}): BMC credentials never travel in clear`);
    if (!/^([0-9A-Fa-f]{2}:){31}[0-9A-Fa-f]{2}$/.test(opts.certificateSha256))
      throw new ConfigError('Redfish certificateSha256 must be a SHA-256 fingerprint AA:BB:... (32 bytes)');
    this.#o = opts;
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = u.port ? Number(u.port) : 443;
    this.where = `redfish:${u.host}`;
  }

  get user(): string {
    return this.#o.user;
  }

  /** The error every failure becomes: names the BMC, never shows the password or a token. */
  error(message: string, cause?: unknown): LabError {
    return new LabError(`${this.where}: ${redact(message, [this.#o.password, this.#token])}`, { where: this.where, cause });
  }

  get(path: string): Promise<RedfishResponse> {
    return this.request('GET', path);
  }

  /** GET a resource and fail with a lab error unless it answers 200. */
  async resource(path: string): Promise<any> {
    const r = await this.request('GET', path);
    if (r.status !== 200) throw this.httpError('GET', path, r);
    return r.body ?? {};
  }

  httpError(method: string, path: string, r: RedfishResponse): LabError {
    if (r.status === 401) return this.error(`authentication failed for user ${JSON.stringify(this.#o.user)} (HTTP 401 on ${method} ${path})`);
    if (r.status === 403) return this.error(`user ${JSON.stringify(this.#o.user)} may not ${method} ${path} (HTTP 403): it needs an operator or administrator role`);
    const why = redfishMessage(r.body);
    return this.error(`${method} ${path}: HTTP ${r.status}${why ? `: ${why}` : ''}`);
  }

  /**
   * One authenticated request. A 401 on a session (expired or revoked) logs in again once. Resolves with whatever
   * status came back; rejects with a lab error only when the exchange itself failed.
   */
  async request(method: string, path: string, body?: unknown): Promise<RedfishResponse> {
    await this.#login();
    let r = await this.#exchange(method, path, body, this.#authHeaders());
    if (r.status === 401 && this.#mode === 'session') {
      this.#token = undefined;
      this.#mode = undefined;
      await this.#login();
      r = await this.#exchange(method, path, body, this.#authHeaders());
    }
    return r;
  }

  /**
   * POST an action and wait for it: 200/204 are done; 202 is followed through its task monitor until the task ends
   * or the task deadline passes. Failures are lab errors with the BMC's own messages.
   */
  async action(target: string, body: unknown, what: string): Promise<RedfishResponse> {
    const r = await this.request('POST', target, body);
    if (r.status === 202) return this.waitTask(r, what);
    if (r.status >= 300) throw this.httpErrorFor(what, r);
    return r;
  }

  httpErrorFor(what: string, r: RedfishResponse): LabError {
    if (r.status === 401 || r.status === 403) return this.httpError('POST', what, r);
    const why = redfishMessage(r.body);
    return this.error(`${what} refused: HTTP ${r.status}${why ? `: ${why}` : ''}`);
  }

  /** Follow a 202's task monitor (Location) until the task completes; a lab error if it fails or overruns. */
  async waitTask(first: RedfishResponse, what: string): Promise<RedfishResponse> {
    const monitor = (first.headers.location as string | undefined) ?? first.body?.['@odata.id'];
    if (!monitor) return first; // accepted without a monitor: nothing to follow, the caller confirms the effect.
    const ms = this.#o.taskTimeoutMs ?? 120_000;
    const deadline = new Deadline(ms);
    let r = first;
    let delay = 200;
    for (;;) {
      const state: string | undefined = r.body?.TaskState;
      if (r.status !== 202 && !(state && /^(New|Starting|Running|Pending|Suspended|Stopping|Service|Cancelling)$/.test(state))) {
        if (r.status >= 300) throw this.httpErrorFor(what, r);
        if (state && state !== 'Completed') throw this.error(`${what} failed: task ${state}${redfishMessage(r.body) ? `: ${redfishMessage(r.body)}` : ''}`);
        if (state && r.body?.TaskStatus === 'Critical') throw this.error(`${what} failed: ${redfishMessage(r.body) || 'task status Critical'}`);
        return r;
      }
      if (deadline.expired()) throw this.error(`${what}: task not finished after ${formatMs(ms)} (last state ${state ?? `HTTP ${r.status}`})`);
      const hinted = Number(r.headers['retry-after']);
      await pause(Math.min(Number.isFinite(hinted) && hinted > 0 ? hinted * 1000 : delay, deadline.remaining(), 5000));
      delay = Math.min(delay * 2, 2000);
      r = await this.request('GET', monitor);
    }
  }

  /** Delete the session, if one was made. Never throws. */
  async close(): Promise<void> {
    const uri = this.#sessionUri;
    const token = this.#token;
    this.#sessionUri = undefined;
    this.#token = undefined;
    this.#mode = undefined;
    if (!uri || !token) return;
    await this.#exchange('DELETE', uri, undefined, { 'X-Auth-Token': token }).catch(() => undefined);
  }

  #authHeaders(): Record<string, string> {
    if (this.#mode === 'session' && this.#token) return { 'X-Auth-Token': this.#token };
    return { Authorization: `Basic ${Buffer.from(`${this.#o.user}:${this.#o.password}`).toString('base64')}` };
  }

  #login(): Promise<void> {
    if (this.#mode) return Promise.resolve();
    this.#loggingIn ??= (async () => {
      try {
        if ((this.#o.auth ?? 'session') === 'basic') {
          this.#mode = 'basic';
          return;
        }
        // The service root is readable without credentials and says where sessions are made.
        const root = await this.#exchange('GET', '/redfish/v1/', undefined, {});
        if (root.status !== 200) throw this.error(`GET /redfish/v1/: HTTP ${root.status} (is this a Redfish service?)`);
        const sessions: string | undefined = root.body?.Links?.Sessions?.['@odata.id'] ?? (root.body?.SessionService ? '/redfish/v1/SessionService/Sessions' : undefined);
        if (!sessions) {
          this.#mode = 'basic';
          return;
        }
        const r = await this.#exchange('POST', sessions, { UserName: this.#o.user, Password: this.#o.password }, {});
        if (r.status === 404 || r.status === 405 || r.status === 501) {
          this.#mode = 'basic';
          return;
        }
        if (r.status === 400 || r.status === 401 || r.status === 403)
          throw this.error(`authentication failed for user ${JSON.stringify(this.#o.user)} (HTTP ${r.status} creating a session)`);
        const token = r.headers['x-auth-token'];
        if (r.status >= 300 || typeof token !== 'string') throw this.httpError('POST', sessions, r);
        this.#token = token;
        this.#sessionUri = (r.headers.location as string | undefined) ?? r.body?.['@odata.id'];
        if (this.#sessionUri?.startsWith('http')) this.#sessionUri = new URL(this.#sessionUri).pathname;
        this.#mode = 'session';
      } finally {
        this.#loggingIn = undefined;
      }
    })();
    return this.#loggingIn;
  }

  /** Connect, check the pin, then send one request on that connection. */
  async #exchange(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<RedfishResponse> {
    const timeoutMs = this.#o.requestTimeoutMs ?? 15_000;
    const deadline = new Deadline(timeoutMs);
    const socket = await this.#pinnedSocket(timeoutMs);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const p = path.startsWith('http') ? new URL(path).pathname + new URL(path).search : path;
    return new Promise<RedfishResponse>((resolve, reject) => {
      const req = http.request(
        {
          method,
          path: p,
          host: this.host,
          port: this.port,
          // No agent: with one (even `agent: false`) Node ignores createConnection and opens a connection of its own,
          // which would carry the request unchecked. The 'socket' check below makes sure it is the pinned one.
          createConnection: () => socket,
          headers: {
            Host: this.host.includes(':') ? `[${this.host}]:${this.port}` : `${this.host}:${this.port}`,
            Accept: 'application/json',
            'OData-Version': '4.0',
            Connection: 'close',
            ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': String(payload.length) } : {}),
            ...headers,
          },
          timeout: deadline.remaining(),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(this.error(`${method} ${p}: ${describeSystemError(e)}`, e)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any;
            if (text.trim()) {
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: json });
          });
        },
      );
      req.once('socket', (s) => {
        if (s !== socket) {
          req.destroy();
          s.destroy();
          reject(this.error(`${method} ${p}: refused to send on a connection whose certificate was not checked`));
        }
      });
      req.on('timeout', () => {
        req.destroy();
        reject(this.error(`${method} ${p}: no answer within ${formatMs(timeoutMs)}`));
      });
      req.on('error', (e) => reject(e instanceof LabError ? e : this.error(`${method} ${p}: ${describeSystemError(e)}`, e)));
      req.end(payload);
    });
  }

  #pinnedSocket(timeoutMs: number): Promise<tls.TLSSocket> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: this.host,
        port: this.port,
        ...(net.isIP(this.host) ? {} : { servername: this.host }),
        // The chain of a BMC's self-signed certificate cannot verify; the fingerprint check below is the verification.
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(this.error(`TLS connection to ${this.host}:${this.port}: no answer within ${formatMs(timeoutMs)} (BMC unreachable?)`));
      }, timeoutMs);
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const fp = socket.getPeerCertificate()?.fingerprint256 ?? '';
        if (normPin(fp) !== normPin(this.#o.certificateSha256)) {
          socket.destroy();
          reject(
            this.error(
              `the certificate's SHA-256 fingerprint ${fp || '(none)'} does not match the pinned ${this.#o.certificateSha256.toUpperCase()}: nothing was sent (a different BMC, a renewed certificate, or someone in between)`,
            ),
          );
          return;
        }
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(this.error(`cannot connect to ${this.host}:${this.port}: ${describeSystemError(e)}`, e));
      });
    });
  }
}
