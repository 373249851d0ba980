// Cellular checks. No cellular modem can be emulated in QEMU here, so ModemManager's side is a stand-in: mmcli
// outputs in the -J format ModemManager prints for real modems (Quectel EM12-G connected, Sierra EM7455 without a
// SIM, Quectel EG25-G still searching), replayed by a stand-in `mmcli` in the fixture's wwan service, which lists
// modems in an order of its own (not that of their USB ports) and does what EVE's wwan agent does to a modem its
// network config does not list. The test names say so.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { matchModems, foundModem, type Modem } from '../../suites/cellular-match.ts';
import { bearerStatus, modemPaths, modemStatus, physAddrsOf } from '../../suites/mmcli.ts';
import { eveQual, fixtureRelease, profileVariant, repoRoot } from '../helpers/fixture-release.ts';

const recorded = (name: string, n = 0, port = n + 3) =>
  fs.readFileSync(path.join(repoRoot, 'tools', 'fixtures', 'rootfs', 'usr', 'share', 'fixture-mmcli', name), 'utf8').replace(/@N@/g, String(n)).replace(/@P@/g, String(port));

/** Modem N of a scenario as ModemManager would report it (at USB 2:<port>). */
const modemAt = (scenario: string, n: number, port = n + 3) => foundModem(`/org/freedesktop/ModemManager1/Modem/${n}`, modemStatus(recorded(`${scenario}.modem.json`, n, port)));
const decl = (m: Partial<Modem> & { name: string }): Modem => ({ sim: true, ...m });

describe('mmcli -J parsing (recorded-format outputs of real modems; stand-in, no modem here)', () => {
  it('reads a connected modem and its bearer', () => {
    const m = modemStatus(recorded('connected.modem.json'));
    expect(m).to.include({ state: 'connected', registration: 'home', operator: 'Telekom.de', model: 'EM12-G', manufacturer: 'Quectel' });
    expect(m.sim).to.equal('/org/freedesktop/ModemManager1/SIM/0');
    expect(m.bearers).to.deep.equal(['/org/freedesktop/ModemManager1/Bearer/0']);
    const b = bearerStatus(recorded('connected.bearer.json'));
    expect(b).to.deep.include({ connected: true, interface: 'wwan0', ipv4: '10.156.43.27', apn: 'internet' });
  });

  it('reads a modem without a SIM as failed with no SIM and no registration', () => {
    const m = modemStatus(recorded('sim-missing.modem.json'));
    expect(m).to.include({ state: 'failed', failedReason: 'sim-missing', sim: null, registration: null });
    expect(m.bearers).to.deep.equal([]);
  });

  it('reads a modem still searching as not registered', () => {
    expect(modemStatus(recorded('searching.modem.json'))).to.include({ state: 'searching', registration: 'searching' });
  });

  it('reads the modem list and rejects output that is not JSON', () => {
    expect(modemPaths('{"modem-list":["/org/freedesktop/ModemManager1/Modem/3"]}')).to.deep.equal(['/org/freedesktop/ModemManager1/Modem/3']);
    expect(modemPaths('{"modem-list":[]}')).to.deep.equal([]);
    expect(() => modemStatus("error: couldn't find modem")).to.throw(/did not print JSON/);
  });

  it("reads a modem's address as EVE's wwan agent does: USB <bus>:<port>, the PCI device above it, its net port", () => {
    const m = modemStatus(recorded('connected.modem.json'));
    expect(m.powerState).to.equal('on');
    expect(physAddrsOf(m)).to.deep.equal({ usb: '2:3', pci: '0000:00:14.0', interface: 'wwan0' });
    const pcie = { ...m, device: '/sys/devices/pci0000:00/0000:00:1c.0/0000:2c:00.0', ports: ['wwan0mbim0 (mbim)', 'wwan0 (net)'] };
    expect(physAddrsOf(pcie)).to.deep.equal({ usb: '', pci: '0000:2c:00.0', interface: 'wwan0' });
    const hub = { ...m, device: '/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.4' };
    expect(physAddrsOf(hub).usb).to.equal('1:1.4');
  });
});

