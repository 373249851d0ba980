// Bad input when opening a link: each case must end quickly with a LabError that names the device or host:port and
// says why, because that message is all a lab engineer gets when a run stops before it started.
import { expect } from 'chai';
import { execa } from 'execa';
import { chmod, mkdtemp, realpath, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabError } from '../../lib/errors.ts';
import type { Link } from '../../lib/link/link.ts';
import { ProcessLink } from '../../lib/link/process-link.ts';
import { QemuSocketLink } from '../../lib/link/qemu-socket-link.ts';
import { SerialLink } from '../../lib/link/serial-link.ts';
import { TcpSerialLink } from '../../lib/link/tcp-serial-link.ts';
import { freePort } from '../helpers/net.ts';
import { startPeer } from '../helpers/peer.ts';
import { startPtyPair, waitForOutput, type PtyPair } from '../helpers/socat.ts';

/** open() must reject with a LabError within `withinMs`; returns it for more checks. */
async function openFails(link: Link, withinMs: number): Promise<LabError> {
  const t0 = Date.now();
  const err = await link.open().then(
    () => undefined,
    (e: unknown) => e,
  );
  const took = Date.now() - t0;
  expect(err, `${link.name} opened but should not have`).to.be.instanceOf(LabError);
  expect(took, `${link.name} took ${took} ms to fail`).to.be.below(withinMs);
  expect(link.state).to.equal('closed');
  const e = err as LabError;
  expect(e.where).to.equal(link.name);
  expect(e.message).to.include(link.name);
  return e;
}

