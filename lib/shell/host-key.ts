// SSH host key policy: a box is only talked to once its host key is known to be the box's. The fingerprint is pinned
// in OpenSSH's own notation (`SHA256:` + unpadded base64, as `ssh-keygen -lf` prints it) so that an operator can copy
// it from the box or from ssh's first-connection prompt. Trust on first use exists, but only when asked for.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, LabError } from '../errors.ts';

export type HostKeyPolicy =
  /** Accept only this key: `SHA256:...` as `ssh-keygen -lf` prints it. */
  | { fingerprint: string }
  /**
   * Trust on first use: if FILE is absent, record the offered key's fingerprint in it and accept; from then on pin
   * to what it holds. The file may also be `ssh-keygen -lf` output.
   */
  | { recordTo: string }
  /**
   * The box's own keys, read through a channel already trusted (EVE's serial console: EVE makes a new host key at
   * every boot, so a pin from an earlier boot cannot hold). The offered key must be one of them; once accepted its
   * fingerprint is written to every file of `recordTo` (the run's record, the profile's recordTo file).
   */
  | { trusted: TrustedHostKeys; recordTo?: string[] };

/** Host keys read from the box through a trusted channel. */
export interface TrustedHostKeys {
  /** Where they were read, named in a refusal ("the console of box1 (eve exec debug ...)"). */
  source: string;
  keys: Array<{ type: string; fingerprint: string }>;
}

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
  if ('trusted' in policy) {
    if (!policy.trusted.keys.length) throw new ConfigError(`SSH host key policy for ${where}: no trusted keys`, { where });
    return policy;
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
    if ('trusted' in this.policy) return this.decideTrusted(offered, this.policy.trusted, this.policy.recordTo ?? []);
    let expected: string;
    let source: string;
    if ('fingerprint' in this.policy) {
      expected = normalise(this.policy.fingerprint);
      source = 'the profile';
    } else {
      const file = this.policy.recordTo;
      const pinned = await readPinned(file);
      if (pinned === undefined) {
        await record(file, offered, `${this.hostPort}, recorded by eve-qual on first use`);
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

  private async decideTrusted(offered: string, trusted: TrustedHostKeys, recordTo: string[]): Promise<boolean> {
    const match = trusted.keys.find((k) => k.fingerprint === offered);
    if (match) {
      for (const file of recordTo) await record(file, offered, `${this.hostPort} (${match.type}), as ${trusted.source} showed it`);
      return true;
    }
    const known = trusted.keys.map((k) => `${k.type} ${k.fingerprint}`).join(', ');
    this.refusal = new LabError(
      `SSH host key refused on ${this.hostPort}: SSH offered ${offered}, but ${trusted.source} shows ${known}. ` +
        `Possible interception (something else answers SSH at this address): connection refused, nothing sent`,
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

async function record(file: string, fp: string, what: string): Promise<void> {
  // Write then rename, so a crash never leaves an empty file that would later read as "no fingerprint".
  const tmp = `${file}.${process.pid}.tmp`;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(tmp, `# SSH host key of ${what}, ${new Date().toISOString()}\n${fp}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

const PUBLIC_KEY_LINE = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) ([A-Za-z0-9+/]+={0,2})(?:\s|$)/;

/** Fields of each key type's wire encoding (RFC 4253, 5656, 8709): the type name first, then the key. */
const FIELDS: Record<string, number> = { 'ssh-ed25519': 2, 'ssh-rsa': 3, 'sk-ssh-ed25519@openssh.com': 3, 'sk-ecdsa-sha2-nistp256@openssh.com': 4 };

/** A whole key blob of `type`: its own type name first, exactly the type's count of length-prefixed fields. */
function wellFormed(blob: Buffer, type: string): boolean {
  let at = 0;
  let fields = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return false;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return false;
    if (fields === 0 && blob.subarray(4, 4 + len).toString('latin1') !== type) return false;
    at += 4 + len;
    fields++;
  }
  return fields === (FIELDS[type] ?? 3);
}

/**
 * The keys of OpenSSH public key lines (`type base64 comment`, as ssh_host_*_key.pub holds them), with their
 * fingerprints. A line whose blob does not name its own type is no key (a half-written file, console noise).
 */
export function parsePublicKeys(text: string): Array<{ type: string; fingerprint: string }> {
  const keys: Array<{ type: string; fingerprint: string }> = [];
  for (const line of text.split(/\r?\n/)) {
    const m = PUBLIC_KEY_LINE.exec(line.trim());
    if (!m) continue;
    const blob = Buffer.from(m[2]!, 'base64');
    if (!wellFormed(blob, m[1]!)) continue;
    keys.push({ type: m[1]!, fingerprint: fingerprintOf(blob) });
  }
  return keys;
}
