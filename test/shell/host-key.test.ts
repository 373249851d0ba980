// Public key lines as EVE's debug container holds them (/etc/ssh/ssh_host_*_key.pub, made by ssh-keygen -A), read
// into fingerprints that must equal what OpenSSH's own ssh-keygen -lf prints for them.
import { expect } from 'chai';
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parsePublicKeys } from '../../lib/shell/host-key.ts';
import { fingerprintOf } from '../helpers/sshd.ts';

describe('host keys from public key lines (EVE: ssh_host_*_key.pub shown on the console)', () => {
  let dir: string;
  const pubs: Record<string, string> = {};
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-hostkeys-'));
    for (const t of ['ed25519', 'ecdsa', 'rsa']) {
      const f = path.join(dir, `ssh_host_${t}_key`);
      await execa('ssh-keygen', ['-q', '-t', t, '-N', '', '-C', 'root@eve', '-f', f]);
      pubs[t] = `${f}.pub`;
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the fingerprint ssh-keygen -lf gives, for every key type ssh-keygen -A makes', async () => {
    const text = ['ed25519', 'ecdsa', 'rsa'].map((t) => fs.readFileSync(pubs[t]!, 'utf8')).join('');
    const keys = parsePublicKeys(text);
    expect(keys.map((k) => k.type)).to.deep.equal(['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa']);
    for (const [i, t] of ['ed25519', 'ecdsa', 'rsa'].entries()) expect(keys[i]!.fingerprint).to.equal(await fingerprintOf(pubs[t]!));
  });

  it('takes nothing from console noise, a cut-off line or a blob of another type', () => {
    const line = fs.readFileSync(pubs.ed25519!, 'utf8').trim();
    const [type, b64] = line.split(' ') as [string, string];
    const noise = [
      'cat: /etc/ssh/ssh_host_*_key.pub: No such file or directory',
      `${type} ${b64.slice(0, 30)}`,
      `ssh-rsa ${b64} mislabelled`,
      '[   12.3] random: crng init done',
    ].join('\r\n');
    expect(parsePublicKeys(noise)).to.deep.equal([]);
    expect(parsePublicKeys(`${noise}\r\n${line}\r\n`)).to.have.length(1);
  });
});