describe('link open errors', function () {
  let dir: string;
  let pair: PtyPair | undefined;
  const links: Link[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eve-qual-open-'));
  });

  afterEach(async () => {
    await Promise.all(links.splice(0).map((l) => l.close()));
    await pair?.stop();
    pair = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const track = <T extends Link>(l: T): T => (links.push(l), l);

  it('a serial device that does not exist', async () => {
    const err = await openFails(track(new SerialLink({ path: path.join(dir, 'ttyUSB9') })), 2000);
    expect(err.message).to.equal(`cannot open serial:${path.join(dir, 'ttyUSB9')}: no such device or file (ENOENT)`);
  });

  it('a serial device locked by another eve-qual in this process', async () => {
    pair = await startPtyPair(dir);
    await track(new SerialLink({ path: pair.device })).open();
    const err = await openFails(track(new SerialLink({ path: pair.device })), 2000);
    expect(err.message).to.include('device busy: locked by another program');
  });

  it('a serial device locked by another program (flock(1) holding it)', async () => {
    pair = await startPtyPair(dir);
    const holder = startPeer('flock', ['--exclusive', pair.device, 'sh', '-c', 'echo locked; exec sleep 3600'], { name: 'flock' });
    try {
      await waitForOutput(holder, /locked/);
      const err = await openFails(track(new SerialLink({ path: pair.device })), 2000);
      expect(err.message).to.include('device busy: locked by another program');
    } finally {
      await holder.stop();
    }
  });

  it('a serial device without permission (root without CAP_DAC_OVERRIDE, as a non-root lab user would be)', async () => {
    // Tests run as root, which opens any file regardless of its mode. setpriv drops the capabilities that make that
    // so, from a child eve-qual process; the device is a real pty with mode 000.
    pair = await startPtyPair(dir);
    await chmod(await realpath(pair.device), 0o000);
    const module = new URL('../../lib/link/serial-link.ts', import.meta.url).href;
    const script = `
      import { SerialLink } from ${JSON.stringify(module)};
      const link = new SerialLink({ path: process.env.EVE_QUAL_DEVICE });
      try { await link.open(); console.log(JSON.stringify({ opened: true })); await link.close(); }
      catch (e) { console.log(JSON.stringify({ name: e.constructor.name, errorClass: e.errorClass, message: e.message })); }`;
    const child = await execa(
      'setpriv',
      ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      { env: { EVE_QUAL_DEVICE: pair.device }, reject: false, timeout: 30_000 },
    );
    expect(child.exitCode, child.stderr).to.equal(0);
    const result = JSON.parse(child.stdout.trim().split('\n').pop()!);
    expect(result).to.deep.equal({
      name: 'LabError',
      errorClass: 'lab',
      message: `cannot open serial:${pair.device}: permission denied (EACCES)`,
    });
  });

  it('a TCP port nobody listens on', async () => {
    const port = await freePort();
    const err = await openFails(track(new TcpSerialLink({ host: '127.0.0.1', port, protocol: 'telnet' })), 2000);
    expect(err.message).to.equal(`cannot open tcp:127.0.0.1:${port} (telnet): connection refused (ECONNREFUSED)`);
  });

  it('a TCP connect that gets no answer (a listener whose accept queue is full)', async () => {
    // A listener with backlog 0 that never accepts: once one connection waits in its queue, the kernel drops further
    // SYNs, exactly like a terminal server that has gone away behind a router. Loopback only.
    const port = await freePort();
    const listener = startPeer(
      'perl',
      [
        '-MSocket',
        '-e',
        'socket(S, PF_INET, SOCK_STREAM, 0) or die; setsockopt(S, SOL_SOCKET, SO_REUSEADDR, 1); ' +
          'bind(S, sockaddr_in($ARGV[0], INADDR_LOOPBACK)) or die "bind: $!"; listen(S, 0) or die "listen: $!"; ' +
          '$| = 1; print "listening\\n"; sleep 3600;',
        String(port),
      ],
      { name: 'full-backlog listener' },
    );
    const filler = new net.Socket();
    try {
      await waitForOutput(listener, /listening/);
      await new Promise<void>((resolve, reject) => filler.connect(port, '127.0.0.1', resolve).once('error', reject));
      const err = await openFails(track(new TcpSerialLink({ host: '127.0.0.1', port, connectTimeoutMs: 300 })), 2000);
      expect(err.message).to.equal(`cannot open tcp:127.0.0.1:${port} (raw): no answer within 300 ms (connect timeout)`);
    } finally {
      filler.destroy();
      await listener.stop();
    }
  });

  it('a terminal server that accepts but never answers RFC 2217', async () => {
    const held: net.Socket[] = [];
    const server = net.createServer((s) => held.push(s.resume())); // reads, never answers
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const err = await openFails(track(new TcpSerialLink({ host: '127.0.0.1', port, protocol: 'rfc2217', connectTimeoutMs: 300 })), 2000);
      expect(err.message).to.equal(
        `cannot open tcp:127.0.0.1:${port} (rfc2217): connected, but no answer to telnet BINARY, telnet TIMING-MARK, RFC 2217 (COM-PORT-OPTION) within 300 ms (connect timeout)`,
      );
      // The attempt's socket was torn down, not left to the server.
      await new Promise<void>((resolve) => (held[0]!.destroyed ? resolve() : held[0]!.once('close', () => resolve())));
    } finally {
      held.forEach((s) => s.destroy());
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a QEMU chardev socket that does not exist', async () => {
    const sock = path.join(dir, 'box.sock');
    const err = await openFails(track(new QemuSocketLink({ path: sock })), 2000);
    expect(err.message).to.equal(`cannot open qemu:unix:${sock}: no such device or file (ENOENT)`);
  });

  it('a process link whose command does not exist', async () => {
    const err = await openFails(track(new ProcessLink({ command: [path.join(dir, 'no-such-tool'), '--password', 'hunter2'] })), 2000);
    expect(err.message).to.equal(`cannot open process:${path.join(dir, 'no-such-tool')}: command not found: ${path.join(dir, 'no-such-tool')} (ENOENT)`);
    expect(err.message, 'arguments (which may hold secrets) stay out of messages').not.to.include('hunter2');
  });
});
