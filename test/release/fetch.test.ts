// Release sources beyond local folders: a URL base downloaded from a real HTTP server on loopback (Range, ETag and
// If-Range like GitHub's CDN, a redirect like github.com's to objects.githubusercontent.com, and faults switched on
// per test: a connection dropped mid-body, a stalled body, a 503, a server that ignores Range, a corrupted body), and
// docker:<tag> through stand-in `docker` scripts put first on PATH (docker is not installed here and images cannot
// be pulled). The content is the fixture release's real installer.
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { withTimeout } from '../../lib/util/deadline.ts';
import { fetchDockerRelease } from '../../lib/release/docker-release.ts';
import { progressSteps } from '../../lib/release/download.ts';
import { resolveRelease, type FetchOptions } from '../../lib/release/resolve-release.ts';
import { eveQual, fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { freePort } from '../helpers/net.ts';

const RAW = 'amd64.kvm.generic.installer.raw';
const SUMS = 'amd64.kvm.generic.sha256sums';
const NET = 'amd64.kvm.generic.installer-net.tar';

interface Faults {
  /** The first response for this file sends `bytes` bytes of the body, then the connection is cut. */
  dropAfter?: { file: string; bytes: number };
  /** Like dropAfter, but the connection stays open and silent. */
  stallAfter?: { file: string; bytes: number };
  /** Answer 503 to this many requests for the file. */
  fail503?: { file: string; times: number };
  /** Always send the whole file with 200, whatever Range says (some proxies and static servers do). */
  ignoreRange?: boolean;
  /** Flip one byte of this file in every response. */
  corrupt?: { file: string; at: number };
  /** The first response for this file sends `bytes` bytes, calls `held`, and sends the rest once `until` settles. */
  hold?: { file: string; bytes: number; held: () => void; until: Promise<void> };
}

interface Logged {
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
}

/**
 * A static file server: /files/<rel> serves <root>/<rel> (Range, ETag, If-Range), /gh/<rel> redirects there with
 * a signed-looking query as github.com does. Every request is logged with its status.
 */
class ReleaseServer {
  readonly requests: Logged[] = [];
  faults: Faults = {};
  private server?: http.Server;
  private stalled = new Set<http.ServerResponse>();
  private dropped = new Set<string>();
  port = 0;
  constructor(readonly root: string) {}

  url(rel: string, via: 'files' | 'gh' = 'files'): string {
    return `http://127.0.0.1:${this.port}/${via}/${rel}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.faults = {};
    this.dropped.clear();
  }

  /** Requests for one file name (any folder), in order. */
  for(file: string): Logged[] {
    return this.requests.filter((r) => path.basename(r.path) === file);
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.port, '127.0.0.1', resolve);
    });
  }

  async stop(): Promise<void> {
    for (const r of this.stalled) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const u = new URL(req.url ?? '/', 'http://x');
    const entry: Logged = { path: u.pathname, status: 0 };
    if (req.headers.range) entry.range = req.headers.range;
    if (req.headers['if-range']) entry.ifRange = String(req.headers['if-range']);
    this.requests.push(entry);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: string) => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    if (u.pathname.startsWith('/gh/')) return send(302, { location: `/files/${u.pathname.slice(4)}?sig=0123abcd&exp=1` });
    if (!u.pathname.startsWith('/files/')) return send(404);
    const file = path.join(this.root, decodeURIComponent(u.pathname.slice('/files/'.length)));
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      return send(404, {}, 'Not Found');
    }
    const name = path.basename(file);
    const f = this.faults;
    if (f.fail503?.file === name && f.fail503.times > 0) {
      f.fail503.times--;
      return send(503, {}, 'Service Unavailable');
    }
    const size = st.size;
    const etag = `"${size}-${Math.floor(st.mtimeMs)}"`;
    let start = 0;
    let status = 200;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const rangeValid = m && (!req.headers['if-range'] || req.headers['if-range'] === etag);
    if (m && rangeValid && !f.ignoreRange) {
      start = Number(m[1]);
      if (start >= size) return send(416, { 'content-range': `bytes */${size}` });
      status = 206;
    }
    const headers: Record<string, string | number> = { 'content-length': size - start, etag, 'accept-ranges': 'bytes' };
    if (status === 206) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    entry.status = status;
    res.writeHead(status, headers);
    const cut = f.dropAfter?.file === name && !this.dropped.has(name) ? f.dropAfter : undefined;
    const stall = f.stallAfter?.file === name && !this.dropped.has(name) ? f.stallAfter : undefined;
    if (cut || stall) {
      this.dropped.add(name);
      const buf = Buffer.alloc((cut ?? stall)!.bytes);
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, buf, 0, buf.length, start);
      fs.closeSync(fd);
      // Cut only once the bytes are on their way, so the client has something to resume from.
      res.write(buf, () => (cut ? res.socket?.destroy() : this.stalled.add(res)));
      return;
    }
    const hold = f.hold?.file === name && !this.dropped.has(name) ? f.hold : undefined;
    if (hold) {
      this.dropped.add(name);
      const buf = Buffer.alloc(hold.bytes);
      const fd = fs.openSync(file, 'r');
      fs.readSync(fd, buf, 0, buf.length, start);
      fs.closeSync(fd);
      res.write(buf, () => hold.held());
      void hold.until.then(() => fs.createReadStream(file, { start: start + hold.bytes }).pipe(res));
      return;
    }
    let pos = start;
    const body = fs.createReadStream(file, { start });
    body.on('data', (chunk) => {
      const c = chunk as Buffer;
      if (f.corrupt?.file === name && f.corrupt.at >= pos && f.corrupt.at < pos + c.length) c[f.corrupt.at - pos]! ^= 0xff;
      pos += c.length;
      if (!res.write(c)) {
        body.pause();
        res.once('drain', () => body.resume());
      }
    });
    body.on('end', () => res.end());
    res.on('close', () => body.destroy());
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

describe('release sources: URL base and docker:', function () {
  this.timeout(300_000);
  let fixture: string;
  let fixtureSha: string;
  let fixtureSize: number;
  let tmp: string;
  let root: string;
  let server: ReleaseServer;
  let logs: string[];
  const fastRetry: FetchOptions['download'] = { attempts: 4, backoffMs: 20 };

  /** A release folder /files/<name>/<version>/ holding links to the fixture's files under the given names. */
  const publish = (name: string, files: Record<string, string>, version = '0.0.0-fixture'): string => {
    // The fixture's sums list its installer-net.tar, so a release publishing them has it too (as EVE's do).
    if (files[SUMS] && !files[NET]) files = { ...files, [NET]: NET };
    const dir = path.join(root, name, version);
    fs.mkdirSync(dir, { recursive: true });
    for (const [as, from] of Object.entries(files)) fs.symlinkSync(path.join(fixture, from), path.join(dir, as));
    return `${name}/${version}/`;
  };
  const opts = (cacheDir: string, more: FetchOptions = {}): FetchOptions => ({ cacheDir, download: fastRetry, log: (l) => logs.push(l), ...more });

  before(async () => {
    fixture = await fixtureRelease();
    fixtureSha = /^([0-9a-f]{64})\s/.exec(fs.readFileSync(path.join(fixture, SUMS), 'utf8'))![1]!;
    fixtureSize = fs.statSync(path.join(fixture, RAW)).size;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-fetch-'));
    root = path.join(tmp, 'www');
    fs.mkdirSync(root);
    server = new ReleaseServer(root);
    await server.start();
  });
  after(async () => {
    await server?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  beforeEach(() => {
    server.reset();
    logs = [];
  });

  describe('URL base', () => {
    it('downloads through a redirect, verifies, and uses the cached copy the next time without the network', async () => {
      const rel = publish('full', { [RAW]: RAW, [SUMS]: SUMS });
      const cache = path.join(tmp, 'cache-full');
      const progress: Array<[number, number | undefined, string]> = [];
      const r = await resolveRelease(server.url(rel, 'gh'), 'amd64', opts(cache, { onProgress: (b, t, l) => progress.push([b, t, l]) }));
      expect(r.dir).to.equal(cache);
      expect(r.version).to.equal('0.0.0-fixture');
      expect(r.expectedEveRelease).to.equal('0.0.0-fixture-kvm-amd64');
      expect(r.installer.file).to.equal(RAW);
      expect(r.sha256).to.equal(fixtureSha);
      expect(sha256(path.join(cache, RAW))).to.equal(fixtureSha);
      expect(fs.readFileSync(path.join(cache, 'version'), 'utf8').trim()).to.equal('0.0.0-fixture');
      expect(fs.readdirSync(cache).filter((f) => f.endsWith('.part'))).to.deep.equal([]);
      // Tried the EVE 17 name first, followed the redirect for each.
      expect(server.for(`${RAW}.zst`).map((q) => q.status)).to.deep.equal([302, 404]);
      expect(server.for(RAW).map((q) => q.status)).to.deep.equal([302, 200]);
      const downloads = progress.filter(([, , l]) => l === `download ${RAW}`);
      expect(downloads.at(-1)).to.deep.equal([fixtureSize, fixtureSize, `download ${RAW}`]);
      expect(progress.filter(([, , l]) => l === `verify ${RAW}`).at(-1)?.[0]).to.equal(fixtureSize);

      server.reset();
      const again = await resolveRelease(server.url(rel, 'gh'), 'amd64', opts(cache));
      expect(again.sha256).to.equal(fixtureSha);
      expect(server.requests).to.deep.equal([]);
      expect(logs.join('\n')).to.contain('not downloaded again');

      // The same folder given for another release: its files are not taken for the new one's.
      const other = publish('full', { [RAW]: RAW, [SUMS]: SUMS }, '0.0.1-fixture');
      const next = await resolveRelease(server.url(other), 'amd64', opts(cache));
      expect(next.expectedEveRelease).to.equal('0.0.1-fixture-kvm-amd64');
      expect(server.for(RAW).map((q) => q.status)).to.deep.equal([200]);
      expect(fs.readFileSync(path.join(cache, 'source'), 'utf8').trim()).to.equal(server.url(other));
    });

    it('resumes with a Range request after the connection drops mid-body', async () => {
      const rel = publish('resume', { [RAW]: RAW, [SUMS]: SUMS });
      server.faults.dropAfter = { file: RAW, bytes: 5 << 20 };
      const cache = path.join(tmp, 'cache-resume');
      const r = await resolveRelease(server.url(rel), 'amd64', opts(cache));
      const q = server.for(RAW);
      expect(q.length).to.equal(2);
      expect(q[0]).to.include({ status: 200 }).and.not.have.property('range');
      const from = Number(/^bytes=(\d+)-$/.exec(q[1]!.range ?? '')?.[1]);
      expect(from).to.be.greaterThan(0).and.at.most(5 << 20);
      expect(q[1]!.status).to.equal(206);
      expect(q[1]!.ifRange, 'the resume is conditional on the same file (ETag)').to.match(/^"\d+-\d+"$/);
      expect(r.sha256).to.equal(fixtureSha);
      expect(sha256(path.join(cache, RAW))).to.equal(fixtureSha);
      expect(logs.join('\n')).to.contain(`resuming from byte ${from}`);
    });

    it('drops a stalled connection and resumes it', async () => {
      const rel = publish('stall', { [RAW]: RAW, [SUMS]: SUMS });
      server.faults.stallAfter = { file: RAW, bytes: 1 << 20 };
      const cache = path.join(tmp, 'cache-stall');
      const r = await resolveRelease(server.url(rel), 'amd64', opts(cache, { download: { ...fastRetry, idleTimeoutMs: 500 } }));
      const q = server.for(RAW);
      expect(q.map((x) => x.status)).to.deep.equal([200, 206]);
      expect(q[1]!.range).to.match(/^bytes=[1-9]\d*-$/);
      expect(r.sha256).to.equal(fixtureSha);
      expect(logs.join('\n'), logs.join('\n')).to.contain('no data for 500 ms');
    });

    it('restarts from 0 when the server ignores Range', async () => {
      const rel = publish('norange', { [RAW]: RAW, [SUMS]: SUMS });
      server.faults.dropAfter = { file: RAW, bytes: 3 << 20 };
      server.faults.ignoreRange = true;
      const cache = path.join(tmp, 'cache-norange');
      const r = await resolveRelease(server.url(rel), 'amd64', opts(cache));
      const q = server.for(RAW);
      expect(q.map((x) => x.status)).to.deep.equal([200, 200]);
      expect(q[1]!.range).to.match(/^bytes=[1-9]\d*-$/);
      expect(r.sha256).to.equal(fixtureSha);
      expect(fs.statSync(path.join(cache, RAW)).size).to.equal(fixtureSize);
      expect(logs.join('\n')).to.contain('sent the whole file instead of resuming');
    });

    it('retries after a 503', async () => {
      const rel = publish('busy', { [RAW]: RAW, [SUMS]: SUMS });
      server.faults.fail503 = { file: RAW, times: 1 };
      const r = await resolveRelease(server.url(rel), 'amd64', opts(path.join(tmp, 'cache-503')));
      expect(server.for(RAW).map((x) => x.status)).to.deep.equal([503, 200]);
      expect(r.sha256).to.equal(fixtureSha);
      expect(logs.join('\n')).to.contain('HTTP 503');
    });

    it('404 for every name: a ConfigError naming the URL and the names tried, and no cache folder left', async () => {
      const rel = publish('empty', { 'arm64.kvm.generic.installer.raw': 'arm64.kvm.generic.installer.raw' });
      const cache = path.join(tmp, 'cache-empty');
      const err = await resolveRelease(server.url(rel), 'amd64', opts(cache)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).to.contain(server.url(rel)).and.contain('amd64.kvm.generic.installer.raw.zst, amd64.kvm.generic.installer.raw, amd64.installer.img');
      expect(server.requests.map((x) => x.status)).to.deep.equal([404, 404, 404]);
      expect(fs.existsSync(cache)).to.equal(false);
    });

    it('a host that does not answer: a ConfigError after the retries, naming the URL', async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/eve/14.5.1/`;
      const err = await resolveRelease(url, 'amd64', opts(path.join(tmp, 'cache-down'))).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(`${url}amd64.kvm.generic.installer.raw.zst`).and.contain('connection refused').and.contain('after 4 attempts');
      expect(logs.filter((l) => l.includes('retrying')).length).to.equal(3);
    });

    it('a corrupted download does not verify: a ConfigError naming the URL, and the bad file is not kept', async () => {
      const rel = publish('corrupt', { [RAW]: RAW, [SUMS]: SUMS });
      server.faults.corrupt = { file: RAW, at: 12345 };
      const cache = path.join(tmp, 'cache-corrupt');
      const err = await resolveRelease(server.url(rel), 'amd64', opts(cache)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(server.url(rel)).and.contain('does not match').and.contain(fixtureSha);
      expect(fs.existsSync(path.join(cache, RAW))).to.equal(false);
    });

    it("EVE's netboot set: the installer-net.tar its sha256sums list is downloaded beside the installer and verified (a corrupted one is removed, a ConfigError)", async () => {
      const rel = publish('net', { [RAW]: RAW, [SUMS]: SUMS, [NET]: NET });
      const cache = path.join(tmp, 'cache-net');
      const r = await resolveRelease(server.url(rel), 'amd64', opts(cache));
      expect(r.installer.file).to.equal(RAW);
      expect(sha256(path.join(cache, NET))).to.equal(sha256(path.join(fixture, NET)));
      expect(server.for(NET).map((q) => q.status)).to.deep.equal([200]);
      server.reset();
      await resolveRelease(server.url(rel), 'amd64', opts(cache));
      expect(server.requests, 'both verified in the cache: no request').to.deep.equal([]);

      const bad = publish('net-corrupt', { [RAW]: RAW, [SUMS]: SUMS, [NET]: NET });
      server.faults.corrupt = { file: NET, at: 4321 };
      const cacheBad = path.join(tmp, 'cache-net-corrupt');
      const err = await resolveRelease(server.url(bad), 'amd64', opts(cacheBad)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(`${NET} does not match ${SUMS}`);
      expect(fs.existsSync(path.join(cacheBad, NET))).to.equal(false);
    });

    it('the legacy scheme: amd64.installer.img without a checksum file', async () => {
      const rel = publish('legacy', { 'amd64.installer.img': RAW }, '7.1.0');
      const cache = path.join(tmp, 'cache-legacy');
      const r = await resolveRelease(server.url(rel), 'amd64', opts(cache));
      expect(r.installer).to.include({ file: 'amd64.installer.img', scheme: 'legacy' });
      expect(r.expectedEveRelease).to.equal('7.1.0-kvm-amd64');
      expect(r.sha256).to.equal(fixtureSha);
      expect(server.requests.map((x) => [path.basename(x.path), x.status])).to.deep.equal([
        [`${RAW}.zst`, 404],
        [RAW, 404],
        ['amd64.installer.img', 200],
      ]);
    });

    it('a URL whose last part is not a version needs --release-version', async () => {
      publish('noversion', { [RAW]: RAW, [SUMS]: SUMS }, 'latest');
      const url = server.url('noversion/latest/');
      const err = await resolveRelease(url, 'amd64', opts(path.join(tmp, 'cache-nov'))).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.contain(url).and.contain('--release-version');
      expect(server.requests).to.deep.equal([]);
      const r = await resolveRelease(url, 'amd64', opts(path.join(tmp, 'cache-nov'), { version: '14.5.1' }));
      expect(r.expectedEveRelease).to.equal('14.5.1-kvm-amd64');
    });

    it('eve-qual release fetch URL --dir D: exit 0 and the folder; release verify of a 404 URL: exit 2', async () => {
      const rel = publish('cli', { [RAW]: RAW, [SUMS]: SUMS });
      const dir = path.join(tmp, 'cli-fetched');
      const ok = await eveQual(['release', 'fetch', server.url(rel, 'gh'), '--arch', 'amd64', '--dir', dir], { timeout: 120_000 });
      expect(ok.exitCode, ok.all).to.equal(0);
      expect(ok.stdout).to.contain(`matches ${SUMS}`).and.contain('0.0.0-fixture-kvm-amd64').and.contain(`release folder: ${dir}`);
      expect(ok.stderr).to.contain(`download ${RAW}: 100%`);
      expect(sha256(path.join(dir, RAW))).to.equal(fixtureSha);
      // The fetched folder is a local release folder.
      const local = await eveQual(['release', 'verify', dir, '--arch', 'amd64'], { timeout: 120_000 });
      expect(local.exitCode, local.all).to.equal(0);

      const missing = server.url('nothing-here/14.5.1/');
      const bad = await eveQual(['release', 'verify', missing, '--arch', 'amd64', '--dir', path.join(tmp, 'cli-404')], { timeout: 120_000 });
      expect(bad.exitCode, bad.all).to.equal(2);
      expect(bad.stderr).to.contain(missing).and.contain('amd64.installer.img');
    });
  });

  describe('two processes, one cache folder', () => {
    it('two eve-qual release fetch of one release into one folder: one downloads, the other waits and finds it verified', async () => {
      const rel = publish('shared', { [RAW]: RAW, [SUMS]: SUMS });
      const dir = path.join(tmp, 'shared-fetched');
      let open!: () => void;
      let held!: () => void;
      const underWay = new Promise<void>((resolve) => (held = resolve));
      server.faults.hold = { file: RAW, bytes: 1 << 20, held, until: new Promise<void>((resolve) => (open = resolve)) };
      const fetch = () => eveQual(['release', 'fetch', server.url(rel), '--arch', 'amd64', '--dir', dir], { timeout: 120_000 });
      const first = fetch();
      try {
        await withTimeout(underWay, 60_000, () => new Error("timed out after 60 s waiting for the first fetch's download"));
        const second = fetch();
        let said = '';
        await withTimeout(
          new Promise<void>((resolve) =>
            second.all!.on('data', (d: Buffer) => {
              said += d.toString();
              if (said.includes('waiting for')) resolve();
            }),
          ),
          60_000,
          () => new Error(`timed out after 60 s waiting for the second fetch to say it waits; it said: ${said}`),
        );
        open();
        const [a, b] = await Promise.all([first, second]);
        expect(a.exitCode, a.all).to.equal(0);
        expect(b.exitCode, b.all).to.equal(0);
        expect(b.stderr).to.match(/waiting for pid \d+ on .*: fetching http:\/\/127\.0\.0\.1:\d+\/files\/shared\/0\.0\.0-fixture\/ \(amd64\)/);
        expect(b.stdout).to.contain(`matches ${SUMS}`);
        // One download of the image: the second found it in the folder, verified.
        expect(server.for(RAW).map((q) => q.status)).to.deep.equal([200]);
        expect(sha256(path.join(dir, RAW))).to.equal(fixtureSha);
      } finally {
        open();
        first.kill();
      }
    });
  });

  describe('docker:', () => {
    let bin: string;
    let callLog: string;
    let savedPath: string | undefined;

    /** A stand-in `docker` in its own folder, put first on PATH; it appends its arguments to callLog. */
    const standIn = (name: string, body: string): void => {
      bin = path.join(tmp, `docker-${name}`);
      fs.mkdirSync(bin, { recursive: true });
      callLog = path.join(bin, 'calls.log');
      fs.writeFileSync(path.join(bin, 'docker'), `#!/bin/bash\necho "$*" >> '${callLog}'\ncmd="\${@: -1}"\nimage="\${@: -2:1}"\n${body}\n`, { mode: 0o755 });
      process.env.PATH = `${bin}${path.delimiter}${savedPath}`;
    };
    const calls = () => (fs.existsSync(callLog) ? fs.readFileSync(callLog, 'utf8').trim().split('\n') : []);

    beforeEach(() => {
      savedPath = process.env.PATH;
    });
    afterEach(() => {
      process.env.PATH = savedPath;
    });

    it("docker:<version> runs lfedge/eve:<version>-kvm-<arch> version, installer_raw and installer_net (EVE's netboot set, runme.sh) into a verified folder (stand-in docker)", async () => {
      standIn(
        'ok',
        `case "$cmd" in\n  version) echo "0.0.0-fixture-kvm-amd64" ;;\n  installer_raw) exec cat '${path.join(fixture, RAW)}' ;;\n  installer_net) exec cat '${path.join(fixture, NET)}' ;;\n  *) echo "unknown command $cmd" >&2; exit 2 ;;\nesac`,
      );
      const cache = path.join(tmp, 'cache-docker');
      const progress: number[] = [];
      const r = await resolveRelease('docker:0.0.0-fixture', 'amd64', opts(cache, { onProgress: (b, _t, l) => l.endsWith(' installer_raw') && progress.push(b) }));
      expect(calls()).to.deep.equal([
        'run --rm --platform linux/amd64 lfedge/eve:0.0.0-fixture-kvm-amd64 version',
        'run --rm --platform linux/amd64 lfedge/eve:0.0.0-fixture-kvm-amd64 installer_raw',
        'run --rm --platform linux/amd64 lfedge/eve:0.0.0-fixture-kvm-amd64 installer_net',
      ]);
      expect(r.dir).to.equal(cache);
      expect(r.installer.file).to.equal(RAW);
      expect(r.version).to.equal('0.0.0-fixture');
      expect(r.expectedEveRelease).to.equal('0.0.0-fixture-kvm-amd64');
      expect(r.sha256).to.equal(fixtureSha);
      const netSha = sha256(path.join(fixture, NET));
      expect(sha256(path.join(cache, NET))).to.equal(netSha);
      expect(fs.readFileSync(path.join(cache, SUMS), 'utf8')).to.equal(`${fixtureSha}  ${RAW}\n${netSha}  ${NET}\n`);
      expect(progress.at(-1)).to.equal(fixtureSize);

      // A versioned tag's folder is reused, docker is not run again.
      await resolveRelease('docker:0.0.0-fixture-kvm-amd64', 'amd64', opts(cache));
      expect(calls().length).to.equal(3);

      // And through the command line, with the stand-in on the child's PATH.
      const dir = path.join(tmp, 'cli-docker');
      const cli = await execa(path.join(repoRoot, 'bin', 'eve-qual'), ['release', 'fetch', 'docker:0.0.0-fixture', '--arch', 'amd64', '--dir', dir], {
        reject: false,
        all: true,
        env: { PATH: process.env.PATH },
        timeout: 120_000,
      });
      expect(cli.exitCode, cli.all).to.equal(0);
      expect(cli.stdout).to.contain(`release folder: ${dir}`);
      expect(sha256(path.join(dir, RAW))).to.equal(fixtureSha);
      expect(sha256(path.join(dir, NET))).to.equal(netSha);
    });

    it('a docker run that fails names the image and says why (stand-in docker)', async () => {
      standIn(
        'missing',
        `echo "Unable to find image '$image' locally" >&2\necho "docker: Error response from daemon: manifest for $image not found: manifest unknown." >&2\nexit 125`,
      );
      const cache = path.join(tmp, 'cache-docker-missing');
      const err = await resolveRelease('docker:9.9.9', 'amd64', opts(cache)).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message)
        .to.contain('lfedge/eve:9.9.9-kvm-amd64')
        .and.contain('exit 125')
        .and.contain("Unable to find image 'lfedge/eve:9.9.9-kvm-amd64' locally");
      expect(fs.readdirSync(cache).filter((f) => f.includes('installer'))).to.deep.equal([]);
    });

    it('aborting stops docker and leaves no partial image (stand-in docker)', async () => {
      const pidFile = path.join(tmp, 'docker-abort.pid');
      standIn('abort', `echo $$ > '${pidFile}'\nhead -c 200000 '${path.join(fixture, RAW)}'\nexec sleep 300`);
      const cache = path.join(tmp, 'cache-docker-abort');
      const ac = new AbortController();
      const reason = new Error('test abort');
      const err = await fetchDockerRelease('14.5.1', 'amd64', {
        cacheDir: cache,
        version: '14.5.1',
        signal: ac.signal,
        onProgress: (b) => b > 0 && ac.abort(reason),
      }).catch((e: unknown) => e);
      expect(err).to.equal(reason);
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(pid, 0)).to.throw().with.property('code', 'ESRCH');
      expect(fs.readdirSync(cache).filter((f) => f.includes('installer'))).to.deep.equal([]);
    });

    it('docker not on PATH, and a tag for another arch, are config errors', async () => {
      process.env.PATH = fs.mkdtempSync(path.join(tmp, 'nopath-'));
      const err = await resolveRelease('docker:14.5.1', 'amd64', opts(path.join(tmp, 'cache-nodocker'))).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.equal('docker: not found on PATH (install docker.io, or download the release assets into a folder)');
      const arch = await resolveRelease('docker:14.5.1-kvm-arm64', 'amd64', opts(path.join(tmp, 'cache-arch'))).catch((e: unknown) => e);
      expect(arch).to.be.instanceOf(ConfigError);
      expect((arch as Error).message).to.contain('docker:14.5.1-kvm-arm64 is an image for arm64: the box is amd64');
    });
  });
});

