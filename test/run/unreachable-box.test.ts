// A box never reached is never a success: a real box whose terminal server refuses the console connection ends
// with exit 3 and the refusal (host, port, ECONNREFUSED) on the first check in results.json, not "0 failed, 5 skipped".
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResults } from '../../lib/report/results.ts';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';
import { freePort } from '../helpers/net.ts';
import { generateKey } from '../helpers/sshd.ts';

describe('a run on a box that is never reached', function () {
  this.timeout(300_000);
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-unreached-'))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a terminal server that refuses the console: exit 3, the refusal recorded on the install check, nothing passes', async () => {
    const release = await fixtureRelease();
    const port = await freePort();
    const key = path.join(tmp, 'key');
    await generateKey(key);
    const profile = path.join(tmp, 'refused.yaml');
    fs.writeFileSync(
      profile,
      [
        'box: { name: refused-box, vendor: Lab, model: Bench, arch: amd64, kind: real, sample: R-1 }',
        `console: { link: { type: tcp, host: 127.0.0.1, port: ${port}, protocol: raw, connectTimeoutMs: 2000, reconnectDeadlineMs: 2000 }, device: ttyS0 }`,
        `ssh: { host: 127.0.0.1, port: 22, key: { file: ${JSON.stringify(key)} }, hostKey: { recordTo: ${JSON.stringify(path.join(tmp, 'known'))} } }`,
        "power: { type: command, on: ['true'], off: ['true'] }",
        "media: { type: usb-sd-mux, write: ['true'], toBox: ['true'], toHost: ['true'] }",
        'install: { disk: vda }',
        'hardware:',
        '  ethernet:',
        '    - { name: eth0 }',
        '',
      ].join('\n'),
    );
    const out = path.join(tmp, 'run');
    const r = await eveQual(['run', '--profile', profile, '--release', release, '--out', out]);
    expect(r.exitCode, r.all).to.equal(3);
    const res = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as RunResults;
    expect(res.tests.filter((t) => t.outcome === 'pass').map((t) => t.id)).to.deep.equal([]);
    const first = res.tests.find((t) => t.outcome === 'error');
    expect(first, JSON.stringify(res.tests.map((t) => [t.id, t.outcome, t.message]))).to.not.equal(undefined);
    expect(first!.message).to.match(new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(first!.message).to.match(/ECONNREFUSED|refused/i);
  });
});
