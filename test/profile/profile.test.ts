// Profiles: every problem at once, each as file:line:col: field.path: message; secrets only by reference; the
// shipped profiles validate.
import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { ProfileError, parseProfile, loadProfile } from '../../lib/profile/load.ts';
import { resolveSecret } from '../../lib/profile/secret.ts';
import { ConfigError } from '../../lib/errors.ts';
import { eveQual, repoRoot } from '../helpers/fixture-release.ts';

const BASE = fs.readFileSync(path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml'), 'utf8');

function problems(text: string): string[] {
  try {
    parseProfile(text, 'box.yaml');
  } catch (e) {
    expect(e).to.be.instanceOf(ProfileError);
    return (e as ProfileError).message.split('\n');
  }
  throw new Error('the profile was accepted');
}

function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

describe('profile validation', () => {
  it('accepts the virtual profiles and every example profile', () => {
    const dirs = [path.join(repoRoot, 'hardware-profiles'), path.join(repoRoot, 'hardware-profiles', 'examples')];
    const files = dirs.filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => path.join(d, f)));
    expect(files.length).to.be.at.least(2);
    for (const f of files) expect(() => loadProfile(f), f).not.to.throw();
  });

  it('reports an unknown field at its key', () => {
    const text = BASE.replace('  sample: VM-AMD64-0001', '  sample: VM-AMD64-0001\n  colour: blue');
    expect(problems(text)).to.deep.equal([`box.yaml:${lineOf(text, 'colour')}:3: box.colour: unknown field`]);
  });

  it('reports a wrong type with what was expected and what was given', () => {
    const text = BASE.replace('memoryMb: 1024', 'memoryMb: plenty');
    expect(problems(text)).to.deep.equal([`box.yaml:${lineOf(text, 'plenty')}:13: virtual.memoryMb: wrong type: expected number, got string`]);
  });

  it('reports a missing required field', () => {
    const text = BASE.replace('  vendor: QEMU\n', '');
    expect(problems(text)[0]).to.equal(`box.yaml:${text.split('\n').findIndex((l) => l.startsWith('box:')) + 1}:1: box.vendor: missing required field (string)`);
  });

  it('reports a bad enum value with the allowed values', () => {
    const text = BASE.replace('arch: amd64', 'arch: x86');
    expect(problems(text)).to.deep.equal([`box.yaml:${lineOf(text, 'arch: x86')}:9: box.arch: bad value: must be one of "amd64", "arm64"`]);
  });

  it('reports a console fail pattern that is not a regular expression', () => {
    const text = BASE.replace('  baud: 115200', '  baud: 115200\n  failPatterns: ["watchdog: ok", "(unclosed"]');
    expect(problems(text)).to.deep.equal([`box.yaml:${lineOf(text, 'failPatterns')}:34: console.failPatterns[1]: must be a valid regular expression`]);
  });

  it('refuses an inline secret where a reference is required', () => {
    const text = BASE.replace('  user: root                  # host key', '  key: "-----BEGIN OPENSSH PRIVATE KEY-----"\n  user: root                  # host key');
    const p = problems(text);
    expect(p).to.have.length(1);
    expect(p[0]).to.match(/^box\.yaml:\d+:\d+: ssh\.key: an inline secret is not allowed here: use \{env: NAME\} or \{file: PATH\}$/);
    expect(p[0]).not.to.contain('BEGIN OPENSSH');
  });

  it('reports every problem at once, in file order', () => {
    const text = BASE.replace('arch: amd64', 'arch: x86').replace('memoryMb: 1024', 'memoryMb: plenty').replace('    - { name: eth1, model: e1000, cabled: true, dhcp: true, speedMbps: 1000, duplex: full }', '    - { name: lan1, model: e1000, cabled: maybe }');
    const p = problems(text);
    expect(p.map((l) => l.split(': ')[1])).to.deep.equal(['box.arch', 'hardware.ethernet[1].name', 'hardware.ethernet[1].cabled', 'virtual.memoryMb']);
  });

  it('checks rules across fields: a seeded defect must name a declared item', () => {
    const text = BASE.replace('  defects: []', '  defects:\n    - { omit: ethernet.eth7 }');
    expect(problems(text)[0]).to.match(/virtual\.defects\[0\]: ethernet\.eth7 is not declared under hardware:/);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problems('box:\n  name: [unclosed\n')[0]).to.match(/^box\.yaml:\d+:\d+: \(top level\): YAML: /);
  });

  it('resolves secret references only when used, naming the field', () => {
    process.env.EQ_TEST_SECRET = 's3cr3t';
    expect(resolveSecret({ env: 'EQ_TEST_SECRET' }, 'power.password')).to.equal('s3cr3t');
    delete process.env.EQ_TEST_SECRET;
    expect(() => resolveSecret({ env: 'EQ_TEST_SECRET' }, 'power.password')).to.throw(ConfigError, /power\.password: environment variable EQ_TEST_SECRET is not set/);
  });

  it('eve-qual profile validate exits 2 and lists the problems of a bad profile, 0 for good ones', async () => {
    const bad = path.join(fs.mkdtempSync(path.join(repoRoot, '.cache', 'p-')), 'bad.yaml');
    fs.writeFileSync(bad, BASE.replace('arch: amd64', 'arch: sparc'));
    const r = await eveQual(['profile', 'validate', 'hardware-profiles/qemu-amd64.yaml', bad]);
    expect(r.exitCode).to.equal(2);
    expect(r.all).to.contain('hardware-profiles/qemu-amd64.yaml: ok');
    expect(r.all).to.match(/bad\.yaml:\d+:9: box\.arch: bad value/);
    const good = await eveQual(['profile', 'validate', 'hardware-profiles/qemu-amd64.yaml', 'hardware-profiles/qemu-arm64.yaml']);
    expect(good.exitCode).to.equal(0);
    fs.rmSync(path.dirname(bad), { recursive: true, force: true });
  });
});

describe('eve-qual profile init', () => {
  it('writes an annotated profile that validates, from flags (not on a terminal)', async () => {
    const dir = fs.mkdtempSync(path.join(repoRoot, '.cache', 'init-'));
    const out = path.join(dir, 'acme.yaml');
    const r = await eveQual(['profile', 'init', '--vendor', 'ACME Corp', '--model', 'Edge 5000', '--arch', 'arm64', '--ssh-host', '10.1.2.3', '--console', 'lab-ts1:4001', '--out', out]);
    expect(r.exitCode, r.all).to.equal(0);
    const p = loadProfile(out).profile;
    expect(p.box).to.include({ vendor: 'ACME Corp', model: 'Edge 5000', arch: 'arm64', name: 'acme-corp-edge-5000' });
    expect(p.console.link).to.deep.include({ type: 'tcp', host: 'lab-ts1', port: 4001 });
    expect(p.console.device).to.equal('ttyAMA0');
    expect(fs.readFileSync(out, 'utf8')).to.contain('EVE sends the installer');
    const again = await eveQual(['profile', 'init', '--vendor', 'X', '--out', path.join(dir, 'x.yaml')]);
    expect(again.exitCode).to.equal(2);
    expect(again.all).to.contain('give --model, --arch, --ssh-host, --console');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
