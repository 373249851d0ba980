// The per-run SSH key pair injected into the installer's CONFIG authorized_keys (unless the profile names a key).
// The private half lives in a private temporary folder, never in the run directory, and is removed with the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;

export interface RunKey {
  privateKeyFile: string;
  publicKey: string;
  dispose(): void;
}

export function createRunKey(comment = 'eve-qual-run'): RunKey {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-key-'));
  fs.chmodSync(dir, 0o700);
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  const privateKeyFile = path.join(dir, 'id_ed25519');
  fs.writeFileSync(privateKeyFile, pair.private, { mode: 0o600 });
  return {
    privateKeyFile,
    publicKey: pair.public.trim(),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
