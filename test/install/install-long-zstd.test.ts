// `eve-qual install` through the CLI from a release shaped like EVE 17.1.0 and later: an installer.raw.zst made with
// `zstd --long=30` (.github/workflows/assets.yml) from an image past 128 MiB, which a plain `zstd -d` refuses.
// One install on the virtual amd64 box; the decompression alone is pinned by test/release/long-window-zstd.test.ts.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease } from '../helpers/fixture-release.ts';
import { longWindowRelease } from '../release/long-window-release.ts';

describe('eve-qual install from an EVE 17.1+ release (installer.raw.zst made with zstd --long=30, > 128 MiB)', function () {
  this.timeout(1_800_000);
  let tmp: string;
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('installs on the virtual amd64 box, boots the installed disk, and answers over SSH', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-install-long-zstd-'));
    const rel = await longWindowRelease(await fixtureRelease(), tmp);
    const out = path.join(tmp, 'run');
    const r = await eveQual(['install', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', rel.dir, '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    expect(r.all).to.contain('0.0.0-fixture-kvm-amd64 installed on qemu-amd64');
    expect(fs.readFileSync(path.join(out, 'console', 'qemu-amd64.log'), 'utf8')).to.contain('EVE-OS installation started');
    expect(fs.readFileSync(path.join(out, 'steps.log'), 'utf8')).to.match(/ok SSH answers with the injected key/);
  });
});
