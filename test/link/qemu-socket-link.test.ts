// QemuSocketLink against a real QEMU chardev socket (server=on,wait=off). The chardev carries QEMU's human monitor
// (`-machine none` boots nothing, in milliseconds), which answers what the test types: real bytes both ways without
// a guest. Killing and restarting QEMU is a power cycle of the virtual box.
import { expect } from 'chai';
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Deadline, pause } from '../../lib/util/deadline.ts';
import { unixSocketListening } from '../../lib/util/unix-socket.ts';
import type { LinkGap } from '../../lib/link/link.ts';
import { QemuSocketLink } from '../../lib/link/qemu-socket-link.ts';
import { freePort } from '../helpers/net.ts';
import { startPeer, type Peer } from '../helpers/peer.ts';
import { waitForListen } from '../helpers/ser2net.ts';
import { ByteCollector, waitForEvent } from '../helpers/socat.ts';

function startQemu(chardev: string): Peer {
  return startPeer(
    'qemu-system-x86_64',
    ['-machine', 'none', '-nodefaults', '-display', 'none', '-chardev', `socket,id=mon,${chardev},server=on,wait=off`, '-mon', 'chardev=mon,mode=readline'],
    { name: 'qemu' },
  );
}

/** QEMU prints nothing when its socket is ready: wait until it listens (bounded, with backoff). */
async function waitForSocket(p: string, qemu: Peer, timeoutMs = 10_000): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (unixSocketListening(p)) return;
    if (qemu.proc.exitCode !== null) throw new Error(`qemu exited:\n${qemu.output()}`);
    if (deadline.expired()) throw new Error(`no socket listening at ${p} after ${timeoutMs} ms:\n${qemu.output()}`);
    await pause(delay);
  }
}

describe('QemuSocketLink (QEMU chardev socket, human monitor on it)', function () {
  let dir: string;
  let qemu: Peer | undefined;
  let link: QemuSocketLink | undefined;
  let version: string;

  before(async () => {
    version = /version (\d+\.\d+\.\d+)/.exec((await execa('qemu-system-x86_64', ['--version'])).stdout)![1]!;
  });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eve-qual-qemu-'));
  });

  afterEach(async () => {
    await link?.close();
    link = undefined;
    await qemu?.stop();
    qemu = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('talks to QEMU over a unix socket, and reconnects when QEMU restarts', async () => {
    const sock = path.join(dir, 'box.sock');
    qemu = startQemu(`path=${sock}`);
    await waitForSocket(sock, qemu);
    link = new QemuSocketLink({ path: sock, reconnectDeadlineMs: 20_000 });
    expect(link.name).to.equal(`qemu:unix:${sock}`);
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    await got.untilText('(qemu) ');
    await link.write('info version\n');
    await got.untilText(`\r\n${version}`);

    const disconnected = waitForEvent<[string]>(link, 'disconnect');
    await qemu.stop();
    const [cause] = await disconnected;
    expect(cause).to.match(/closed/);
    // QEMU hangs up on SIGTERM before it stops listening: the link may come back to the dying QEMU and lose it again.
    if (link.state === 'open') await waitForEvent(link, 'disconnect');
    expect(link.state).to.equal('reconnecting');
    const reconnected = waitForEvent<[LinkGap]>(link, 'reconnect', 15_000);
    got.clear();
    qemu = startQemu(`path=${sock}`);
    const [gap] = await reconnected;
    expect(gap.recovered).to.equal(true);
    expect(gap.cause).to.match(/closed|reset/);
    await got.untilText('(qemu) ');
    await link.write('info version\n');
    await got.untilText(`\r\n${version}`);
  });

  it('talks to QEMU over TCP on loopback', async () => {
    const port = await freePort();
    qemu = startQemu(`host=127.0.0.1,port=${port}`);
    await waitForListen(port, qemu);
    link = new QemuSocketLink({ host: '127.0.0.1', port });
    expect(link.name).to.equal(`qemu:tcp:127.0.0.1:${port}`);
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    await got.untilText('(qemu) ');
    await link.write('info version\n');
    await got.untilText(`\r\n${version}`);
  });
});
