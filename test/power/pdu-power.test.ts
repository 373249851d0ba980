// The PDU driver through a real pdudaemon (HTTP API on loopback, localcmdline driver) switching a fixture QEMU box
// (UEFI firmware only) on its outlet 1. pdudaemon cannot read an outlet back, so the driver says `unknown`, and power
// on is confirmed from the box's console; an outlet with nothing on it is caught that way.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QemuBox } from '../../lib/box/qemu-box.ts';
import { ConfigError, LabError } from '../../lib/errors.ts';
import { powerOnConfirmed } from '../../lib/power/confirm.ts';
import { PduPower } from '../../lib/power/pdu-power.ts';
import { freePort } from '../helpers/net.ts';
import { startPdudaemon, type Pdudaemon } from '../helpers/pdudaemon.ts';

const FIRMWARE_LINE = /BdsDxe|UEFI Interactive Shell|Shell> /;

describe('PDU power through pdudaemon switching a fixture QEMU box', function () {
  this.timeout(120_000);
  let dir: string;
  let box: QemuBox;
  let pdud: Pdudaemon;
  const log: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-pdu-'));
    box = new QemuBox({ name: 'pdu-box', arch: 'amd64', memoryMb: 256, stateDir: path.join(dir, 'box'), consoleLog: path.join(dir, 'console.log') });
    // The box's console (a socket QEMU connects to when it starts) is open before any power: nothing is missed.
    await box.console.open();
    pdud = await startPdudaemon({ dir, outlets: { 1: { on: () => box.powerOn(), off: () => box.powerOff() } } });
  });

  after(async () => {
    await pdud?.stop();
    await box?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const power = (over: Partial<ConstructorParameters<typeof PduPower>[0]> = {}) =>
    new PduPower({ daemon: pdud.url, hostname: pdud.pdu, port: 1, minOffMs: 1000, log: (l) => log.push(l), ...over });

  it('powers the box on through pdudaemon (firmware on its console); state is unknown, not guessed', async () => {
    const p = power();
    expect(p.readsState).to.equal(false);
    expect(p.where).to.equal(`pdu:fixture-pdu/1 via ${new URL(pdud.url).host}`);
    await p.on();
    expect(pdud.switched).to.deep.equal(['on 1']);
    await box.console.expect(FIRMWARE_LINE, { timeout: 90_000, awaited: 'firmware after the PDU switched the outlet on' });
    expect(await p.state()).to.equal('unknown');
  });

  it('powers it off (QEMU gone), then cycles it (off, minimum off time, on)', async () => {
    const p = power();
    await p.off();
    expect(await box.runState()).to.equal('off');
    box.console.discard();
    const started = Date.now();
    await p.cycle();
    expect(Date.now() - started).to.be.at.least(1000);
    expect(pdud.switched.slice(-3)).to.deep.equal(['off 1', 'off 1', 'on 1']);
    await box.console.expect(FIRMWARE_LINE, { timeout: 90_000, awaited: 'firmware after the cycle' });
    expect(await box.runState()).to.equal('running');
  });

  it('confirms power on from console traffic', async () => {
    const p = power();
    await p.off();
    expect(await powerOnConfirmed(p, box.console.link, { timeoutMs: 90_000 })).to.equal('console');
    await p.off();
  });

  it('an outlet that does not exist: pdudaemon accepts, and the missing console traffic is a lab error in time', async () => {
    const p = power({ port: 7, minOffMs: 0 });
    const started = Date.now();
    const err = await powerOnConfirmed(p, box.console.link, { timeoutMs: 3000 }).catch((e) => e);
    expect(pdud.switched.at(-1)).to.equal('on 7');
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('pdu:fixture-pdu/7').and.contain('no console traffic').and.contain(box.console.link.name);
    expect(Date.now() - started).to.be.below(6000);
  });

  it('a PDU pdudaemon does not know: a lab error with its answer', async () => {
    const err = await power({ hostname: 'no-such-pdu' }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('pdu:no-such-pdu/1').and.contain('HTTP 500 Invalid request').and.contain('pdudaemon.conf');
  });

  it('pdudaemon unreachable: a lab error naming it', async () => {
    const port = await freePort();
    const err = await power({ daemon: `http://127.0.0.1:${port}` }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`cannot reach pdudaemon at http://127.0.0.1:${port}`).and.contain('connection refused');
  });

  it('outlets that are not numbers are a config error before anything is sent', () => {
    expect(() => power({ port: 'A1' })).to.throw(ConfigError, /outlets are numbers/);
  });
});
