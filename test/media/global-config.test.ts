// EVE's GlobalConfig/global.json is authoritative for SSH keys when present (zedagent's loadGlobalConfigImpl): the
// run's key has to go into its debug.enable.ssh item, as ConfigItemValueMap JSON.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../lib/errors.ts';
import { withSshKey } from '../../lib/media/global-config.ts';
import { configPartitionOf } from '../../lib/media/gpt.ts';
import { prepareInstaller } from '../../lib/media/prepare-installer.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOw5 eve-qual@box1';

describe("CONFIG's GlobalConfig/global.json: the run's key in debug.enable.ssh (EVE ignores authorized_keys beside it)", () => {
  it('adds the key as a string item beside the settings already there, keeping them', () => {
    const given = { GlobalSettings: { 'debug.enable.usb': { Key: 'debug.enable.usb', ItemType: 2, BoolValue: false } }, AgentSettings: {} };
    const out = JSON.parse(withSshKey(JSON.stringify(given), KEY, 'CONFIG/GlobalConfig/global.json'));
    expect(out.GlobalSettings['debug.enable.ssh']).to.deep.equal({ Key: 'debug.enable.ssh', ItemType: 3, StrValue: KEY });
    expect(out.GlobalSettings['debug.enable.usb']).to.deep.equal(given.GlobalSettings['debug.enable.usb']);
    expect(out.AgentSettings).to.deep.equal({});
  });

  it('keeps the keys a release already lists, one a line, and adds ours once', () => {
    const other = 'ssh-rsa AAAAB3NzaC1yc2E lab@bench';
    const given = { GlobalSettings: { 'debug.enable.ssh': { Key: 'debug.enable.ssh', ItemType: 3, StrValue: other } } };
    const once = withSshKey(JSON.stringify(given), KEY, 'f');
    const twice = withSshKey(once, KEY, 'f');
    expect(JSON.parse(twice).GlobalSettings['debug.enable.ssh'].StrValue).to.equal(`${other}\n${KEY}`);
  });

  it('refuses a file EVE could not parse (EVE would then load no SSH key at all), naming it', () => {
    expect(() => withSshKey('{"GlobalSettings": ', KEY, 'rel/CONFIG:GlobalConfig/global.json')).to.throw(ConfigError, /rel\/CONFIG:GlobalConfig\/global\.json: not JSON/);
    expect(() => withSshKey('[1]', KEY, 'f')).to.throw(ConfigError, /not a JSON object/);
  });

  it("prepareInstaller puts the run's key into the global.json a release's CONFIG holds (a real installer image, mtools)", async function () {
    this.timeout(300_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-globalcfg-'));
    try {
      const source = path.join(dir, 'installer.raw');
      fs.copyFileSync(path.join(await fixtureRelease(), 'amd64.kvm.generic.installer.raw'), source);
      const at = `${source}@@${configPartitionOf(source, source).offset}`;
      const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
      const given = path.join(dir, 'global.json');
      fs.writeFileSync(given, JSON.stringify({ GlobalSettings: { 'timer.config.interval': { Key: 'timer.config.interval', ItemType: 1, IntValue: 60 } } }));
      await execa('mmd', ['-i', at, '::/GlobalConfig'], { env });
      await execa('mcopy', ['-i', at, given, '::/GlobalConfig/global.json'], { env });
      const profile = loadProfile(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml')).profile;
      const prepared = await prepareInstaller(source, path.join(dir, 'media'), profile, { authorizedKey: KEY, rebootAfterInstall: false });
      const target = `${prepared.image}@@${configPartitionOf(prepared.image, prepared.image).offset}`;
      const out = JSON.parse((await execa('mtype', ['-i', target, '::/GlobalConfig/global.json'], { env })).stdout);
      expect(out.GlobalSettings['debug.enable.ssh'].StrValue).to.equal(KEY);
      expect(out.GlobalSettings['timer.config.interval'].IntValue).to.equal(60);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
