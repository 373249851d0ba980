// The storage suite against boxes made of folders (test/helpers/fake-box.ts: busybox sh, busybox dd on disk images,
// sysfs as a tree): what it proves and what it refuses. Each test is named after the false pass or the rule it holds.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseDdOutput } from '../../suites/disk-io.ts';
import { busOfDevicePath } from '../../suites/storage-facts.ts';
import { storageSuite } from '../../suites/storage.ts';
import { FakeBox, profileWith, runOn } from '../helpers/fake-box.ts';

type Disk = { name: string; device: string; sizeGb?: number; minReadMBps?: number; minWriteMBps?: number; bus?: 'virtio' | 'usb' | 'nvme' | 'sata'; smart?: boolean };

const VIRTIO = '/sys/devices/pci0000:00/0000:00:04.0/virtio2';

/** A box whose install disk is vda (CONFIG and persist on it, persist ext4), `mib` MiB, as sysfs shows a virtio disk. */
function eveBox(mib: number, opts: { diskAt?: string } = {}): FakeBox {
  const b = new FakeBox();
  b.dir(`${VIRTIO}/block`).link('/sys/block/vda/device', VIRTIO).link(`${VIRTIO}/subsystem`, '/sys/bus/virtio').dir('/sys/bus/virtio/drivers/virtio_blk');
  b.link(`${VIRTIO}/driver`, '/sys/bus/virtio/drivers/virtio_blk');
  b.file('/sys/block/vda/size', `${mib * 2048}\n`).dir('/sys/block/vda/holders').dir('/sys/block/vda/vda4').dir('/sys/block/vda/vda9');
  b.link('/sys/class/block/vda4', '/sys/block/vda/vda4').link('/sys/class/block/vda9', '/sys/block/vda/vda9');
  b.file('/sys/block/vda/device/state', 'running\n');
  if (opts.diskAt) b.link('/dev/vda', opts.diskAt, true);
  else b.disk('/dev/vda', mib);
  b.file('/proc/mounts', 'rootfs / rootfs rw 0 0\n/dev/vda4 /config vfat ro,relatime 0 0\n/dev/vda9 /persist ext4 rw,relatime 0 0\n');
  return b;
}

/** What a disk image holds, as far as a write would show: `mib` MiB from `offMiB` and (unless only the content
 * counts) its modification time. */
function sha(file: string, o: { offMiB?: number; mib?: number; contentOnly?: boolean } = {}): string {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc((o.mib ?? 64) << 20);
  const n = fs.readSync(fd, buf, 0, buf.length, (o.offMiB ?? 0) << 20);
  fs.closeSync(fd);
  const content = createHash('sha256').update(buf.subarray(0, n)).digest('hex');
  return o.contentOnly ? content : `${content} ${fs.statSync(file).mtimeMs}`;
}

async function run(b: FakeBox, disks: Disk[]) {
  return runOn(b, storageSuite, profileWith('qemu-amd64.yaml', { storage: disks }));
}

