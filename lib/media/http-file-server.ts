// Serve one file over HTTP for a box's BMC to fetch (virtual media): bound to the address the profile names (the
// runner's address on the lab network that the BMC reaches), at an unguessable path, for as long as the caller keeps
// it (a run), and nothing else: any other path is 404, no directory listing, no other file. A folder server with a
// single route (./http-folder-server.ts): GET and HEAD with single byte ranges, as BMCs stream virtual media in ranges.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { serveFolder } from './http-folder-server.ts';

export interface ServedFile {
  /** The URL the box fetches. */
  readonly url: string;
  readonly file: string;
  /** Requests answered and bytes sent so far (for the step log). */
  stats(): { requests: number; bytes: number; refused: number };
  stop(): Promise<void>;
}

export async function serveFile(file: string, listen: string): Promise<ServedFile> {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new ConfigError(`${file} is not a file`);
  const secret = randomBytes(12).toString('hex');
  const name = path.basename(file);
  const server = await serveFolder(listen);
  server.set(`/${secret}/${name}`, { file });
  return { url: `${server.base}${secret}/${encodeURIComponent(name)}`, file, stats: server.stats, stop: server.stop };
}
