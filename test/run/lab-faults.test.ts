// Nothing checked is never success (issue 15, item 8): a real box on loopback endpoints whose lab fails it in one
// place each: a power command that fails, a media write whose device does not exist, a BMC that refuses the
// credentials, an sshd that refuses the key. Each run ends with exit 3; the step that met the fault is `error` in
// results.json with the cause (the command and its exit status, the device and errno, host:port), and so is the
// check it stopped, with reason lab; every later check is skipped as not run; junit.xml carries the cause in an
// <error>, and the summary `eve-qual run` prints names it.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import xml2js from 'xml2js';
import type { RunResults } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';
import { startIpmiSim, type IpmiSim } from '../helpers/ipmi-sim.ts';
import { freePort } from '../helpers/net.ts';
import { startSer2net, type Ser2net } from '../helpers/ser2net.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { resolveRelease } from '../../lib/release/resolve-release.ts';
import { plannedInstallChecks } from '../../lib/run/install-tests.ts';
import { plannedChecks } from '../../lib/suite-runtime/load-suites.ts';
import type { SuiteContext } from '../../lib/suite-runtime/suite-context.ts';
import { ALL_SUITES } from '../../suites/index.ts';
import { generateKey, startSshd, type Sshd } from '../helpers/sshd.ts';

interface Parts {
  console?: string;
  ssh?: string;
  power?: string;
  media?: string;
}

interface Fault {
  /** The step of results.json that met the fault. */
  step: string;
  /** The check it stopped. */
  test: string;
  /** What the cause must name, on the step, the check, the JUnit <error> and the summary line. */
  cause: RegExp[];
}

interface JUnitCase {
  $: { classname: string; name: string };
  error?: Array<{ $: { type: string; message: string } }>;
}