describe('storage suite (fake boxes)', function () {
  this.timeout(120_000);
  const boxes: FakeBox[] = [];
  const box = (b: FakeBox) => (boxes.push(b), b);
  after(() => boxes.forEach((b) => b.close()));

  it('a disk of 0 bytes with no declared size fails: at least 1 GB is required, not "any readable size"', async () => {
    const b = box(eveBox(0));
    const r = await run(b, [{ name: 'disk0', device: 'vda' }]);
    expect(r['storage/disk0/present']!.outcome, r['storage/disk0/present']!.message).to.equal('fail');
    expect(r['storage/disk0/present']!.message).to.match(/0\.00 GB.*at least 1 GB/);
  });

  it('a disk smaller than declared fails (1.9 GB declared 2: no 10 % allowance), and the pass records declared and read sizes', async () => {
    const small = await run(box(eveBox(1812)), [{ name: 'disk0', device: 'vda', sizeGb: 2 }]);
    expect(small['storage/disk0/present']!.outcome).to.equal('fail');
    const ok = await run(box(eveBox(2048)), [{ name: 'disk0', device: 'vda', sizeGb: 2 }]);
    const p = ok['storage/disk0/present']!;
    expect(p.outcome, p.message).to.equal('pass');
    expect(p.facts).to.deep.include({ device: '/dev/vda', 'size-bytes': 2048 * 1024 * 1024, 'declared-gb': 2 });
  });

  it('read and write speed: direct I/O timed on the box (busybox dd: records and /proc/uptime), the write in a scratch file on /persist, the install disk untouched', async () => {
    const b = box(eveBox(2048));
    const image = path.join(b.root, 'dev', 'vda');
    fs.writeFileSync(image, Buffer.alloc(1 << 20, 7), { flag: 'r+' });
    const before = sha(image);
    const r = await run(b, [{ name: 'disk0', device: 'vda', minReadMBps: 1, minWriteMBps: 1 }]);
    const rd = r['storage/disk0/read-speed']!;
    expect(rd.outcome, rd.message).to.equal('pass');
    const rf = rd.facts!.read as Record<string, unknown>;
    expect(rf).to.include({ 'min-MBps': 1, clock: 'box /proc/uptime' });
    expect(rf.command).to.match(/^dd if=\/dev\/vda of=\/dev\/null bs=1M count=\d+ iflag=direct$/);
    expect(rf.bytes).to.be.at.least(64 * 1024 * 1024);
    const wr = r['storage/disk0/write-speed']!;
    expect(wr.outcome, wr.message).to.equal('pass');
    const wf = wr.facts!.write as Record<string, unknown>;
    expect(wf.command).to.match(/^dd if=\/tmp\/\S+ of=\/persist\/\S+ bs=1M count=\d+ oflag=direct conv=fsync$/);
    expect(wr.facts!.target).to.match(/scratch file on \/persist \(ext4 on \/dev\/vda9, the install disk\)/);
    expect(sha(image), 'the install disk was written').to.equal(before);
    expect(b.commands.filter((c) => /of=\/dev\/vda/.test(c))).to.deep.equal([]);
    expect(fs.readdirSync(path.join(b.root, 'persist')), 'scratch file left behind').to.deep.equal([]);
  });

  it('direct I/O refused (a disk whose open with O_DIRECT fails: EINVAL) is an error naming it, never a cached number', async () => {
    // sysfs files cannot be opened with O_DIRECT: the kernel's own EINVAL, as a driver or file system without it
    const b = box(eveBox(256, { diskAt: '/sys/kernel/uevent_seqnum' }));
    const r = await run(b, [{ name: 'disk0', device: 'vda', minReadMBps: 1 }]);
    const rd = r['storage/disk0/read-speed']!;
    expect(rd.outcome, rd.message).to.equal('error');
    expect(rd.message).to.match(/direct I\/O refused/);
    expect(b.commands.filter((c) => /dd if=\/dev\/vda /.test(c) && !/iflag=direct/.test(c)), 'a read of the disk without O_DIRECT').to.deep.equal([]);
  });

  it('speeds below the declared minimum fail, each with the measured rate', async () => {
    const r = await run(box(eveBox(2048)), [{ name: 'disk0', device: 'vda', minReadMBps: 1e6, minWriteMBps: 1e6 }]);
    expect(r['storage/disk0/read-speed']!.outcome).to.equal('fail');
    expect(r['storage/disk0/read-speed']!.message).to.match(/read at [\d.]+ MB\/s, below the declared 1000000/);
    expect(r['storage/disk0/write-speed']!.outcome).to.equal('fail');
  });

  it('EVE on ZFS (/persist a dataset, not a partition of the install disk): write speed is skipped naming why, the disk never written', async () => {
    const b = box(eveBox(2048));
    b.file('/proc/mounts', 'rootfs / rootfs rw 0 0\n/dev/vda4 /config vfat ro,relatime 0 0\npersist /persist zfs rw,xattr 0 0\n');
    const r = await run(b, [{ name: 'disk0', device: 'vda' }]);
    const wr = r['storage/disk0/write-speed']!;
    expect(wr.outcome).to.equal('skip');
    expect(wr.reason).to.equal('not-run');
    expect(wr.message).to.match(/install disk and \/persist is not a partition of it \(ZFS/);
    expect(b.commands.filter((c) => /of=\/dev\/vda|of=\/persist/.test(c))).to.deep.equal([]);
  });

  it('a disk that is not the install disk and has no partitions is written in place with its own bytes, which are back afterwards', async () => {
    const b = box(eveBox(2048));
    const dev = '/sys/devices/pci0000:00/0000:00:05.0/nvme/nvme0';
    b.dir(`${dev}/nvme0n1`).link('/sys/block/nvme0n1/device', dev).dir('/sys/class/nvme').link(`${dev}/subsystem`, '/sys/class/nvme');
    b.file('/sys/block/nvme0n1/size', `${1024 * 2048}\n`).dir('/sys/block/nvme0n1/holders').disk('/dev/nvme0n1', 1024);
    const image = path.join(b.root, 'dev', 'nvme0n1');
    const fd = fs.openSync(image, 'r+');
    fs.writeSync(fd, Buffer.from(Array.from({ length: 1 << 22 }, (_, i) => (i * 31) & 0xff)), 0, 1 << 22, 512 << 20);
    fs.closeSync(fd);
    const before = sha(image, { offMiB: 512, mib: 512, contentOnly: true });
    const r = await run(b, [{ name: 'data', device: 'nvme0n1', sizeGb: 1, bus: 'nvme' }]);
    const wr = r['storage/data/write-speed']!;
    expect(wr.outcome, wr.message).to.equal('pass');
    expect(wr.facts!.target).to.match(/in place/);
    expect(wr.facts!.restored).to.deep.include({ same: true });
    expect(sha(image, { offMiB: 512, mib: 512, contentOnly: true })).to.equal(before);
    expect(r['storage/data/bus']!.outcome, r['storage/data/bus']!.message).to.equal('pass');
  });

  it('the bus is read from sysfs: a disk declared nvme that sits on virtio fails, naming the device path', async () => {
    const r = await run(box(eveBox(2048)), [{ name: 'disk0', device: 'vda', bus: 'nvme' }]);
    const bus = r['storage/disk0/bus']!;
    expect(bus.outcome).to.equal('fail');
    expect(bus.message).to.match(/virtio.*not nvme/);
    expect(bus.facts).to.deep.include({ 'device-path': VIRTIO, bus: 'virtio', driver: 'virtio_blk', declared: 'nvme' });
  });

  it("health: EVE's /persist/SMART_details.json saying the disk failed its self-assessment fails; nothing exposed is a not-declared skip listing what was looked at, and a fail where smart: true is declared", async () => {
    const none = await run(box(eveBox(2048)), [{ name: 'disk0', device: 'vda' }]);
    expect(none['storage/disk0/health']!.outcome).to.equal('skip');
    expect(none['storage/disk0/health']!.reason).to.equal('not-declared');
    expect(none['storage/disk0/health']!.message).to.match(/no SMART/);
    expect(none['storage/disk0/health']!.facts).to.have.property('sysfs-state', 'running');
    const declared = await run(box(eveBox(2048)), [{ name: 'disk0', device: 'vda', smart: true }]);
    expect(declared['storage/disk0/health']!.outcome).to.equal('fail');
    expect(declared['storage/disk0/health']!.message).to.match(/declared to report its health/);
    const b = box(eveBox(2048));
    b.file('/persist/SMART_details.json', JSON.stringify({ device: { name: '/dev/vda', type: 'sat' }, smart_status: { passed: false } }));
    const bad = await run(b, [{ name: 'disk0', device: 'vda' }]);
    expect(bad['storage/disk0/health']!.outcome).to.equal('fail');
    expect(bad['storage/disk0/health']!.message).to.match(/SMART self-assessment: FAILED/);
  });

  it('proves every storage field of the profile schema', () => {
    expect(Object.keys(storageSuite.proves).sort()).to.deep.equal(['bus', 'device', 'minReadMBps', 'minWriteMBps', 'sizeGb', 'smart']);
  });
});

describe('dd output and sysfs paths (pure)', () => {
  it("GNU dd's and busybox dd's byte lines give bytes and dd's own seconds; records alone give bytes, no time", () => {
    expect(parseDdOutput('64+0 records in\n64+0 records out\n67108864 bytes (67 MB, 64 MiB) copied, 0.0452 s, 1.5 GB/s\n', 1 << 20)).to.deep.equal({ bytes: 67108864, seconds: 0.0452 });
    expect(parseDdOutput('64+0 records in\n64+0 records out\n67108864 bytes (64.0MB) copied, 0.123456 seconds, 519.0MB/s\n', 1 << 20)).to.deep.equal({ bytes: 67108864, seconds: 0.123456 });
    expect(parseDdOutput('64+0 records in\n63+1 records out\n', 1 << 20)).to.deep.equal({ bytes: 63 * (1 << 20) });
  });

  it('the bus of a block device from its resolved sysfs device path', () => {
    expect(busOfDevicePath('/sys/devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host0/target0:0:0/0:0:0:0')).to.equal('usb');
    expect(busOfDevicePath('/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0')).to.equal('sata');
    expect(busOfDevicePath('/sys/devices/pci0000:00/0000:00:05.0/nvme/nvme0')).to.equal('nvme');
    expect(busOfDevicePath('/sys/devices/pci0000:00/0000:00:04.0/virtio2')).to.equal('virtio');
    expect(busOfDevicePath('/sys/devices/pci0000:00/0000:00:04.0/virtio2/host0/target0:0:0/0:0:0:0')).to.equal('virtio');
    expect(busOfDevicePath('/sys/devices/platform/soc/fe340000.mmc/mmc_host/mmc0/mmc0:0001')).to.equal('mmc');
  });
});
