// Bad input to `eve-qual install`: each ends with exit 2 before any box is touched (no QEMU started).
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eveQual, fixtureRelease, profileVariant } from '../helpers/fixture-release.ts';

function copyRelease(src: string, into: string, only?: RegExp): string {
  const dir = path.join(into, '0.0.0-fixture');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(src)) if (!only || only.test(f)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  return dir;
}

describe('eve-qual install: bad input ends with exit 2 before touching a box', function () {
  this.timeout(1_800_000);
  let release: string;
  let tmp: string;
  before(async () => {
    release = await fixtureRelease();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-badrel-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function expectUsageError(args: string[], pattern: RegExp): Promise<void> {
    const r = await eveQual(['install', ...args, '--out', path.join(tmp, `run-${Math.random().toString(36).slice(2)}`)], { timeout: 60_000 });
    expect(r.exitCode, r.all).to.equal(2);
    expect(r.all).to.match(pattern);
    expect(r.all).not.to.contain('power on');
  }

  it('a missing installer asset', async () => {
    const dir = copyRelease(release, path.join(tmp, 'missing'), /sha256sums$/);
    await expectUsageError(['--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', dir], /has no installer image/);
  });

  it('a checksum mismatch', async () => {
    const dir = copyRelease(release, path.join(tmp, 'corrupt'), /^amd64/);
    const img = path.join(dir, 'amd64.kvm.generic.installer.raw');
    const fd = fs.openSync(img, 'r+');
    fs.writeSync(fd, Buffer.from([0x42]), 0, 1, 1_000_000);
    fs.closeSync(fd);
    await expectUsageError(['--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', dir], /does not match amd64\.kvm\.generic\.sha256sums/);
  });

  it('a truncated image', async () => {
    const dir = copyRelease(release, path.join(tmp, 'truncated'), /^amd64/);
    fs.truncateSync(path.join(dir, 'amd64.kvm.generic.installer.raw'), 4096);
    await expectUsageError(['--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', dir], /sha256 .* expected/);
  });

  it('an image for another arch than the box', async () => {
    const dir = copyRelease(release, path.join(tmp, 'armonly'), /^arm64/);
    await expectUsageError(['--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', dir], /has no amd64 installer \(it has arm64\)/);
  });

  it('an invalid profile (every problem with its line)', async () => {
    const bad = profileVariant('qemu-amd64.yaml', 'bad', [
      ['arch: amd64', 'arch: amd65'],
      ['memoryMb: 1024', 'memoryMb: lots'],
    ]);
    await expectUsageError(['--profile', bad, '--release', release], /bad\.yaml:\d+:\d+: box\.arch: bad value[\s\S]*virtual\.memoryMb: wrong type/);
  });

  it('a console password whose environment variable is not set', async () => {
    const bad = profileVariant('qemu-amd64.yaml', 'nopass', [['  baud: 115200', '  baud: 115200\n  login: { user: root, password: { env: EVE_QUAL_TEST_UNSET_PASSWORD } }']]);
    await expectUsageError(['--profile', bad, '--release', release], /console\.login\.password: environment variable EVE_QUAL_TEST_UNSET_PASSWORD is not set/);
  });

  it('a missing --release', async () => {
    await expectUsageError(['--profile', 'hardware-profiles/qemu-amd64.yaml'], /--release is required/);
  });

  it('--out naming an existing file: one line naming the flag, no stack trace', async () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'not a directory\n');
    const r = await eveQual(['run', '--profile', 'hardware-profiles/qemu-amd64.yaml', '--release', release, '--out', file], { timeout: 60_000 });
    expect(r.exitCode, r.all).to.equal(2);
    expect(r.all).to.include(`--out ${file}: exists and is not a directory`);
    expect(r.all).not.to.match(/ENOTDIR|\n\s+at /);
  });

  it('an empty profile: "the profile is empty", not a type error about null', async () => {
    const empty = path.join(tmp, 'empty.yaml');
    fs.writeFileSync(empty, '# nothing declared yet\n');
    await expectUsageError(['--profile', empty, '--release', release], /empty\.yaml:1:1: (.*: )?the profile is empty/);
    const r = await eveQual(['install', '--profile', empty, '--release', release], { timeout: 60_000 });
    expect(r.all).not.to.include('expected object, got null');
  });
});
