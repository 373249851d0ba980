// SerialLink against real ptys from socat: bytes both ways, an unplugged and replugged adapter (socat killed and
// started again with the same paths), and a device that never comes back.
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabError } from '../../lib/errors.ts';
import type { LinkGap } from '../../lib/link/link.ts';
import { LinkLostError } from '../../lib/link/reconnecting-link.ts';
import { SerialLink } from '../../lib/link/serial-link.ts';
import { withTimeout } from '../../lib/util/deadline.ts';
import { startPeer } from '../helpers/peer.ts';
import { ByteCollector, openPtyEnd, startPtyPair, waitForEvent, waitForOutput, type PtyEnd, type PtyPair } from '../helpers/socat.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('SerialLink (socat pty pair)', function () {
  let dir: string;
  let pair: PtyPair;
  let box: PtyEnd | undefined;
  let link: SerialLink | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eve-qual-serial-'));
    pair = await startPtyPair(dir);
    box = await openPtyEnd(pair.peer);
  });

  afterEach(async () => {
    await link?.close();
    link = undefined;
    await box?.close();
    box = undefined;
    await pair.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries bytes both ways, and 1 MiB each way intact', async () => {
    link = new SerialLink({ path: pair.device });
    const got = new ByteCollector();
    link.on('data', got.push);
    await link.open();
    expect(link.state).to.equal('open');
    expect(link.name).to.equal(`serial:${pair.device}`);

    await link.write('hello box\n');
    await box!.received.untilText('hello box\n');
    await box!.write('hello harness\n');
    await got.untilText('hello harness\n');

    box!.received.clear();
    got.clear();
    const down = randomBytes(1 << 20);
    const up = randomBytes(1 << 20);
    await Promise.all([link.write(down), box!.write(up), box!.received.untilLength(down.length, 30_000), got.untilLength(up.length, 30_000)]);
    expect(box!.received.length).to.equal(down.length);
    expect(sha(box!.received.bytes())).to.equal(sha(down));
    expect(got.length).to.equal(up.length);
    expect(sha(got.bytes())).to.equal(sha(up));
  });

  it('survives an adapter unplugged mid-stream and plugged back: disconnect, reconnect with the gap, nothing lost', async () => {
    link = new SerialLink({ path: pair.device, reconnectDeadlineMs: 20_000 });
    const got = new ByteCollector();
    const events: string[] = [];
    link.on('data', got.push);
    link.on('disconnect', (cause) => events.push(`disconnect: ${cause}`));
    link.on('reconnect', () => events.push('reconnect'));
    await link.open();

    // The box is in the middle of printing a long stream when the adapter is pulled.
    const stream = randomBytes(4 << 20);
    box!.write(stream).catch(() => undefined);
    await got.untilLength(100_000, 20_000);
    const disconnected = waitForEvent<[string]>(link, 'disconnect');
    const unpluggedAt = Date.now();
    await pair.unplug();
    const [cause] = await disconnected;
    expect(cause).to.match(/^device disconnected: /);
    expect(link.state).to.equal('reconnecting');
    // Every byte that reached the link before the loss was emitted, in order, unchanged.
    const before = Buffer.from(got.bytes());
    expect(before.length).to.be.at.least(100_000).and.below(stream.length);
    expect(stream.subarray(0, before.length).equals(before), 'received bytes are an exact prefix of what the box sent').to.equal(true);

    // A write made while the adapter is out waits for it to come back.
    const reconnected = waitForEvent<[LinkGap]>(link, 'reconnect', 15_000);
    let written = false;
    const pendingWrite = link.write('typed during the gap\n').then(() => (written = true));
    await box!.close();
    await pair.replug();
    const [gap] = await reconnected;
    expect(gap.recovered).to.equal(true);
    expect(gap.cause).to.equal(cause);
    expect(gap.start.getTime()).to.be.at.least(unpluggedAt);
    expect(gap.end.getTime()).to.be.at.least(gap.start.getTime());
    expect(link.state).to.equal('open');
    await pendingWrite;
    expect(written).to.equal(true);

    // The box's end reopens after the link did; bytes written before that are flushed by the tty, so prove the path
    // with a fresh exchange both ways.
    box = await openPtyEnd(pair.peer);
    await link.write('after the gap\n');
    await box.received.untilText('after the gap\n');
    await box.write('box is back\n');
    await got.untilText('box is back\n');
    expect(got.bytes().equals(Buffer.concat([before, Buffer.from('box is back\n')])), 'nothing lost or added around the gap').to.equal(true);
    expect(events).to.deep.equal([`disconnect: ${cause}`, 'reconnect']);
  });

  it('closes with a LabError when the device does not come back before the reconnect deadline', async () => {
    link = new SerialLink({ path: pair.device, reconnectDeadlineMs: 700 });
    await link.open();
    const closed = waitForEvent<[Error | undefined]>(link, 'close', 5000);
    const disconnected = waitForEvent(link, 'disconnect');
    const t0 = Date.now();
    await pair.unplug();
    await disconnected;
    // A write waiting for the device fails with the same error when the link gives up.
    const waiting = link.write('never sent\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    const [err] = await closed;
    expect(await waiting).to.equal(err);
    expect(Date.now() - t0).to.be.below(3000);
    expect(err).to.be.instanceOf(LinkLostError).and.instanceOf(LabError);
    const lost = err as LinkLostError;
    expect(lost.message).to.include(`serial:${pair.device}`).and.include('not back within 700 ms').and.include('(ENOENT)');
    expect(lost.where).to.equal(`serial:${pair.device}`);
    expect(lost.gap.recovered).to.equal(false);
    expect(link.state).to.equal('closed');
    const write = await link.write('x').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(write).to.be.instanceOf(LabError);
    expect((write as Error).message).to.include('is closed');
  });

  it('close() is idempotent, emits close once, and stops reconnecting', async () => {
    link = new SerialLink({ path: pair.device });
    let closes = 0;
    link.on('close', () => closes++);
    await link.open();
    const disconnected = waitForEvent(link, 'disconnect');
    await pair.unplug();
    await disconnected;
    const waiting = link.write('never sent\n').then(
      () => undefined,
      (e: unknown) => e,
    );
    await Promise.all([link.close(), link.close()]);
    await link.close();
    expect(await waiting).to.be.instanceOf(LabError);
    expect((await waiting as Error).message).to.equal(`serial:${pair.device} is closed`);
    expect(closes).to.equal(1);
    expect(link.state).to.equal('closed');
    // Plugged back in after close: the link must stay closed (no attempt was left running).
    let reconnects = 0;
    link.on('reconnect', () => reconnects++);
    await pair.replug();
    const probe = new SerialLink({ path: pair.device, connectTimeoutMs: 2000 });
    await probe.open(); // takes the device lock: fails if the closed link had reopened the device
    await probe.close();
    expect(reconnects).to.equal(0);
    expect(link.state).to.equal('closed');
  });
});