describe('declared modems matched to what ModemManager lists, by identity (recorded-format outputs; stand-in, no modem here)', () => {
  // ModemManager lists an EM12-G at 2:7 first and an EM7455 at 2:3 second; an EG25-G at 2:5 last
  const found = [modemAt('connected', 0, 7), modemAt('sim-missing', 1, 3), modemAt('searching', 2, 5)];
  const pathOf = (declared: Modem[], name: string) => matchModems(declared, found).get(name)?.modem?.path ?? null;

  it('by USB address (and PCI), whatever the order of either list', () => {
    const declared = [decl({ name: 'a', usbAddr: '2:3' }), decl({ name: 'b', usbAddr: '2:7', pciAddr: '0000:00:14.0' })];
    expect(pathOf(declared, 'a')).to.equal('/org/freedesktop/ModemManager1/Modem/1');
    expect(pathOf(declared, 'b')).to.equal('/org/freedesktop/ModemManager1/Modem/0');
    expect(matchModems([decl({ name: 'c', usbAddr: '2:7', pciAddr: '0000:00:1c.0' })], found).get('c')).to.deep.include({ by: 'address', modem: null });
  });

  it('by interface where no address is declared', () => {
    expect(pathOf([decl({ name: 'a', interface: 'wwan2' })], 'a')).to.equal('/org/freedesktop/ModemManager1/Modem/2');
  });

  it('by model alone, as manufacturer and model or model, among the modems no other declaration is at', () => {
    const declared = [decl({ name: 'first', model: 'EM7455' }), decl({ name: 'second', model: 'quectel  em12-g' }), decl({ name: 'third', model: 'EG25-G' })];
    expect(declared.map((m) => pathOf(declared, m.name))).to.deep.equal(['/org/freedesktop/ModemManager1/Modem/1', '/org/freedesktop/ModemManager1/Modem/0', '/org/freedesktop/ModemManager1/Modem/2']);
    // the EM12-G at 2:7 is claimed by its address: a second EM12-G declared by model finds none
    const claimed = [decl({ name: 'lte', usbAddr: '2:7' }), decl({ name: 'other', model: 'EM12-G' })];
    expect(matchModems(claimed, found).get('other')).to.deep.include({ by: 'model', modem: null });
  });

  it('two modems of the declared model are not told apart by guessing', () => {
    const two = [...found, modemAt('connected', 3, 9)];
    const m = matchModems([decl({ name: 'lte', model: 'EM12-G' })], two).get('lte')!;
    expect(m.modem).to.equal(null);
    expect(m.why).to.match(/2 modems of model EM12-G .*cannot tell which is lte; declare its usbAddr, pciAddr or interface/);
  });

  it('a profile naming a modem by nothing, or two by one model alone, is refused', async () => {
    const none = profileVariant('qemu-amd64.yaml', 'modem-unnamed', [['  watchdog:', '  cellular:\n    - { name: modem0, apn: internet }\n  watchdog:']]);
    const r1 = await eveQual(['profile', 'validate', none]);
    expect(r1.exitCode, r1.all).to.equal(2);
    expect(r1.all).to.match(/usbAddr, pciAddr, interface or model/);
    const twice = profileVariant('qemu-amd64.yaml', 'modem-twice', [['  watchdog:', '  cellular:\n    - { name: a, model: EM12-G }\n    - { name: b, model: em12-g }\n  watchdog:']]);
    const r2 = await eveQual(['profile', 'validate', twice]);
    expect(r2.exitCode, r2.all).to.equal(2);
    expect(r2.all).to.match(/two modems are declared by model em12-g alone/);
  });
});

