// A stand-in Redfish BMC for tests: no Redfish BMC emulator exists here, so this HTTPS service implements the few
// DMTF resources eve-qual uses, shaped as the schema says (ServiceRoot, SessionService/Sessions, the Systems
// collection, ComputerSystem with PowerState, Boot override and #ComputerSystem.Reset answering 202 + a task monitor,
// TaskService tasks, a Manager with VirtualMedia CD and USB stick slots and their InsertMedia / EjectMedia actions).
// Its certificate is self-signed (made with openssl per instance), like a BMC's. InsertMedia really fetches the
// image over HTTP with Range requests, as BMCs stream virtual media, and records what it read.
// Test switches: power transitions that take a few task polls, a stuck power state, a failing task, basic auth only.
import { execa } from 'execa';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';

export interface RedfishStandinOptions {
  dir: string;
  user?: string;
  password: string;
  /** Offer sessions (default true); false = basic auth only, no SessionService. */
  sessions?: boolean;
  /** Task monitor polls before a reset completes (default 2). */
  taskPolls?: number;
  /** Reset tasks end in TaskState Exception with this message. */
  failTasks?: string;
  /** PowerState never changes whatever Reset is asked. */
  stuck?: boolean;
  /** Hosts the BMC's network cannot reach: fetching an image from them fails as a real BMC's would (timeout). */
  unreachableImageHosts?: string[];
  /** Called when the system's power changes (e.g. to drive a fixture box). */
  onPower?: (state: 'On' | 'Off') => Promise<void> | void;
}

export interface FetchedImage {
  url: string;
  bytes: number;
  sha256: string;
  rangeRequests: number;
}

export interface RedfishStandin {
  readonly url: string;
  readonly port: number;
  /** SHA-256 fingerprint of its certificate, AA:BB:... */
  readonly fingerprint: string;
  readonly requests: Array<{ method: string; path: string; auth: 'session' | 'basic' | 'none'; body?: any }>;
  readonly system: {
    PowerState: string;
    Boot: { BootSourceOverrideEnabled: string; BootSourceOverrideTarget: string };
  };
  readonly media: Record<string, { Image: string | null; Inserted: boolean; fetched?: FetchedImage; error?: string }>;
  /** Sessions currently open. */
  sessions(): number;
  stop(): Promise<void>;
}

const SYS = '/redfish/v1/Systems/1';
const MGR = '/redfish/v1/Managers/1';

function rfError(status: number, messageId: string, message: string) {
  return {
    status,
    body: { error: { code: messageId, message, '@Message.ExtendedInfo': [{ '@odata.type': '#Message.v1_1_1.Message', MessageId: messageId, Message: message, Severity: 'Warning' }] } },
  };
}

