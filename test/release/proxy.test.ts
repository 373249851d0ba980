// Release downloads through a lab's HTTP proxy: a real tinyproxy (Basic auth on, like most corporate proxies) in front
// of a loopback release server that speaks HTTP and HTTPS (a certificate made for the test, trusted by the CLI through
// NODE_EXTRA_CA_CERTS, as a lab would trust its own CA). The content is the fixture release's real installer.
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { downloadFile } from '../../lib/release/download.ts';
import { proxyFor } from '../../lib/release/http-proxy.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { freePort, waitForListen } from '../helpers/net.ts';
import { startPeer, type Peer } from '../helpers/peer.ts';
import { waitForOutput } from '../helpers/socat.ts';

const RAW = 'amd64.kvm.generic.installer.raw';
const SUMS = 'amd64.kvm.generic.sha256sums';
const VERSION = '0.0.0-fixture';
const USER = 'lab';
const PASSWORD = 'pr0xy-s3cret';

interface Seen {
  scheme: 'http' | 'https';
  path: string;
  via?: string;
  status: number;
}

/** Serves <root>/<path> over HTTP and HTTPS, logging each request and the Via header a proxy adds. */
class StaticServer {
  readonly seen: Seen[] = [];
  readonly servers: Array<http.Server | https.Server> = [];
  httpPort = 0;
  httpsPort = 0;
  constructor(
    readonly root: string,
    readonly tls: { key: Buffer; cert: Buffer },
  ) {}

