// SSH host key policy: a box is only talked to once its host key is known to be the box's. The fingerprint is pinned
// in OpenSSH's own notation (`SHA256:` + unpadded base64, as `ssh-keygen -lf` prints it) so that an operator can copy
// it from the box or from ssh's first-connection prompt. Trust on first use exists, but only when asked for.
import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { ConfigError, LabError } from '../errors.ts';

export type HostKeyPolicy =
  /** Accept only this key: `SHA256:...` as `ssh-keygen -lf` prints it. */
  | { fingerprint: string }
  /**
   * Trust on first use: if FILE is absent, record the offered key's fingerprint in it and accept; from then on pin
   * to what it holds. The file may also be `ssh-keygen -lf` output.
   */
  | { recordTo: string };

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The OpenSSH SHA256 fingerprint of a public key blob (the SSH wire encoding, as ssh2 hands it over). */
export function fingerprintOf(keyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '');
}

/** Validate a policy up front, so that a bad profile fails before anything is touched. */
export function checkHostKeyPolicy(policy: HostKeyPolicy | undefined, where: string): HostKeyPolicy {
  if (!policy || typeof policy !== 'object') {
    throw new ConfigError(
      `no SSH host key policy for ${where}: give hostKey.fingerprint (SHA256:... as ssh-keygen -lf prints it), ` +
        `or hostKey.recordTo FILE to trust the first key seen`,
      { where },
    );
  }
  if ('fingerprint' in policy) {
    const fp = normalise(policy.fingerprint);
    if (!FINGERPRINT.test(fp)) {
      throw new ConfigError(`SSH host key fingerprint for ${where} is not of the form SHA256:<43 base64 chars>: ${policy.fingerprint}`, { where });
    }
    return { fingerprint: fp };
  }
  if ('recordTo' in policy && typeof policy.recordTo === 'string' && policy.recordTo !== '') return policy;
  throw new ConfigError(`SSH host key policy for ${where} needs either fingerprint or recordTo`, { where });
}

/**
 * One connection attempt's host key check. ssh2 calls `verify` during key exchange, before any authentication, so a
 * refused key means our credentials were never offered to an impostor.
 */
export class HostKeyCheck {
  /** The key the server offered, once seen. */
  offered?: string;
  /** Why the key was refused, when it was. */
  refusal?: LabError | ConfigError;

  constructor(
    private readonly policy: HostKeyPolicy,
    /** `host:port`, named in the refusal. */
    private readonly hostPort: string,
  ) {}

  /**
   * The ssh2 `hostVerifier`. It must return undefined: ssh2 treats any returned value, a Promise included, as the
   * verdict, so the asynchronous answer goes through the callback only.
   */
  readonly verifier = (key: Buffer, verify: (valid: boolean) => void): void => {
    this.offered = fingerprintOf(key);
    this.decide(this.offered).then(verify, (err: unknown) => {
      this.refusal =
        err instanceof LabError || err instanceof ConfigError
          ? err
          : new LabError(`cannot check the SSH host key of ${this.hostPort}: ${String(err)}`, { where: this.hostPort, cause: err });
      verify(false);
    });
  };

  private async decide(offered: string): Promise<boolean> {
    let expected: string;
    let source: string;
    if ('fingerprint' in this.policy) {
      expected = normalise(this.policy.fingerprint);
      source = 'the profile';
    } else {
      const file = this.policy.recordTo;
      const pinned = await readPinned(file);
      if (pinned === undefined) {
        await record(file, offered, this.hostPort);
        return true;
      }
      expected = pinned;
      source = file;
    }
    if (offered === expected) return true;
    this.refusal = new LabError(
      `SSH host key mismatch on ${this.hostPort}: expected ${expected} (from ${source}), offered ${offered}; ` +
        `connection refused (a reinstalled box has a new key: update the pin only if you know why it changed)`,
      { where: this.hostPort },
    );
    return false;
  }
}

function normalise(fp: string): string {
  return fp.trim().replace(/=+$/, '');
}

/** The fingerprint pinned in FILE, or undefined when FILE does not exist. */
async function readPinned(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read the pinned SSH host key file ${file}: ${(err as Error).message}`, { where: file, cause: err });
  }
  for (const line of text.split('\n')) {
    if (line.trimStart().startsWith('#')) continue;
    const fp = line.split(/\s+/).find((w) => w.startsWith('SHA256:'));
    if (fp && FINGERPRINT.test(normalise(fp))) return normalise(fp);
  }
  // An existing file without a fingerprint is not "absent": recording over it would silently trust a new key.
  throw new ConfigError(`pinned SSH host key file ${file} holds no SHA256:... fingerprint`, { where: file });
}

async function record(file: string, fp: string, hostPort: string): Promise<void> {
  // Write then rename, so a crash never leaves an empty file that would later read as "no fingerprint".
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `# SSH host key of ${hostPort}, recorded by eve-qual on first use ${new Date().toISOString()}\n${fp}\n`, { mode: 0o644 });
  await rename(tmp, file);
}
