// A virtual box's life without an OS: UEFI firmware alone talks on the serial console, which is enough to see power
// on, a hang (QMP stop) caught by a deadline, reset, power off, the TPM's swtpm, and that SIGTERM to a runner leaves
// no qemu or swtpm behind.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QemuBox } from '../../lib/box/qemu-box.ts';
import { qemuCommand } from '../../lib/box/qemu-machine.ts';
import { DeadlineError } from '../../lib/errors.ts';
import { alive, runningProcesses } from '../helpers/procs.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIRMWARE_LINE = /BdsDxe|UEFI Interactive Shell|Shell> /;

describe('QEMU box life (amd64 firmware on the serial console)', function () {
  this.timeout(120_000);
  let dir: string;
  let box: QemuBox;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-qbox-'));
    box = new QemuBox({ name: 'fw-box', arch: 'amd64', stateDir: dir, consoleLog: path.join(dir, 'console.log'), tpm: true, memoryMb: 256 });
    await box.powerOn();
  });

  after(async () => {
    await box?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('powers on and shows firmware output on the console, with a swtpm beside it', async () => {
    await box.console.expect(FIRMWARE_LINE, { timeout: 60_000 });
    expect(await box.runState()).to.equal('running');
    expect(await box.power.state()).to.equal('on');
    expect(runningProcesses(/^swtpm$/).length).to.be.greaterThan(0);
  });

  it('a hung box (QMP stop) is caught by a deadline that shows the last console lines', async () => {
    await box.hang();
    expect(await box.runState()).to.equal('paused');
    box.console.discard();
    const err = await box.console.expect('never printed', { timeout: 1500, awaited: 'a sign of life' }).catch((e) => e);
    expect(err).to.be.instanceOf(DeadlineError);
    expect(err.message).to.contain('a sign of life').and.contain('fw-box');
    expect(err.tail.join('\n')).to.match(FIRMWARE_LINE);
    await box.powerOn(); // resumes a paused box
    expect(await box.runState()).to.equal('running');
  });

  it('reset reboots the firmware (its boot output shows again)', async () => {
    box.console.discard();
    await box.reset();
    await box.console.expect(FIRMWARE_LINE, { timeout: 60_000 });
  });

  it('powers off (QEMU and swtpm gone) and on again with the same console log', async () => {
    await box.powerOff();
    expect(await box.runState()).to.equal('off');
    expect(await box.power.state()).to.equal('off');
    await box.power.on();
    await box.console.expect(FIRMWARE_LINE, { timeout: 60_000 });
    const log = fs.readFileSync(path.join(dir, 'console.log'), 'utf8');
    expect(log.match(/# power on: /g)?.length).to.equal(2);
    expect(log).to.contain('# power off: QEMU exited');
  });

  it('poweredOff() resolves when the QEMU process ends', async () => {
    const off = box.poweredOff();
    await box.powerOff();
    expect(await off).to.be.a('string');
  });
});

describe('QEMU command line from declared hardware', () => {
  it('maps NICs, USB sticks, watchdog, TPM and disks to QEMU devices', () => {
    const { file, args } = qemuCommand({
      arch: 'amd64',
      memoryMb: 512,
      cpus: 1,
      accel: 'tcg',
      firmware: { code: 'C.fd', vars: 'V.fd' },
      disks: [
        { id: 'installer', file: 'i.raw', bus: 'usb', bootIndex: 0 },
        { id: 'target', file: 't.raw', bus: 'virtio', serial: 'disk0', bootIndex: 1 },
      ],
      nics: [
        { id: 'net-eth0', model: 'virtio-net-pci', forwards: [{ hostPort: 2222, guestPort: 22 }] },
        { id: 'net-eth1', model: 'e1000' },
      ],
      watchdog: { model: 'i6300esb', action: 'none' },
      tpmSocket: '/tmp/tpm.sock',
      consoleSocket: '/tmp/c.sock',
      qmpSocket: '/tmp/q.sock',
    });
    const line = args.join(' ');
    expect(file).to.equal('qemu-system-x86_64');
    expect(line).to.contain('-device qemu-xhci,id=xhci');
    expect(line).to.contain('-device usb-storage,bus=xhci.0,drive=installer,bootindex=0');
    expect(line).to.contain('-device virtio-blk-pci,drive=target,serial=disk0,bootindex=1');
    expect(line).to.contain('hostfwd=tcp:127.0.0.1:2222-:22');
    expect(line).to.contain('-device e1000,netdev=net-eth1');
    expect(line).to.contain('-device i6300esb -action watchdog=none');
    expect(line).to.contain('-device tpm-tis,tpmdev=tpm0');
    expect(line).to.contain('-chardev socket,id=console0,path=/tmp/c.sock');
  });

  it('uses the arm64 machine, CPU and sysbus TPM', () => {
    const { file, args } = qemuCommand({
      arch: 'arm64', memoryMb: 512, cpus: 1, accel: 'tcg', firmware: { code: 'C', vars: 'V' }, disks: [], nics: [],
      tpmSocket: '/tmp/t', consoleSocket: '/tmp/c', qmpSocket: '/tmp/q',
    });
    expect(file).to.equal('qemu-system-aarch64');
    expect(args.join(' ')).to.contain('virt,accel=tcg').and.contain('cortex-a57').and.contain('tpm-tis-device');
  });
});

describe('no QEMU or swtpm outlives a runner killed with SIGTERM', function () {
  this.timeout(120_000);
  it('cleans up on SIGTERM', async () => {
    const runner = execa(path.join(here, '..', '..', 'node_modules', '.bin', 'tsx'), [path.join(here, 'box-runner.ts')], {
      reject: false,
      buffer: true,
    });
    let qemuPid = 0;
    let swtpmPid = 0;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('runner did not report its box')), 90_000);
      runner.stdout!.on('data', (d: Buffer) => {
        const m = /READY qemu=(\d+) swtpm=(\d+)/.exec(d.toString());
        if (m) {
          qemuPid = Number(m[1]);
          swtpmPid = Number(m[2]);
          clearTimeout(t);
          resolve();
        }
      });
    });
    expect(alive(qemuPid)).to.equal(true);
    expect(alive(swtpmPid)).to.equal(true);
    runner.kill('SIGTERM');
    const r = await runner;
    expect(r.exitCode).to.equal(143);
    expect(alive(qemuPid), 'qemu still running').to.equal(false);
    expect(alive(swtpmPid), 'swtpm still running').to.equal(false);
  });
});