  async start(): Promise<void> {
    this.httpPort = await freePort();
    this.httpsPort = await freePort();
    const plain = http.createServer((q, r) => this.handle('http', q, r));
    const secure = https.createServer(this.tls, (q, r) => this.handle('https', q, r));
    this.servers.push(plain, secure);
    await Promise.all([
      new Promise<void>((resolve) => plain.listen(this.httpPort, '127.0.0.1', resolve)),
      new Promise<void>((resolve) => secure.listen(this.httpsPort, '127.0.0.1', resolve)),
    ]);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map((s) => {
        s.closeAllConnections();
        return new Promise<void>((resolve) => s.close(() => resolve()));
      }),
    );
  }

  private handle(scheme: 'http' | 'https', req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const seen: Seen = { scheme, path: u.pathname, status: 200, ...(req.headers.via ? { via: String(req.headers.via) } : {}) };
    this.seen.push(seen);
    const file = path.join(this.root, decodeURIComponent(u.pathname));
    if (!file.startsWith(this.root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      seen.status = 404;
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': fs.statSync(file).size });
    fs.createReadStream(file).pipe(res);
  }
}

/** Run `f` with these variables set in this process's environment (downloadFile reads the proxy from it). */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('release downloads through an HTTP proxy (tinyproxy)', function () {
  this.timeout(300_000);
  let tmp: string;
  let fixtureSha: string;
  let server: StaticServer;
  let proxy: Peer;
  let proxyPort: number;
  let caFile: string;

  const proxyUrl = (creds = `${USER}:${PASSWORD}`) => `http://${creds ? `${creds}@` : ''}127.0.0.1:${proxyPort}`;
  const base = (scheme: 'http' | 'https') => `${scheme}://127.0.0.1:${scheme === 'http' ? server.httpPort : server.httpsPort}/${VERSION}/`;

  /** `eve-qual release fetch` with only the given proxy variables (none inherited from this machine). */
  const fetchCli = (url: string, dir: string, env: Record<string, string>) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)));
    return execa(path.join(repoRoot, 'bin', 'eve-qual'), ['release', 'fetch', url, '--arch', 'amd64', '--dir', dir], {
      cwd: repoRoot,
      reject: false,
      all: true,
      timeout: 120_000,
      env: { ...clean, NODE_EXTRA_CA_CERTS: caFile, ...env },
      extendEnv: false,
    });
  };
  const requestsThroughProxy = () => (proxy.output().match(/Request \(file descriptor \d+\): (GET|CONNECT) \S+/g) ?? []).map((l) => l.replace(/^Request \(file descriptor \d+\): /, ''));

  before(async () => {
    const fixture = await fixtureRelease();
    fixtureSha = /^([0-9a-f]{64})\s/.exec(fs.readFileSync(path.join(fixture, SUMS), 'utf8'))![1]!;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-proxy-'));
    const root = path.join(tmp, 'www');
    fs.mkdirSync(path.join(root, VERSION), { recursive: true });
    for (const f of [RAW, SUMS]) fs.symlinkSync(path.join(fixture, f), path.join(root, VERSION, f));

    // A certificate for 127.0.0.1 and localhost, its own CA: what a lab with an internal mirror has.
    const key = path.join(tmp, 'server.key');
    caFile = path.join(tmp, 'server.crt');
    await execa('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', key, '-out', caFile, '-subj', '/CN=eve-qual test mirror', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    ]);
    server = new StaticServer(root, { key: fs.readFileSync(key), cert: fs.readFileSync(caFile) });
    await server.start();

    proxyPort = await freePort();
    const conf = path.join(tmp, 'tinyproxy.conf');
    fs.writeFileSync(
      conf,
      [`Port ${proxyPort}`, 'Listen 127.0.0.1', 'Timeout 60', 'LogLevel Info', 'Allow 127.0.0.1', `BasicAuth ${USER} ${PASSWORD}`, ''].join('\n'),
    );
    // -d: in the foreground, logging to stderr, where the test reads which requests went through it.
    proxy = startPeer('tinyproxy', ['-d', '-c', conf], { name: 'tinyproxy' });
    await waitForOutput(proxy, /Accepting connections/);
    await waitForListen(proxyPort, proxy);
  });

  after(async () => {
    await proxy?.stop();
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(() => {
    server.seen.length = 0;
  });

  it('an http:// release through HTTP_PROXY: the proxy fetches it (Via), verified, and the password is never shown', async () => {
    const dir = path.join(tmp, 'http-fetched');
    const r = await fetchCli(base('http'), dir, { http_proxy: proxyUrl() });
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stdout).to.contain(`matches ${SUMS}`);
    expect(r.stderr).to.contain(`through proxy http://127.0.0.1:${proxyPort} (from http_proxy)`);
    expect(r.all).not.to.contain(PASSWORD);
    expect(createHash('sha256').update(fs.readFileSync(path.join(dir, RAW))).digest('hex')).to.equal(fixtureSha);
    const raw = server.seen.filter((s) => s.path.endsWith(`/${RAW}`));
    expect(raw.map((s) => s.status)).to.deep.equal([200]);
    expect(raw[0]!.via, 'the request reached the server through the proxy').to.match(/tinyproxy/);
    expect(requestsThroughProxy()).to.include(`GET ${base('http')}${RAW}`);
  });

  it('an https:// release through HTTPS_PROXY: a CONNECT tunnel, TLS checked against the server, verified', async () => {
    const dir = path.join(tmp, 'https-fetched');
    const r = await fetchCli(base('https'), dir, { HTTPS_PROXY: proxyUrl() });
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stderr).to.contain(`through proxy http://127.0.0.1:${proxyPort} (from HTTPS_PROXY)`);
    expect(r.all).not.to.contain(PASSWORD);
    expect(createHash('sha256').update(fs.readFileSync(path.join(dir, RAW))).digest('hex')).to.equal(fixtureSha);
    expect(server.seen.filter((s) => s.path.endsWith(`/${RAW}`)).map((s) => [s.scheme, s.status])).to.deep.equal([['https', 200]]);
    expect(requestsThroughProxy()).to.include(`CONNECT 127.0.0.1:${server.httpsPort}`);
  });

  it('without the CA trusted, the tunnelled TLS fails on the certificate (the proxy does not weaken the check)', async () => {
    const dir = path.join(tmp, 'https-untrusted');
    const r = await fetchCli(base('https'), dir, { HTTPS_PROXY: proxyUrl(), NODE_EXTRA_CA_CERTS: '' });
    expect(r.exitCode, r.all).to.equal(2);
    expect(r.stderr).to.match(/self[- ]signed certificate/i).and.contain(`through proxy http://127.0.0.1:${proxyPort}`);
    expect(fs.existsSync(path.join(dir, RAW))).to.equal(false);
  });

  it('NO_PROXY lets the host through directly', async () => {
    const dir = path.join(tmp, 'direct');
    const before = requestsThroughProxy().length;
    const r = await fetchCli(base('http'), dir, { http_proxy: proxyUrl(), NO_PROXY: 'example.com, 127.0.0.1' });
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.stderr).not.to.contain('through proxy');
    expect(server.seen.filter((s) => s.path.endsWith(`/${RAW}`)).map((s) => s.via)).to.deep.equal([undefined]);
    expect(requestsThroughProxy().length).to.equal(before);
  });

  it('missing or wrong proxy credentials: exit 2 naming the proxy and the variable, for http and for a CONNECT', async () => {
    // tinyproxy answers missing credentials with 407 and wrong ones with 401.
    for (const [scheme, variable, creds, status] of [
      ['http', 'http_proxy', `${USER}:not-${PASSWORD}`, 401],
      ['https', 'https_proxy', `${USER}:not-${PASSWORD}`, 401],
      ['http', 'HTTP_PROXY', '', 407],
      ['https', 'HTTPS_PROXY', '', 407],
    ] as const) {
      const r = await fetchCli(base(scheme), path.join(tmp, `denied-${scheme}-${status}`), { [variable]: proxyUrl(creds) });
      expect(r.exitCode, r.all).to.equal(2);
      expect(r.stderr, r.all)
        .to.contain(`proxy http://127.0.0.1:${proxyPort} (from ${variable})`)
        .and.contain(`HTTP ${status}`)
        .and.contain(creds ? `check the credentials in ${variable}` : `give credentials as http://user:password@host:port in ${variable}`);
      expect(r.all).not.to.contain(PASSWORD);
      expect(server.seen.filter((s) => s.path.endsWith(`/${RAW}`))).to.deep.equal([]);
    }
  });

  it('a proxy variable eve-qual cannot use is exit 2 naming it, before any request', async () => {
    const r = await fetchCli(base('https'), path.join(tmp, 'socks'), { HTTPS_PROXY: 'socks5://127.0.0.1:1080' });
    expect(r.exitCode, r.all).to.equal(2);
    expect(r.stderr).to.contain('HTTPS_PROXY: socks5:// proxies are not supported');
    expect(server.seen).to.deep.equal([]);
  });

  it('a proxy that is down: the download gives up naming the URL and the proxy', async () => {
    const dead = await freePort();
    const err = await withEnv({ http_proxy: `http://127.0.0.1:${dead}` }, () =>
      downloadFile(`${base('http')}${RAW}`, path.join(tmp, 'never.raw'), { attempts: 2, backoffMs: 10 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.contain(`${base('http')}${RAW}`).and.contain(`proxy http://127.0.0.1:${dead} (from http_proxy)`).and.contain('gave up after 2 attempts');
    expect(server.seen).to.deep.equal([]);
  });

  it('a server behind the tunnel that never answers TLS: the download gives up after the idle bound, not never', async () => {
    const silent = net.createServer((sock) => sock.resume()); // accepts, reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const url = `https://127.0.0.1:${port}/${VERSION}/${RAW}`;
      const err = await withEnv({ HTTPS_PROXY: proxyUrl() }, () =>
        downloadFile(url, path.join(tmp, 'silent.raw'), { attempts: 1, idleTimeoutMs: 500 }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(url).and.contain(`TLS with 127.0.0.1:${port} through proxy http://127.0.0.1:${proxyPort} (from HTTPS_PROXY): no answer for 500 ms`);
      expect((err as Error).message).not.to.contain(PASSWORD);
    } finally {
      silent.close();
    }
  });

  it("picks the variable and no_proxy entry as curl does", () => {
    const env = { https_proxy: 'lower:3128', HTTPS_PROXY: 'http://upper:3128', http_proxy: 'plain', ALL_PROXY: 'http://all:8080', no_proxy: '.corp.example, 10.1.2.3, [fd00::1]:8443, mirror.lab:8080' };
    const via = (u: string, e: Record<string, string> = env) => {
      const p = proxyFor(new URL(u), e);
      return p ? `${p.url.host} ${p.variable}` : 'direct';
    };
    expect(via('https://github.com/x')).to.equal('lower:3128 https_proxy');
    expect(via('http://github.com/x')).to.equal('plain:1080 http_proxy');
    expect(via('ftp://github.com/x', { ALL_PROXY: 'http://all:8080' })).to.equal('all:8080 ALL_PROXY');
    expect(via('https://corp.example/x')).to.equal('direct');
    expect(via('https://dl.corp.example/x')).to.equal('direct');
    expect(via('https://notcorp.example/x')).to.equal('lower:3128 https_proxy');
    expect(via('http://10.1.2.3/x')).to.equal('direct');
    expect(via('http://10.1.2.30/x')).to.equal('plain:1080 http_proxy');
    expect(via('https://[fd00::1]:8443/x')).to.equal('direct');
    expect(via('https://[fd00::1]/x')).to.equal('lower:3128 https_proxy');
    expect(via('http://mirror.lab:8080/x')).to.equal('direct');
    expect(via('http://mirror.lab/x')).to.equal('plain:1080 http_proxy');
    expect(via('https://anything/x', { ...env, NO_PROXY: '*', no_proxy: '' })).to.equal('direct');
    // Address ranges, as corporate no_proxy lists have them; a host name is never in one.
    const ranges = { https_proxy: 'p:3128', no_proxy: '10.0.0.0/8,192.168.4.0/22, fd00::/8' };
    expect(via('https://10.200.3.4/x', ranges)).to.equal('direct');
    expect(via('https://11.0.0.1/x', ranges)).to.equal('p:3128 https_proxy');
    expect(via('https://192.168.7.255/x', ranges)).to.equal('direct');
    expect(via('https://192.168.8.1/x', ranges)).to.equal('p:3128 https_proxy');
    expect(via('https://[fd12::5]/x', ranges)).to.equal('direct');
    expect(via('https://[fe80::1]/x', ranges)).to.equal('p:3128 https_proxy');
    expect(via('https://ten.example/x', ranges)).to.equal('p:3128 https_proxy');
    expect(() => proxyFor(new URL('https://x/'), { HTTPS_PROXY: 'http://[bad' })).to.throw(ConfigError, 'HTTPS_PROXY: not a proxy URL');
  });
});
