// The ethernet suite, through `eve-qual run --capability ethernet` on the virtual box as a user runs it, against what
// EVE does:
//   nim gives a port the address its network config says (CONFIG's DevicePortConfig: Dhcp 4 client, 1 static, else
//   none; without one DHCP on every port), and publishes it in /run/nim/DeviceNetworkStatus/global.json; dhcpcd's
//   address carries the lease's lifetime (valid_lft N sec), a static one none ("forever");
//   ports are kethN (the link) under a bridge ethN (the address);
//   the debug container, where SSH lands, has socat: the suite sends a bounded transfer bound to the port to
//   eve-qual's traffic peer on the runner, which counts what arrived; the port's tx_bytes must grow by as much.
// Three runs: the healthy profile (every check passes, with its facts); one box seeded with a port per defect (a
// static address, a slower link than declared, a port EVE runs no DHCP client on, a pulled cable) where exactly those
// ports' checks fail; NICs in another order than declared (only the model checks fail).
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrafficPeer } from '../../lib/lab/traffic-peer.ts';
import type { RunResults, TestResult } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease, releaseWithConfig, profileVariant } from '../helpers/fixture-release.ts';
import { runningProcesses } from '../helpers/procs.ts';

const MIB4 = 4 << 20;

function results(out: string): RunResults {
  return JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
}

function ethernetTests(res: RunResults): TestResult[] {
  return res.tests.filter((t) => t.id.startsWith('ethernet/'));
}

function byId(res: RunResults, id: string): TestResult {
  const t = res.tests.find((x) => x.id === id);
  expect(t, `${id} in ${res.tests.map((x) => x.id).join(', ')}`).to.not.equal(undefined);
  return t!;
}

const PORT_CHECKS = ['present', 'model', 'carrier', 'dhcp', 'speed', 'duplex', 'traffic'];

