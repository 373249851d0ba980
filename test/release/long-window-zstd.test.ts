// EVE 17.1.0 and later compress installer.raw with `zstd --long=30` (.github/workflows/assets.yml): a frame whose
// window is past the 128 MiB a plain `zstd -d` accepts. The working copy is made from such a file (no VM here; the
// install through it is test/install/install-long-zstd.test.ts).
import { expect } from 'chai';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findConfigPartition, readGpt } from '../../lib/media/gpt.ts';
import { prepareInstaller } from '../../lib/media/prepare-installer.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';
import { LONG_WINDOW_SIZE, longWindowRelease, type LongWindowRelease } from './long-window-release.ts';

/** sha256 of a file's bytes outside [skipFrom, skipTo): the CONFIG partition is the one part the harness rewrites. */
async function hashOutside(file: string, skipFrom: number, skipTo: number): Promise<string> {
  const hash = createHash('sha256');
  const size = fs.statSync(file).size;
  for (const [start, end] of [[0, skipFrom], [skipTo, size]] as const) {
    if (end <= start) continue;
    for await (const chunk of fs.createReadStream(file, { start, end: end - 1 })) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

describe('EVE 17.1+ installer.raw.zst made with zstd --long=30 (> 128 MiB)', function () {
  this.timeout(300_000);
  let tmp: string;
  let rel: LongWindowRelease;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-long-zstd-'));
    rel = await longWindowRelease(await fixtureRelease(), tmp);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is refused by a plain zstd -d, as EVE 17.1+ files are (the test file is not kinder than the real one)', async () => {
    const r = await execa('zstd', ['-d', '-q', '-c', rel.zst], { reject: false, stdout: 'ignore' });
    expect(r.exitCode).to.not.equal(0);
    expect(r.stderr).to.contain('Window size larger than maximum');
  });

  it('is decompressed into the working copy byte for byte, with the CONFIG partition written', async () => {
    const profile = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml')).profile;
    const prepared = await prepareInstaller(rel.zst, path.join(tmp, 'work'), profile, { authorizedKey: 'ssh-ed25519 AAAAtest eq@test', rebootAfterInstall: false });
    expect(fs.statSync(prepared.image).size).to.equal(LONG_WINDOW_SIZE);
    const config = findConfigPartition(readGpt(prepared.image))!;
    const [got, want] = await Promise.all([prepared.image, rel.raw].map((f) => hashOutside(f, config.offset, config.offset + config.size)));
    expect(got).to.equal(want);
    const keys = await execa('mtype', ['-i', `${prepared.image}@@${config.offset}`, '::/authorized_keys'], { env: { MTOOLS_SKIP_CHECK: '1' } });
    expect(keys.stdout.trim()).to.equal('ssh-ed25519 AAAAtest eq@test');
  });
});
