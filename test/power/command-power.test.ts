// Command power: the profile's on/off/status argv run without a shell, against a fixture relay script that keeps its
// outlet state in a file. Placeholders, state read back and confirmed, the minimum off time, and each way a lab
// command goes wrong (fails, hangs, is missing, prints nonsense) ending in time as a lab error naming the command.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, LabError } from '../../lib/errors.ts';
import { CommandPower } from '../../lib/power/command-power.ts';
import { createPower } from '../../lib/power/create-power.ts';

describe('command power (a fixture relay script)', function () {
  this.timeout(30_000);
  let dir: string;
  let relay: string;
  const stateOf = (outlet: string) => fs.readFileSync(path.join(dir, `outlet-${outlet}`), 'utf8').trim();

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-cmdpower-'));
    relay = path.join(dir, 'relay');
    // relay on|off|status OUTLET; `relay broken` fails like a relay board that is not plugged in.
    fs.writeFileSync(
      relay,
      [
        '#!/bin/sh',
        'd=$(dirname "$0")',
        'case "$1" in',
        '  on|off) echo "$1" > "$d/outlet-$2"; echo "outlet $2 switched $1";;',
        '  status) if [ -f "$d/outlet-$2" ]; then echo "Outlet $2: $(cat "$d/outlet-$2")"; else echo "Outlet $2: off"; fi;;',
        '  garbled) echo "Outlet $2: ???";;',
        '  broken) echo "relay: /dev/ttyACM0: No such device" >&2; exit 3;;',
        '  hang) exec sleep 600;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const power = (over: Partial<ConstructorParameters<typeof CommandPower>[0]> = {}) =>
    new CommandPower({ on: [relay, 'on', '{outlet}'], off: [relay, 'off', '{outlet}'], status: [relay, 'status', '{outlet}'], vars: { outlet: '3' }, minOffMs: 400, confirmTimeoutMs: 3000, ...over });

  it('switches on and off with placeholders filled, reading the state back', async () => {
    const p = power();
    expect(p.readsState).to.equal(true);
    expect(await p.state()).to.equal('off');
    await p.on();
    expect(stateOf('3')).to.equal('on');
    expect(await p.state()).to.equal('on');
    await p.off();
    expect(stateOf('3')).to.equal('off');
  });

  it('cycles with the minimum off time; without a status command the state is unknown', async () => {
    const p = power({ status: undefined, minOffMs: 800 });
    expect(p.readsState).to.equal(false);
    expect(await p.state()).to.equal('unknown');
    const started = Date.now();
    await p.cycle();
    expect(Date.now() - started).to.be.at.least(800);
    expect(stateOf('3')).to.equal('on');
  });

  it('a command that fails: a lab error with its exit code and what it said', async () => {
    const err = await power({ on: [relay, 'broken'], status: undefined }).on().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain(`command:${relay}`).and.contain('exited with code 3').and.contain('No such device');
  });

  it('a command that hangs: killed at its deadline, a lab error', async () => {
    const started = Date.now();
    const err = await power({ off: [relay, 'hang'], commandTimeoutMs: 1000 }).off().catch((e) => e);
    expect(err).to.be.instanceOf(LabError);
    expect(err.message).to.contain('did not finish within 1 s (killed)');
    expect(Date.now() - started).to.be.below(3000);
  });

  it('a status that says neither on nor off, and a missing command: lab errors', async () => {
    const garbled = await power({ status: [relay, 'garbled', '3'] }).state().catch((e) => e);
    expect(garbled).to.be.instanceOf(LabError);
    expect(garbled.message).to.contain('printed neither "on" nor "off"');
    const missing = await power({ on: [path.join(dir, 'no-such-relay')], status: undefined }).on().catch((e) => e);
    expect(missing).to.be.instanceOf(LabError);
    expect(missing.message).to.contain('command not found');
  });

  it('an unknown placeholder is a config error before anything runs; arguments are never a shell line', async () => {
    expect(() => power({ on: [relay, 'on', '{socket}'] })).to.throw(ConfigError, /unknown placeholder \{socket\}/);
    // A shell metacharacter is just an argument.
    await power({ on: [relay, 'on', '3;touch pwned'], status: undefined }).on();
    expect(fs.existsSync(path.join(dir, 'pwned'))).to.equal(false);
    expect(fs.existsSync(path.join(dir, 'outlet-3;touch pwned'))).to.equal(true);
  });

  it('createPower builds it from a profile section with {box} and {profileDir}', async () => {
    const p = createPower(
      { type: 'command', on: ['{profileDir}/relay', 'on', '{box}'], off: ['{profileDir}/relay', 'off', '{box}'], status: ['./relay', 'status', '{box}'], minOffSeconds: 0.1 },
      { profileDir: dir, box: 'gw1' },
    );
    await p.on();
    expect(stateOf('gw1')).to.equal('on');
    expect(await p.state()).to.equal('on');
  });
});