describe("cellular suite on the virtual box (stand-in mmcli in the fixture's wwan service)", function () {
  this.timeout(1_800_000);
  let tmp: string;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("stand-in ModemManager listing the modems in another order than declared: each is judged on its own modem, found by address, interface or model; EVE's wwan agent disables the radio of a modem the network config does not list, and eve-qual skips what it cannot list", async () => {
    const release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-cellular-'));
    // ModemManager lists: 0 EM12-G connected (2:3, wwan0), 1 EM7455 without a SIM (2:4), 2 EG25-G searching (2:5),
    // 3 EM12-G connected (2:6, wwan3), 4 EM7455 without a SIM at 2:9. The profile declares them in another order:
    // searching and nosim by model alone, modem3 by interface (declared as the wrong model, with an APN its network
    // refuses), modem0 by USB address, spare by USB address with no SIM.
    const profile = profileVariant('qemu-amd64.yaml', 'cellular', [
      ['  disk: vda\n', '  disk: vda\n  extraArgs: [eve_qual_fixture_modems=connected+sim-missing+searching+connected+sim-missing@9]\n'],
      [
        '  watchdog:',
        [
          '  cellular:',
          '    - { name: searching, model: EG25-G }',
          '    - { name: modem3, model: EM7455, apn: not.this.network, interface: wwan3 }',
          '    - { name: nosim, model: EM7455 }',
          '    - { name: modem0, model: Quectel EM12-G, apn: internet, usbAddr: "2:3", interface: wwan0 }',
          '    - { name: spare, model: EM7455, usbAddr: "2:9", sim: false }',
          '  watchdog:',
        ].join('\n'),
      ],
    ]);
    const out = path.join(tmp, 'run');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'cellular', '--out', out]);
    expect(r.exitCode, r.all).to.equal(1);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const tests = res.tests.filter((t) => t.capability === 'cellular');
    const o = Object.fromEntries(tests.map((t) => [t.id, t.outcome]));
    // judged on their own modems, not on ModemManager's first and third
    expect(o['cellular/nosim/sim'], 'nosim is the EM7455 without a SIM').to.equal('fail');
    expect(o['cellular/searching/registered'], 'searching is the unlisted EG25-G').to.equal('skip');
    const checks = ['detected', 'model', 'interface', 'sim', 'registered', 'data-bearer'];
    const row = (item: string, ...outcomes: string[]) => Object.fromEntries(checks.map((c, i) => [`cellular/${item}/${c}`, outcomes[i]]));
    expect(o).to.deep.equal({
      ...row('searching', 'pass', 'pass', 'skip', 'pass', 'skip', 'skip'),
      ...row('modem3', 'pass', 'fail', 'pass', 'pass', 'pass', 'fail'),
      ...row('nosim', 'pass', 'pass', 'skip', 'fail', 'skip', 'skip'),
      ...row('modem0', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass'),
      ...row('spare', 'pass', 'pass', 'skip', 'pass', 'skip', 'skip'),
    });
    const t = (id: string) => tests.find((x) => x.id === `cellular/${id}`)!;
    expect(t('nosim/detected').facts?.match).to.deep.include({ by: 'model', path: '/org/freedesktop/ModemManager1/Modem/1' });
    expect(t('spare/detected').facts?.match).to.deep.include({ by: 'address', path: '/org/freedesktop/ModemManager1/Modem/4', reported: { usb: '2:9', pci: '0000:00:14.0', interface: 'wwan4' } });
    expect(t('nosim/sim').message).to.contain('sim-missing');
    expect(t('spare/sim').facts?.sim).to.deep.equal({ declared: false, reported: null });
    expect(t('modem3/model').message).to.contain('modem3 is a Quectel EM12-G, EM7455 declared');
    expect(t('modem3/interface').facts?.interface).to.deep.include({ declared: 'wwan3', reported: 'wwan3' });
    const skipped = t('searching/registered');
    expect(skipped.reason).to.equal('not-run');
    expect(skipped.message).to.contain('does not list searching').and.contain('no usbAddr, pciAddr or interface');
    expect((skipped.facts?.modem as { powerState: string }).powerState).to.equal('low');
    expect(t('modem3/data-bearer').message).to.contain('Missing or unknown APN');
    expect(t('modem0/data-bearer').facts?.apn).to.deep.equal({ declared: 'internet', reported: 'internet' });
    // The config EVE was given, read back from the box's CONFIG, is in the facts.
    expect(t('modem0/registered').facts?.networkConfig).to.deep.include({ known: true, source: '/config/DevicePortConfig/override.json' });
    expect(t('modem0/registered').facts?.listedAs).to.deep.include({ logicalLabel: 'modem0', apn: 'internet' });
    // every pass carries the facts that prove it
    expect(tests.filter((x) => x.outcome === 'pass' && Object.keys(x.facts ?? {}).length === 0).map((x) => x.id)).to.deep.equal([]);
  });
});
