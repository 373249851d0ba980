// File transfer to and from a box over SSH: SFTP when the server offers it, else `cat` over an exec channel (dropbear
// builds often ship without sftp-server). Either way the caller verifies the result by sha256 on both ends, since a
// transfer that "succeeded" is not proof that the bytes arrived.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Client, ClientChannel, SFTPWrapper } from 'ssh2';
import { LabError } from '../errors.ts';
import { shellQuote } from './shell.ts';

export type Direction = 'put' | 'get';

/** The server has no sftp subsystem (as opposed to SFTP failing for another reason). */
export class NoSftpError extends Error {}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** Open an SFTP session; NoSftpError when the server refuses the subsystem. */
export function openSftp(client: Client): Promise<SFTPWrapper> {
  return new Promise((resolve, reject) => {
    client.sftp((err, sftp) => {
      if (!err) return resolve(sftp);
      if (/subsystem/i.test(err.message) || /exit code/i.test(err.message)) reject(new NoSftpError(err.message));
      else reject(err);
    });
  });
}

export async function sftpTransfer(client: Client, dir: Direction, local: string, remote: string, signal: AbortSignal): Promise<void> {
  const sftp = await openSftp(client);
  const onAbort = () => sftp.end();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (dir === 'put') sftp.fastPut(local, remote, done);
      else sftp.fastGet(remote, local, done);
    });
  } finally {
    signal.removeEventListener('abort', onAbort);
    sftp.end();
  }
}

/** The same over `cat` on an exec channel, for servers without SFTP. */
export async function catTransfer(client: Client, dir: Direction, local: string, remote: string, signal: AbortSignal): Promise<void> {
  const cmd = dir === 'put' ? `cat > ${shellQuote(remote)}` : `cat ${shellQuote(remote)}`;
  const ch = await new Promise<ClientChannel>((resolve, reject) =>
    client.exec(cmd, (err, c) => (err ? reject(err) : resolve(c))),
  );
  const onAbort = () => {
    try {
      ch.signal('KILL');
    } catch {
      /* already closed */
    }
    ch.close();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let stderr = '';
  ch.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => {
    let code: number | null = null;
    ch.on('exit', (c: number | null) => {
      code = c;
    });
    // ssh2 also hands the status to 'close': an exit-status parsed before these listeners existed is not lost.
    ch.on('close', (c?: number | null) => resolve(code ?? (typeof c === 'number' ? c : null)));
  });
  try {
    if (dir === 'put') {
      ch.resume(); // cat > file prints nothing, but the stream must flow for 'close' to come
      await pipeline(createReadStream(local), ch);
    } else {
      // Input left open: `cat FILE` does not read it, and ssh2 only sends the abort's signal on a writable channel.
      await pipeline(ch, createWriteStream(local));
    }
    const code = await exited;
    if (code !== 0) throw new Error(`\`${cmd}\` exited with ${code ?? 'no status'}${stderr ? `: ${stderr.trim()}` : ''}`);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export function transferError(dir: Direction, local: string, remote: string, hostPort: string, how: string, err: unknown): LabError {
  const what = dir === 'put' ? `upload of ${local} to ${hostPort}:${remote}` : `download of ${hostPort}:${remote} to ${local}`;
  return new LabError(`${how} ${what} failed: ${(err as Error)?.message ?? String(err)}`, { where: hostPort, cause: err });
}