/** Fetch an image like a BMC: HEAD-less, 1 MiB Range requests until the end. */
async function fetchImage(url: string): Promise<FetchedImage> {
  const hash = createHash('sha256');
  let offset = 0;
  let total = Infinity;
  let ranges = 0;
  while (offset < total) {
    const r = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; data: Buffer }>((resolve, reject) => {
      const req = http.get(url, { headers: { Range: `bytes=${offset}-${offset + (1 << 20) - 1}` }, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, data: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
    });
    if (r.status !== 206) throw new Error(`GET ${url} with Range: HTTP ${r.status}`);
    ranges++;
    const m = /bytes (\d+)-(\d+)\/(\d+)/.exec(String(r.headers['content-range']));
    if (!m) throw new Error('no Content-Range');
    total = Number(m[3]);
    hash.update(r.data);
    offset += r.data.length;
    if (r.data.length === 0) break;
  }
  return { url, bytes: offset, sha256: hash.digest('hex'), rangeRequests: ranges };
}

export async function startRedfishStandin(opts: RedfishStandinOptions): Promise<RedfishStandin> {
  const user = opts.user ?? 'root';
  const key = path.join(opts.dir, 'bmc-key.pem');
  const cert = path.join(opts.dir, 'bmc-cert.pem');
  await execa('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=bmc.standin', '-keyout', key, '-out', cert]);
  const certPem = fs.readFileSync(cert);
  const fingerprint = new X509Certificate(certPem).fingerprint256;

  const system = { PowerState: 'Off', Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideTarget: 'None' } };
  const media: RedfishStandin['media'] = { CD1: { Image: null, Inserted: false }, USB1: { Image: null, Inserted: false } };
  const tokens = new Map<string, string>(); // token → session id
  const tasks = new Map<string, { polls: number; state: string; messages: string[]; finish: () => Promise<void> }>();
  const requests: RedfishStandin['requests'] = [];
  let nextId = 1;

  const sessionsOn = opts.sessions ?? true;

  async function route(method: string, url: string, body: any, auth: 'session' | 'basic' | 'none'): Promise<{ status: number; body?: any; headers?: Record<string, string> }> {
    const p = url.replace(/\/$/, '') || '/';
    if (method === 'GET' && (p === '/redfish/v1' || p === '/redfish')) {
      return {
        status: 200,
        body: {
          '@odata.id': '/redfish/v1/',
          '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot',
          Id: 'RootService',
          Name: 'Stand-in Redfish service',
          RedfishVersion: '1.15.0',
          Systems: { '@odata.id': '/redfish/v1/Systems' },
          Managers: { '@odata.id': '/redfish/v1/Managers' },
          TaskService: { '@odata.id': '/redfish/v1/TaskService' },
          ...(sessionsOn ? { SessionService: { '@odata.id': '/redfish/v1/SessionService' }, Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } } } : { Links: {} }),
        },
      };
    }
    if (sessionsOn && method === 'POST' && p === '/redfish/v1/SessionService/Sessions') {
      if (body?.UserName !== user || body?.Password !== opts.password) return rfError(401, 'Base.1.8.NoValidSession', 'Invalid user name or password');
      const id = String(nextId++);
      const token = randomBytes(16).toString('hex');
      tokens.set(token, id);
      return {
        status: 201,
        headers: { 'X-Auth-Token': token, Location: `/redfish/v1/SessionService/Sessions/${id}` },
        body: { '@odata.id': `/redfish/v1/SessionService/Sessions/${id}`, '@odata.type': '#Session.v1_5_0.Session', Id: id, Name: 'User Session', UserName: user },
      };
    }
    if (auth === 'none') return rfError(401, 'Base.1.8.NoValidSession', 'Authentication required');
    if (method === 'DELETE' && p.startsWith('/redfish/v1/SessionService/Sessions/')) {
      const id = p.split('/').pop();
      for (const [t, s] of tokens) if (s === id) tokens.delete(t);
      return { status: 204 };
    }
    if (method === 'GET' && p === '/redfish/v1/Systems')
      return { status: 200, body: { '@odata.id': '/redfish/v1/Systems', '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection', Name: 'Systems', Members: [{ '@odata.id': SYS }], 'Members@odata.count': 1 } };
    if (method === 'GET' && p === SYS)
      return {
        status: 200,
        body: {
          '@odata.id': SYS,
          '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
          Id: '1',
          Name: 'Stand-in system',
          PowerState: system.PowerState,
          Boot: { ...system.Boot, 'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Cd', 'Usb', 'Hdd', 'BiosSetup'] },
          Links: { ManagedBy: [{ '@odata.id': MGR }] },
          Actions: {
            '#ComputerSystem.Reset': { target: `${SYS}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'] },
          },
        },
      };
    if (method === 'PATCH' && p === SYS) {
      const b = body?.Boot ?? {};
      if (b.BootSourceOverrideTarget && !['None', 'Pxe', 'Cd', 'Usb', 'Hdd', 'BiosSetup'].includes(b.BootSourceOverrideTarget))
        return rfError(400, 'Base.1.8.PropertyValueNotInList', `The value ${b.BootSourceOverrideTarget} for BootSourceOverrideTarget is not in the list of acceptable values`);
      Object.assign(system.Boot, b);
      return { status: 204 };
    }
    if (method === 'POST' && p === `${SYS}/Actions/ComputerSystem.Reset`) {
      const type = body?.ResetType;
      if (!['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart', 'PowerCycle'].includes(type))
        return rfError(400, 'Base.1.8.ActionParameterValueNotInList', `The value ${type} for the parameter ResetType is not in the list of acceptable values`);
      const target: 'On' | 'Off' = type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : 'On';
      const id = String(nextId++);
      if (!opts.stuck && !opts.failTasks) system.PowerState = target === 'On' ? 'PoweringOn' : 'PoweringOff';
      tasks.set(id, {
        polls: opts.taskPolls ?? 2,
        state: 'Running',
        messages: [],
        finish: async () => {
          if (opts.failTasks) throw new Error(opts.failTasks);
          if (!opts.stuck) {
            system.PowerState = target;
            await opts.onPower?.(target);
          }
        },
      });
      return { status: 202, headers: { Location: `/redfish/v1/TaskService/TaskMonitors/${id}`, 'Retry-After': '0' }, body: task(id) };
    }
    const mon = /^\/redfish\/v1\/TaskService\/(?:TaskMonitors|Tasks)\/(\d+)$/.exec(p);
    if (method === 'GET' && mon) {
      const t = tasks.get(mon[1]!);
      if (!t) return rfError(404, 'Base.1.8.ResourceNotFound', 'No such task');
      if (t.state === 'Running') {
        if (t.polls-- > 0) return { status: 202, headers: { Location: `/redfish/v1/TaskService/TaskMonitors/${mon[1]}` }, body: task(mon[1]!) };
        try {
          await t.finish();
          t.state = 'Completed';
        } catch (e) {
          t.state = 'Exception';
          t.messages.push((e as Error).message);
        }
      }
      return { status: 200, body: task(mon[1]!) };
    }
    if (method === 'GET' && p === MGR)
      return { status: 200, body: { '@odata.id': MGR, '@odata.type': '#Manager.v1_17_0.Manager', Id: '1', ManagerType: 'BMC', VirtualMedia: { '@odata.id': `${MGR}/VirtualMedia` } } };
    if (method === 'GET' && p === `${MGR}/VirtualMedia`)
      return {
        status: 200,
        body: { '@odata.id': `${MGR}/VirtualMedia`, '@odata.type': '#VirtualMediaCollection.VirtualMediaCollection', Members: Object.keys(media).map((id) => ({ '@odata.id': `${MGR}/VirtualMedia/${id}` })), 'Members@odata.count': 2 },
      };
    const vm = /^\/redfish\/v1\/Managers\/1\/VirtualMedia\/(CD1|USB1)(\/Actions\/VirtualMedia\.(InsertMedia|EjectMedia))?$/.exec(p);
    if (vm) {
      const id = vm[1]!;
      const slot = media[id]!;
      if (method === 'GET' && !vm[2])
        return {
          status: 200,
          body: {
            '@odata.id': `${MGR}/VirtualMedia/${id}`,
            '@odata.type': '#VirtualMedia.v1_6_0.VirtualMedia',
            Id: id,
            Name: id === 'CD1' ? 'Virtual CD' : 'Virtual USB stick',
            MediaTypes: id === 'CD1' ? ['CD', 'DVD'] : ['USBStick'],
            Image: slot.Image,
            Inserted: slot.Inserted,
            WriteProtected: true,
            ConnectedVia: slot.Inserted ? 'URI' : 'NotConnected',
            TransferProtocolType: 'HTTP',
            Actions: {
              '#VirtualMedia.InsertMedia': { target: `${MGR}/VirtualMedia/${id}/Actions/VirtualMedia.InsertMedia` },
              '#VirtualMedia.EjectMedia': { target: `${MGR}/VirtualMedia/${id}/Actions/VirtualMedia.EjectMedia` },
            },
          },
        };
      if (method === 'POST' && vm[3] === 'InsertMedia') {
        if (slot.Inserted) return rfError(400, 'Base.1.8.ResourceInUse', `${id} already holds ${slot.Image}: eject it first`);
        if (typeof body?.Image !== 'string') return rfError(400, 'Base.1.8.PropertyMissing', 'The property Image is a required property');
        try {
          if (opts.unreachableImageHosts?.includes(new URL(body.Image).hostname)) throw new Error('connect ETIMEDOUT');
          slot.fetched = await fetchImage(body.Image);
          slot.error = undefined;
        } catch (e) {
          slot.error = (e as Error).message;
          return rfError(400, 'Base.1.8.ResourceAtUriUnauthorized', `Cannot read the image at ${body.Image}: ${(e as Error).message}`);
        }
        slot.Image = body.Image;
        slot.Inserted = true;
        return { status: 204 };
      }
      if (method === 'POST' && vm[3] === 'EjectMedia') {
        slot.Image = null;
        slot.Inserted = false;
        return { status: 204 };
      }
    }
    return rfError(404, 'Base.1.8.ResourceNotFound', `${p} does not exist`);
  }

  function task(id: string) {
    const t = tasks.get(id);
    return {
      '@odata.id': `/redfish/v1/TaskService/Tasks/${id}`,
      '@odata.type': '#Task.v1_7_0.Task',
      Id: id,
      Name: 'Reset task',
      TaskState: t?.state ?? 'Running',
      TaskStatus: t?.state === 'Exception' ? 'Critical' : 'OK',
      TaskMonitor: `/redfish/v1/TaskService/TaskMonitors/${id}`,
      Messages: (t?.messages ?? []).map((m) => ({ MessageId: 'Base.1.8.InternalError', Message: m, Severity: 'Critical' })),
    };
  }

  const server = https.createServer({ key: fs.readFileSync(key), cert: certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        let body: any;
        try {
          body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
        } catch {
          body = undefined;
        }
        let auth: 'session' | 'basic' | 'none' = 'none';
        const token = req.headers['x-auth-token'];
        if (typeof token === 'string' && tokens.has(token)) auth = 'session';
        const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
        if (basic && Buffer.from(basic[1]!, 'base64').toString('utf8') === `${user}:${opts.password}`) auth = 'basic';
        requests.push({ method: req.method ?? '', path: req.url ?? '', auth, ...(body === undefined ? {} : { body }) });
        const r = await route(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, body, auth);
        const text = r.body === undefined ? '' : JSON.stringify(r.body);
        res.writeHead(r.status, { ...(text ? { 'Content-Type': 'application/json' } : {}), 'OData-Version': '4.0', ...(r.headers ?? {}) });
        res.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    fingerprint,
    requests,
    system,
    media,
    sessions: () => tokens.size,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