describe('ethernet suite on the virtual box (EVE behaviours)', function () {
  this.timeout(2_400_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-eth-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => expect(runningProcesses(/^qemu-system/, tmp), 'a qemu process was left behind').to.deep.equal([]));

  it('the traffic peer counts what arrived itself: a whole transfer is complete, a short one is not', async () => {
    const peer = await TrafficPeer.start('127.0.0.1');
    try {
      const whole = await execa('sh', ['-c', `{ printf 'EVEQUAL whole ${MIB4}\\n'; head -c ${MIB4} /dev/zero; } | socat -t 30 - TCP:127.0.0.1:${peer.port}`]);
      expect(whole.stdout).to.equal(`OK ${MIB4}`);
      const w = await peer.transfer('whole', 5000);
      expect(w).to.include({ bytes: MIB4, announced: MIB4, complete: true });
      expect(w.seconds).to.be.greaterThan(0);
      await execa('sh', ['-c', `{ printf 'EVEQUAL short 1000\\n'; head -c 10 /dev/zero; } | socat -t 1 - TCP:127.0.0.1:${peer.port}`]);
      expect(await peer.transfer('short', 5000)).to.include({ bytes: 10, announced: 1000, complete: false });
      await peer.transfer('never', 200).then(
        () => expect.fail('a transfer nobody sent was reported'),
        (e: Error) => expect(e.message).to.contain('"never"'),
      );
    } finally {
      await peer.close();
    }
  });

  it('passes every check of both ports when the box matches its profile, each with the facts that prove it', async () => {
    const out = path.join(tmp, 'healthy');
    const r = await eveQual(['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--capability', 'ethernet', '--out', out]);
    const res = results(out);
    const eth = ethernetTests(res);
    expect(eth.filter((t) => t.outcome !== 'pass').map((t) => `${t.id}: ${t.outcome} ${t.message ?? ''}`), r.all).to.deep.equal([]);
    expect(r.exitCode, r.all).to.equal(0);
    expect(eth.map((t) => t.id).sort()).to.deep.equal(
      [...PORT_CHECKS.filter((c) => c !== 'speed' && c !== 'duplex').map((c) => `ethernet/eth0/${c}`), ...PORT_CHECKS.map((c) => `ethernet/eth1/${c}`)].sort(),
    );
    for (const t of eth) expect(t.facts, t.id).to.have.property('declared');
    // EVE's layout: the link on keth1, the address on the bridge eth1
    expect(byId(res, 'ethernet/eth1/present').facts!.interfaces).to.deep.equal({ phys: 'keth1', addr: 'eth1' });
    expect(byId(res, 'ethernet/eth0/model').facts!['keth0.driver']).to.equal('virtio_net');
    expect(byId(res, 'ethernet/eth1/model').facts!['keth1.driver']).to.equal('e1000');
    expect(byId(res, 'ethernet/eth1/speed').facts!['keth1.speed']).to.equal('1000');
    expect(byId(res, 'ethernet/eth1/duplex').facts!['keth1.duplex']).to.equal('full');
    for (const port of ['eth0', 'eth1']) {
      const dhcp = byId(res, `ethernet/${port}/dhcp`).facts!;
      expect((dhcp.lease as { validLftSeconds: number }).validLftSeconds, port).to.be.greaterThan(0);
      expect((dhcp.DeviceNetworkStatus as { Dhcp: number }).Dhcp, port).to.equal(4);
      const traffic = byId(res, `ethernet/${port}/traffic`).facts!;
      expect(traffic.received, port).to.include({ bytes: MIB4, complete: true });
      expect((traffic[`k${port}.tx_bytes`] as { grew: number }).grew, port).to.be.at.least(MIB4);
    }
  });

  it('fails exactly the checks of the seeded ports: a static address (not DHCP), a slower link than declared, no DHCP client (Dhcp none), a pulled cable', async () => {
    const dpc = {
      Version: 1,
      TimePriority: '2026-01-01T00:00:00Z',
      Ports: [
        { IfName: 'eth0', Phylabel: 'eth0', Logicallabel: 'eth0', IsMgmt: true, Dhcp: 4, Cost: 0 },
        { IfName: 'eth1', Phylabel: 'eth1', Logicallabel: 'eth1', IsMgmt: true, Dhcp: 1, AddrSubnet: '10.0.2.50/24', Gateway: '10.0.2.2', Cost: 0 },
        { IfName: 'eth2', Phylabel: 'eth2', Logicallabel: 'eth2', IsMgmt: true, Dhcp: 4, Cost: 0 },
        { IfName: 'eth3', Phylabel: 'eth3', Logicallabel: 'eth3', IsMgmt: true, Dhcp: 2, Cost: 0 },
        { IfName: 'eth4', Phylabel: 'eth4', Logicallabel: 'eth4', IsMgmt: true, Dhcp: 4, Cost: 0 },
      ],
    };
    const rel = await releaseWithConfig(release, path.join(tmp, 'seeded-release'), { 'DevicePortConfig/override.json': JSON.stringify(dpc, null, 2) });
    const profile = profileVariant('qemu-amd64.yaml', 'eth-seeded', [
      [
        /    - \{ name: eth1, [^\n]*\n/,
        // the kernel names NICs in driver probe order (virtio_net, e1000, e1000e), so the models go in that order
        '    - { name: eth1, model: e1000, cabled: true, dhcp: true, speedMbps: 1000, duplex: full }\n' +
          '    - { name: eth2, model: e1000, cabled: true, dhcp: true, speedMbps: 100, duplex: full, minThroughputMbps: 100000 }\n' +
          '    - { name: eth3, model: e1000, cabled: true, dhcp: true }\n' +
          '    - { name: eth4, model: e1000e, cabled: true, dhcp: true, speedMbps: 1000, duplex: full }\n',
      ],
      ['  defects: []', '  defects:\n    - { unplug: ethernet.eth4 }'],
    ]);
    const out = path.join(tmp, 'seeded');
    const r = await eveQual(['run', '--profile', profile, '--release', rel, '--capability', 'ethernet', '--out', out]);
    const res = results(out);
    const eth = ethernetTests(res);
    const failed = eth.filter((t) => t.outcome !== 'pass').map((t) => `${t.id} ${t.outcome}`);
    expect(failed.sort(), r.all).to.deep.equal(
      ['eth1/dhcp', 'eth2/speed', 'eth2/traffic', 'eth3/dhcp', 'eth4/carrier', 'eth4/dhcp', 'eth4/speed', 'eth4/duplex', 'eth4/traffic'].map((id) => `ethernet/${id} fail`).sort(),
    );
    expect(r.exitCode, r.all).to.equal(1);
    // the static address is there and works (traffic passed): what fails is that no lease gave it
    const dhcp = byId(res, 'ethernet/eth1/dhcp');
    expect(dhcp.message).to.match(/Dhcp 1|valid_lft forever/);
    expect(JSON.stringify(dhcp.facts)).to.contain('10.0.2.50/24');
    // a port EVE's network config gives Dhcp 2 (none) gets no DHCP client, so no address (EVE's status says why)
    expect(byId(res, 'ethernet/eth3/dhcp').message).to.contain('eth3 has no IPv4 address after 60 s; EVE\'s status gives it Dhcp 2');
    expect(byId(res, 'ethernet/eth4/carrier').facts!['keth4.carrier']).to.not.equal('1');
    expect(byId(res, 'ethernet/eth4/model').facts!['keth4.driver']).to.equal('e1000e');
    expect(byId(res, 'ethernet/eth2/speed').facts!['keth2.speed']).to.equal('1000');
    expect(byId(res, 'ethernet/eth2/traffic').message).to.contain('under the declared 100000');
    // eth2's transfer arrived whole and left by keth2 (its counter grew): only the declared rate was not met
    const t2 = byId(res, 'ethernet/eth2/traffic').facts!;
    expect(t2.received).to.include({ bytes: MIB4, complete: true });
    expect((t2['keth2.tx_bytes'] as { grew: number }).grew).to.be.at.least(MIB4);
  });

  it('fails the model check of ports whose NIC is not the declared one (the kernel names NICs in driver probe order)', async () => {
    // declared eth1 e1000e, eth2 e1000: the VM gets the NICs in that order, but e1000 probes first and takes eth1
    const profile = profileVariant('qemu-amd64.yaml', 'eth-swapped', [
      [/    - \{ name: eth1, [^\n]*\n/, '    - { name: eth1, model: e1000e, cabled: true, dhcp: true }\n    - { name: eth2, model: e1000, cabled: true, dhcp: true }\n'],
    ]);
    const out = path.join(tmp, 'swapped');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--capability', 'ethernet', '--out', out]);
    const res = results(out);
    const failed = ethernetTests(res).filter((t) => t.outcome !== 'pass').map((t) => `${t.id} ${t.outcome}`);
    expect(failed.sort(), r.all).to.deep.equal(['ethernet/eth1/model fail', 'ethernet/eth2/model fail']);
    expect(byId(res, 'ethernet/eth1/model').facts!['keth1.driver']).to.equal('e1000');
    expect(byId(res, 'ethernet/eth2/model').facts!['keth2.driver']).to.equal('e1000e');
    expect(r.exitCode, r.all).to.equal(1);
  });
});