describe('download progress lines', () => {
  it('every 10%, with the rate since the first report and the time left (a clock the test moves)', () => {
    const lines: string[] = [];
    let t = 0;
    const step = progressSteps((l) => lines.push(l), 10, () => t);
    const MiB = 1 << 20;
    // A resume that starts at 20 MiB of 100 MiB, then 10 MiB a second.
    step(20 * MiB, 100 * MiB);
    for (let s = 1; s <= 8; s++) {
      t = s * 1000;
      step((20 + 10 * s) * MiB, 100 * MiB);
    }
    expect(lines).to.deep.equal([
      '20% (20.0 MiB of 100.0 MiB)',
      '30% (30.0 MiB of 100.0 MiB, 10.0 MiB/s, about 7 s left)',
      '40% (40.0 MiB of 100.0 MiB, 10.0 MiB/s, about 6 s left)',
      '50% (50.0 MiB of 100.0 MiB, 10.0 MiB/s, about 5 s left)',
      '60% (60.0 MiB of 100.0 MiB, 10.0 MiB/s, about 4 s left)',
      '70% (70.0 MiB of 100.0 MiB, 10.0 MiB/s, about 3 s left)',
      '80% (80.0 MiB of 100.0 MiB, 10.0 MiB/s, about 2 s left)',
      '90% (90.0 MiB of 100.0 MiB, 10.0 MiB/s, about 1 s left)',
      '100% (100.0 MiB of 100.0 MiB, 10.0 MiB/s)',
    ]);
  });

  it('without a total, every 100 MiB with the rate; minutes when the rest is long', () => {
    const lines: string[] = [];
    let t = 0;
    const step = progressSteps((l) => lines.push(l), 10, () => t);
    const MiB = 1 << 20;
    step(1, undefined);
    t = 50_000;
    step(100 * MiB, undefined);
    expect(lines).to.deep.equal(['1 B', '100.0 MiB (2.0 MiB/s)']);
    const slow: string[] = [];
    let u = 0;
    const s2 = progressSteps((l) => slow.push(l), 10, () => u);
    s2(0, 1000 * MiB);
    u = 10_000;
    s2(100 * MiB, 1000 * MiB);
    expect(slow[1]).to.equal('10% (100.0 MiB of 1000.0 MiB, 10.0 MiB/s, about 2 min left)');
  });
});
