// A real box, as eve-qual sees one: a QEMU VM on a "lab bench" (test/helpers/lab-box.ts) reached only through what a
// real box's profile names — command power, a console on a TCP terminal server, SSH at a host and port — with the
// installer brought by a USB/SD mux (file commands) or by an operator (this test plays the operator).
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { startLabBench, type LabBench } from '../helpers/lab-box.ts';

interface ProfileParts {
  media: string;
  power?: string;
  ssh?: string;
}

function realProfile(dir: string, bench: LabBench, key: string, parts: ProfileParts): string {
  const cmd = (a: 'on' | 'off' | 'status') => JSON.stringify(bench.powerCommand(a));
  const text = [
    'box: { name: bench-amd64, vendor: Lab, model: QEMU on a bench, arch: amd64, kind: real, sample: BENCH-1 }',
    `console: { link: { type: tcp, host: 127.0.0.1, port: ${bench.consolePort}, protocol: raw }, device: ttyS0 }`,
    parts.ssh ?? `ssh: { host: 127.0.0.1, port: ${bench.sshPort}, key: { file: ${JSON.stringify(key)} }, hostKey: { recordTo: ${JSON.stringify(path.join(bench.state, 'known_host'))} } }`,
    parts.power ?? `power: { type: command, on: ${cmd('on')}, off: ${cmd('off')}, status: ${cmd('status')} }`,
    parts.media,
    'install: { disk: vda, deadlines: { installerStart: 180, install: 600, boot: 300, ssh: 180 } }',
    'hardware:',
    '  ethernet:',
    '    - { name: eth0, peer: 10.0.2.2 }',
    '',
  ].join('\n');
  const file = path.join(dir, `profile-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

function muxMedia(bench: LabBench): string {
  const s = bench.state;
  return `media: { type: usb-sd-mux, write: [cp, '{image}', ${JSON.stringify(path.join(s, 'stick.raw'))}], toBox: [touch, ${JSON.stringify(path.join(s, 'stick.attached'))}], toHost: [rm, -f, ${JSON.stringify(path.join(s, 'stick.attached'))}] }`;
}

describe('real boxes: a QEMU VM on a lab bench, driven through its profile', function () {
  this.timeout(1_800_000);
  let release: string;
  let tmp: string;
  let key: string;
  const benches: LabBench[] = [];

  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-realbox-'));
    key = path.join(tmp, 'lab_key');
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lab key', '-f', key]);
  });
  after(async () => {
    for (const b of benches) await b.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function bench(name: string): Promise<LabBench> {
    const b = await startLabBench(path.join(tmp, name));
    benches.push(b);
    return b;
  }

  describe('USB/SD mux media, command power', () => {
    let b: LabBench;
    let profile: string;
    before(async () => {
      b = await bench('mux');
      profile = realProfile(tmp, b, key, { media: muxMedia(b) });
    });

    it('eve-qual install writes the stick, switches it to the box, installs, and boots the disk', async () => {
      const out = path.join(tmp, 'run-mux');
      const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', out]);
      expect(r.exitCode, r.all).to.equal(0);
      expect(r.all).to.match(/media write: cp \S+installer\.raw/);
      expect(r.all).to.contain('0.0.0-fixture-kvm-amd64 installed on bench-amd64 (disk vda)');
      expect(b.stickAttached(), 'the mux is back on the runner').to.equal(false);
      const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
      for (const s of ['attach the installer', 'power on into the installer', 'installation completes (NOTICE)', 'detach the installer', 'power on from the installed disk', 'SSH answers with the injected key'])
        expect(steps).to.contain(s);
      expect(fs.readFileSync(path.join(out, 'console', 'bench-amd64.log'), 'utf8')).to.match(/Installing EVE-OS on device vda/);
      expect(fs.readFileSync(path.join(b.state, 'known_host'), 'utf8'), 'the new host key handed to the profile').to.match(/SHA256:/);
    });

    it('eve-qual run --no-install qualifies the running box over its console and SSH, switching nothing', async () => {
      const pidBefore = fs.readFileSync(path.join(b.state, 'qemu.pid'), 'utf8');
      const out = path.join(tmp, 'run-noinstall');
      const r = await eveQual(['run', '--no-install', '--profile', profile, '--release', release, '--capability', 'ethernet', '--out', out]);
      expect(r.exitCode, r.all).to.equal(0);
      expect(fs.readFileSync(path.join(b.state, 'qemu.pid'), 'utf8'), 'the box was not power cycled').to.equal(pidBefore);
      const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as { tests: Array<{ capability: string; outcome: string; message?: string }> };
      const by = (c: string) => results.tests.filter((t) => t.capability === c).map((t) => t.outcome);
      expect(by('install')).to.deep.equal(['skip']);
      expect(results.tests.find((t) => t.capability === 'install')!.message).to.contain('--no-install');
      expect(by('remote-shell')).to.deep.equal(['pass']);
      expect(by('console')).to.deep.equal(['pass']);
      expect(by('ethernet').length).to.be.greaterThan(0);
      expect(by('ethernet').every((o) => o === 'pass'), r.all).to.equal(true);
      expect(fs.readFileSync(path.join(out, 'steps.log'), 'utf8')).not.to.match(/power (on|off)/);
    });
    it('EVE makes a new SSH host key at every boot: after a power cycle, run --no-install learns it on the console and records it', async () => {
      const known = path.join(b.state, 'known_host');
      const fp = () => /SHA256:\S+/.exec(fs.readFileSync(known, 'utf8'))?.[0];
      const before = fp();
      // --no-install qualifies a box that is up: wait for the installed system's banner before eve-qual looks.
      const up = b.waitForOutput(/Edge Virtualization Engine/, 300_000);
      const cycled = await eveQual(['power', 'cycle', '--profile', profile]);
      expect(cycled.exitCode, cycled.all).to.equal(0);
      await up;
      const out = path.join(tmp, 'run-noinstall-cycled');
      const r = await eveQual(['run', '--no-install', '--profile', profile, '--release', release, '--capability', 'ethernet', '--out', out]);
      expect(r.exitCode, r.all).to.equal(0);
      expect(fs.readFileSync(path.join(out, 'steps.log'), 'utf8')).to.match(/ok SSH host key read on the console/);
      expect(fp(), 'the profile\'s recordTo file holds the new key').to.match(/^SHA256:/).and.not.equal(before);
      expect(fs.readFileSync(path.join(out, 'ssh_host_key'), 'utf8')).to.contain(fp()!);
    });
  });

  it('operator media: the operator writes and plugs the stick and boots the box; eve-qual sees the installer by itself', async () => {
    const b = await bench('operator');
    const profile = realProfile(tmp, b, key, { media: "media: { type: operator, port: 'front USB' }" });
    const out = path.join(tmp, 'run-operator');
    const run = execa(path.join(repoRoot, 'bin', 'eve-qual'), ['install', '--profile', profile, '--release', release, '--out', out], {
      cwd: repoRoot,
      reject: false,
      all: true,
      stdin: 'pipe',
      timeout: 900_000,
    });
    let seen = '';
    let wrote = false;
    let removed = false;
    const acting: Promise<unknown>[] = [];
    run.all!.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const dd = /sudo dd if=(\S+) of=\/dev\/sdX/.exec(seen);
      if (dd && !wrote) {
        wrote = true;
        // The operator: write the stick, plug it in, power the box on.
        acting.push(
          (async () => {
            fs.copyFileSync(dd[1]!, path.join(b.state, 'stick.raw'));
            fs.writeFileSync(path.join(b.state, 'stick.attached'), '');
            await execa(b.powerCommand('on')[0]!, b.powerCommand('on').slice(1));
          })(),
        );
      }
      if (!removed && /remove the installer stick from port front USB of bench-amd64/.test(seen)) {
        removed = true;
        fs.rmSync(path.join(b.state, 'stick.attached'));
        run.stdin!.write('\n');
      }
    });
    const r = await run;
    await Promise.all(acting);
    expect(r.exitCode, r.all).to.equal(0);
    expect(wrote && removed, 'eve-qual gave both instructions').to.equal(true);
    expect(r.all).to.contain('plug the stick into port front USB of bench-amd64');
    const steps = fs.readFileSync(path.join(out, 'steps.log'), 'utf8');
    expect(steps, 'the operator boots the installer, not eve-qual').not.to.contain('power on into the installer');
    expect(steps).to.contain('power on from the installed disk');
  });

  describe('bad input: exit 2 before anything is switched', () => {
    let b: LabBench;
    before(async () => {
      b = await bench('bad');
    });
    afterEach(() => expect(fs.existsSync(path.join(b.state, 'qemu.pid')), 'the box was never powered').to.equal(false));

    it('a real box without ssh.host', async () => {
      const profile = realProfile(tmp, b, key, { media: muxMedia(b), ssh: `ssh: { port: 22, hostKey: { recordTo: known } }` });
      const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', path.join(tmp, 'bad1')]);
      expect(r.exitCode, r.all).to.equal(2);
      expect(r.all).to.match(/ssh: a real box needs ssh\.host/);
    });

    it('an unknown placeholder in a mux command', async () => {
      const profile = realProfile(tmp, b, key, { media: 'media: { type: usb-sd-mux, write: [dd, "if={img}"], toBox: ["true"], toHost: ["true"] }' });
      const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', path.join(tmp, 'bad2')]);
      expect(r.exitCode, r.all).to.equal(2);
      expect(r.all).to.match(/media\.write: unknown placeholder \{img\}/);
    });

    it('--no-install without a lab key', async () => {
      const profile = realProfile(tmp, b, key, { media: muxMedia(b), ssh: `ssh: { host: 127.0.0.1, port: ${b.sshPort}, hostKey: { recordTo: known } }` });
      const r = await eveQual(['run', '--no-install', '--profile', profile, '--release', release, '--out', path.join(tmp, 'bad3')]);
      expect(r.exitCode, r.all).to.equal(2);
      expect(r.all).to.match(/ssh\.key: --no-install logs in with the lab's key/);
    });
  });

  it('a mux write that fails is a lab error (exit 3) naming the command, and the box is not powered into anything', async () => {
    const b = await bench('muxfail');
    const profile = realProfile(tmp, b, key, { media: `media: { type: usb-sd-mux, write: [cp, '{image}', /nonexistent/dir/stick.raw], toBox: ['true'], toHost: ['true'] }` });
    const r = await eveQual(['install', '--profile', profile, '--release', release, '--out', path.join(tmp, 'muxfail')]);
    expect(r.exitCode, r.all).to.equal(3);
    expect(r.all).to.match(/media write command `cp \S+ \/nonexistent\/dir\/stick\.raw` exited with code 1/);
    expect(fs.existsSync(path.join(b.state, 'qemu.pid')), 'never powered on').to.equal(false);
  });
});