// A box on the master side of a pty, driven by signals: SIGUSR1 sends one byte, SIGUSR2 reads until it has received
// argv[2] bytes and says so. No middleman (socat blocks its whole transfer loop once one direction is full), so the
// test decides exactly when the box reads and when it talks.
const ptyBox = `
import os, signal, sys
master, slave = os.openpty()
os.symlink(os.ttyname(slave), sys.argv[1])
need = int(sys.argv[2])
def poke(*_):
    os.write(master, b'x')
def drain(*_):
    total = 0
    while total < need:
        total += len(os.read(master, 65536))
    print('drained', total, flush=True)
signal.signal(signal.SIGUSR1, poke)
signal.signal(signal.SIGUSR2, drain)
print('ready', flush=True)
while True:
    signal.pause()
`;

describe('SerialLink (python pty box): a long write while the box talks', function () {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'eve-qual-serial-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('completes a write stalled on a full tty after the box sent bytes meanwhile (serialport poller fix)', async () => {
    // bindings-cpp re-arms its poll handle with only the event just asked for: a read waiting for data cancels the
    // write waiting for room, and the write never resumes unless the box talks again. See lib/link/serial-binding.ts.
    const device = path.join(dir, 'ttyBOX');
    const size = 1 << 20;
    const box = startPeer('python3', ['-c', ptyBox, device, String(size)], { name: 'pty box' });
    const link = new SerialLink({ path: device });
    try {
      await waitForOutput(box, /ready/);
      const got = new ByteCollector();
      link.on('data', got.push);
      await link.open();
      const write = link.write(randomBytes(size));
      // The tty's buffer fills at once and the write waits for room; each byte from the box makes the link read.
      for (let n = 1; n <= 5; n++) {
        process.kill(box.proc.pid!, 'SIGUSR1');
        await got.until(() => got.length >= n, `byte ${n} from the box`);
      }
      process.kill(box.proc.pid!, 'SIGUSR2');
      await waitForOutput(box, new RegExp(`drained ${size}`), 10_000);
      await withTimeout(write, 10_000, () => new Error('link.write() did not resolve after the box read everything'));
    } finally {
      await link.close();
      await box.stop();
    }
  });
});
