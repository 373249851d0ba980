// The run's own SSH key must always be usable: ssh2 1.17's ed25519 generator makes a malformed pair about 1 time in
// 256 (mscdex/ssh2 #1390, #1513), which once turned a CI run's SSH step into "Cannot parse privateKey".
import { expect } from 'chai';
import fs from 'node:fs';
import ssh2 from 'ssh2';
import { createRunKey } from '../../lib/run/run-key.ts';

describe('the per-run SSH key', () => {
  it('parses, both halves, every time (1500 keys: ssh2 alone fails about 6 of them)', () => {
    const bad: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const k = createRunKey('eve-qual@box1');
      try {
        const priv = ssh2.utils.parseKey(fs.readFileSync(k.privateKeyFile));
        const pub = ssh2.utils.parseKey(k.publicKey);
        if (priv instanceof Error || pub instanceof Error) bad.push(String(priv instanceof Error ? priv.message : (pub as Error).message));
      } finally {
        k.dispose();
      }
    }
    expect(bad).to.deep.equal([]);
  });
});
