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

/** Tries before giving up on ssh2's generator: each fails with a chance of about 1/256. */
const KEYGEN_TRIES = 8;

/**
 * An ed25519 pair both halves of which parse: ssh2 1.17's generator drops leading zero bytes of the public key, so
 * about 1 pair in 256 is malformed and the run's own key is refused by ssh2 at the first SSH contact
 * (mscdex/ssh2 issues #1390, #1513).
 */
function wellFormedPair(comment: string): { private: string; public: string } {
  for (let i = 0; i < KEYGEN_TRIES; i++) {
    const pair = utils.generateKeyPairSync('ed25519', { comment });
    if (!(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
  throw new Error(`ssh2 made ${KEYGEN_TRIES} malformed ed25519 key pairs in a row`);
}

export function createRunKey(comment = 'eve-qual-run'): RunKey {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-key-'));
  fs.chmodSync(dir, 0o700);
  const pair = wellFormedPair(comment);
  const privateKeyFile = path.join(dir, 'id_ed25519');
  fs.writeFileSync(privateKeyFile, pair.private, { mode: 0o600 });
  return {
    privateKeyFile,
    publicKey: pair.public.trim(),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