describe('lab faults on a real box: each an error with its cause, never a pass, exit 3', function () {
  this.timeout(120_000);
  let tmp: string;
  let release: string;
  let key: string;
  let consolePort: number;
  // A terminal server that accepts and stays silent: the box behind it is off.
  const terminalServer = net.createServer((s) => s.on('error', () => undefined));
  const sims: IpmiSim[] = [];
  const sshds: Sshd[] = [];
  const ser2nets: Ser2net[] = [];

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-labfault-'));
    release = await fixtureRelease();
    key = path.join(tmp, 'key');
    await generateKey(key);
    await new Promise<void>((resolve) => terminalServer.listen(0, '127.0.0.1', resolve));
    consolePort = (terminalServer.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sims) await s.stop();
    for (const s of sshds) await s.stop();
    for (const s of ser2nets) await s.stop();
    await new Promise<void>((resolve) => terminalServer.close(() => resolve()));
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function profile(name: string, parts: Parts): string {
    const file = path.join(tmp, `${name}.yaml`);
    fs.writeFileSync(
      file,
      [
        `box: { name: ${name}, vendor: Lab, model: Bench, arch: amd64, kind: real, sample: F-1 }`,
        parts.console ?? `console: { link: { type: tcp, host: 127.0.0.1, port: ${consolePort}, protocol: raw, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }`,
        parts.ssh ?? `ssh: { host: 127.0.0.1, port: 22, key: { file: ${JSON.stringify(key)} }, hostKey: { recordTo: ${JSON.stringify(path.join(tmp, `${name}.known`))} } }`,
        parts.power ?? "power: { type: command, on: ['true'], off: ['true'] }",
        parts.media ?? "media: { type: usb-sd-mux, write: ['true'], toBox: ['true'], toHost: ['true'] }",
        'install: { disk: vda, deadlines: { installerStart: 5, install: 5, boot: 5, ssh: 2 } }',
        'hardware:',
        '  ethernet:',
        '    - { name: eth0 }',
        '',
      ].join('\n'),
    );
    return file;
  }

  /** Run the box's profile and hold every record of the run to the fault. */
  async function expectLabFault(file: string, f: Fault, extra: string[] = []): Promise<RunResults> {
    const out = path.join(tmp, `run-${path.basename(file, '.yaml')}`);
    const r = await eveQual(['run', '--profile', file, '--release', release, '--out', out, ...extra]);
    expect(r.exitCode, r.all).to.equal(3);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    const shown = JSON.stringify({ steps: res.steps, tests: res.tests.map((t) => [t.id, t.outcome, t.reason, t.message]) }, null, 1);
    expect(res.tests.filter((t) => t.outcome === 'fail'), shown).to.deep.equal([]);

    const step = res.steps.find((s) => s.name === f.step);
    expect(step?.outcome, shown).to.equal('error');
    for (const c of f.cause) expect(step!.detail, `step ${f.step}`).to.match(c);

    const at = res.tests.findIndex((t) => t.id === f.test);
    expect(at, shown).to.be.at.least(0);
    const stopped = res.tests[at]!;
    expect([stopped.outcome, stopped.reason], shown).to.deep.equal(['error', 'lab']);
    for (const c of f.cause) expect(stopped.message, `test ${f.test}`).to.match(c);
    expect(res.tests.slice(0, at).filter((t) => t.outcome !== 'pass' && t.reason !== 'not-run'), shown).to.deep.equal([]);
    for (const t of res.tests.slice(at + 1)) expect([t.id, t.outcome, t.reason], shown).to.deep.equal([t.id, 'skip', 'not-run']);
    expect(res.tests.filter((t) => t.outcome === 'error').map((t) => t.id), shown).to.deep.equal([f.test]);

    const junit = (await xml2js.parseStringPromise(fs.readFileSync(path.join(out, 'junit.xml'), 'utf8'))) as { testsuites: { testsuite: Array<{ testcase?: JUnitCase[] }> } };
    const cases = junit.testsuites.testsuite.flatMap((s) => s.testcase ?? []);
    const errored = cases.find((c) => c.$.classname === stopped.capability && c.$.name === stopped.name);
    expect(errored?.error?.[0]?.$.type, JSON.stringify(cases.map((c) => c.$))).to.equal('lab');
    for (const c of f.cause) expect(errored!.error![0]!.$.message, 'junit <error message>').to.match(c);

    expect(r.stdout).to.match(new RegExp(`\\b${res.tests.filter((t) => t.outcome === 'pass').length} passed, 0 failed, 1 errors\\b`));
    const summary = r.stdout.split('\n').find((l) => l.trim().startsWith(`! ${stopped.capability}: ${stopped.name}:`));
    expect(summary, r.stdout).to.not.equal(undefined);
    for (const c of f.cause) expect(summary, 'summary line').to.match(c);

    // Every check the run planned is in the record: the suites' too, as not run.
    const planned = [...plannedInstallChecks().map((c) => c.id), ...plannedChecks(ALL_SUITES, { profile: loadProfile(file).profile } as SuiteContext).map((c) => c.id)];
    expect(res.tests.map((t) => t.id), shown).to.deep.equal(planned);
    return res;
  }

  it('a terminal server that refuses the console: host, port and the refusal', async () => {
    const port = await freePort();
    const file = profile('console-refused', { console: `console: { link: { type: tcp, host: 127.0.0.1, port: ${port}, protocol: raw, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }` });
    await expectLabFault(file, { step: 'open the box and its console', test: 'install/installer-completes', cause: [new RegExp(`127\\.0\\.0\\.1:${port}`), /ECONNREFUSED|connection refused/] });
  });

  it('a terminal server that resets the console under the install, and every reconnection: host, port and the reset', async () => {
    // The first connection is the console, held open; the power-on command connects too (the relay shares the
    // terminal server) and from then on the server drops every connection with a TCP reset, the console's included.
    let console: net.Socket | undefined;
    const resetter = net.createServer((s) => {
      if (!console) {
        console = s.on('error', () => undefined);
        return;
      }
      console.resetAndDestroy();
      s.resetAndDestroy();
    });
    await new Promise<void>((resolve) => resetter.listen(0, '127.0.0.1', resolve));
    const port = (resetter.address() as net.AddressInfo).port;
    try {
      const file = profile('console-reset', {
        console: `console: { link: { type: tcp, host: 127.0.0.1, port: ${port}, protocol: raw, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }`,
        power: `power: { type: command, on: [socat, -u, /dev/null, 'TCP:127.0.0.1:${port}'], off: ['true'], minOffSeconds: 0.1 }`,
      });
      await expectLabFault(file, { step: 'installer starts', test: 'install/installer-completes', cause: [new RegExp(`127\\.0\\.0\\.1:${port}`), /ECONNRESET|reset/] });
    } finally {
      await new Promise<void>((resolve) => resetter.close(() => resolve()));
    }
  });

  it('a terminal server whose serial adapter is gone (ser2net: Device open failure): host, port and what it said', async () => {
    const ser2net = await startSer2net({ dir: tmp, device: path.join(tmp, 'ttyUSB-unplugged'), port: await freePort(), accepter: 'raw' });
    ser2nets.push(ser2net);
    const file = profile('console-unplugged', { console: `console: { link: { type: tcp, host: 127.0.0.1, port: ${ser2net.port}, protocol: raw, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }` });
    await expectLabFault(file, { step: 'installer starts', test: 'install/installer-completes', cause: [new RegExp(`127\\.0\\.0\\.1:${ser2net.port}`), /Device open failure/] });
  });

  it('a power command that fails: the command, its exit status and what it said', async () => {
    const relay = path.join(tmp, 'relay.sh');
    fs.writeFileSync(relay, '#!/bin/sh\necho "relay board 3: no answer on /dev/ttyRELAY" >&2\nexit 7\n', { mode: 0o755 });
    const file = profile('power-fails', { power: `power: { type: command, on: ['true'], off: [${JSON.stringify(relay)}, 'off', '3'] }` });
    await expectLabFault(file, {
      step: 'power off the box',
      test: 'install/installer-completes',
      cause: [/relay\.sh off 3/, /exited with code 7/, /relay board 3: no answer/],
    });
  });

  it('a media write whose device does not exist: the device path and errno', async () => {
    const device = path.join(tmp, 'no-such-dir', 'sdX');
    const file = profile('media-fails', { media: `media: { type: usb-sd-mux, write: [dd, 'if={image}', 'of=${device}', 'bs=4M'], toBox: ['true'], toHost: ['true'] }` });
    await expectLabFault(file, {
      step: 'attach the installer',
      test: 'install/installer-completes',
      cause: [new RegExp(device.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), /No such file or directory|ENOENT/, /exited with code 1/],
    });
  });

  it('a media write that fails part way (the card is full: /dev/full): the device and errno, not dd\'s byte count', async () => {
    const file = profile('media-full', { media: "media: { type: usb-sd-mux, write: [dd, 'if={image}', of=/dev/full, bs=1M], toBox: ['true'], toHost: ['true'] }" });
    await expectLabFault(file, { step: 'attach the installer', test: 'install/installer-completes', cause: [/\/dev\/full/, /No space left on device/, /exited with code 1/] });
  });

  it('a BMC that refuses the credentials: host, port and the refusal', async function () {
    const sim = await startIpmiSim({ dir: fs.mkdtempSync(path.join(tmp, 'bmc-')), password: 'right-password', serial: 'none' });
    sims.push(sim);
    const secret = path.join(tmp, 'bmc-password');
    fs.writeFileSync(secret, 'wrong-password\n');
    const file = profile('bmc-refuses', { power: `power: { type: ipmi, host: 127.0.0.1, port: ${sim.port}, user: ${sim.user}, password: { file: ${JSON.stringify(secret)} }, cipherSuite: 3 }` });
    await expectLabFault(file, {
      step: 'power off the box',
      test: 'install/installer-completes',
      cause: [new RegExp(`127\\.0\\.0\\.1:${sim.port}`), /authentication failed/, /chassis power/],
    });
  });

  /** A console that reaches a real shell on a pty whose /run/eve-release and /etc/ssh are the box's (a mount
   * namespace of its own), as an installed EVE's console shows them; host keys from `hostKeyPub`. */
  async function shellConsole(hostKeyPub: string): Promise<string> {
    const eveRelease = (await resolveRelease(release, 'amd64')).expectedEveRelease;
    const script = 'mount -t tmpfs eq /run && echo "$1" > /run/eve-release && mount -t tmpfs eq /etc/ssh && cp "$2" /etc/ssh/ && exec script -qfc "sh -i" /dev/null';
    const command = ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'console', eveRelease, hostKeyPub];
    return `console: { link: { type: process, command: ${JSON.stringify(command)}, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }`;
  }

  it('an sshd that refuses the key, on a box whose console shell works (--no-install): user@host:port and the refusal', async () => {
    const sshd = await startSshd();
    sshds.push(sshd);
    const file = profile('ssh-refuses', {
      console: await shellConsole(path.join(sshd.dir, 'ssh_host_ed25519_key.pub')),
      ssh: `ssh: { host: 127.0.0.1, port: ${sshd.port}, user: ${sshd.user}, key: { file: ${JSON.stringify(key)} }, hostKey: { recordTo: ${JSON.stringify(path.join(tmp, 'ssh-refuses.known'))} } }`,
    });
    await expectLabFault(
      file,
      { step: 'SSH answers with the injected key', test: 'remote-shell/ssh-key', cause: [new RegExp(`${sshd.user}@127\\.0\\.0\\.1:${sshd.port}`), /authentication refused/] },
      ['--no-install'],
    );
  });

  it('an SSH port that refuses connections, on a box whose console shell works (--no-install): host, port and the refusal', async () => {
    const hostKey = path.join(fs.mkdtempSync(path.join(tmp, 'hostkey-')), 'ssh_host_ed25519_key');
    await generateKey(hostKey);
    const port = await freePort();
    const file = profile('ssh-closed', {
      console: await shellConsole(`${hostKey}.pub`),
      ssh: `ssh: { host: 127.0.0.1, port: ${port}, key: { file: ${JSON.stringify(key)} }, hostKey: { recordTo: ${JSON.stringify(path.join(tmp, 'ssh-closed.known'))} } }`,
    });
    await expectLabFault(file, { step: 'SSH answers with the injected key', test: 'remote-shell/ssh-key', cause: [new RegExp(`127\\.0\\.0\\.1:${port}`), /ECONNREFUSED|refused/] }, ['--no-install']);
  });
});
