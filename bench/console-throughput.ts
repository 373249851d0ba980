// console-throughput: a 32 MiB console stream served over loopback TCP by socat (as a QEMU chardev or ser2net
// delivers it), 200 markers to match in order and 4 fail patterns that never occur, raw log to disk: eve-qual's
// Console vs pexpect's fdpexpect on the same bytes. Each side runs in its own process.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForListen } from '../test/helpers/net.ts';
import { startPeer } from '../test/helpers/peer.ts';
import { buildStream } from './console-stream.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const MIB = 1 << 20;
const MARKERS = 200;

interface SideResult {
  seconds: number;
  found: number;
  /** eve-qual's side only: bytes received, to show it read the whole stream (a short read would flatter the rate). */
  bytes?: number;
  maxRssKb: number;
}

/**
 * The stream on a TCP port for exactly one client. Readiness comes from /proc/net/tcp, not a probe connection: socat
 * opens the file once, so a probe's session would read (and lose) the head of the stream, and with `fork` every
 * session shares the file offset. (A probe here once ate the first 208 KiB, marker 0 with it: a 60 s stall.)
 */
async function serve(file: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const peer = startPeer('socat', ['-u', `OPEN:${file},rdonly`, `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`]);
  await waitForListen(port, peer);
  return { port, stop: () => peer.stop() };
}

async function side(file: string, cmd: string, args: (port: number) => string[]): Promise<SideResult> {
  const srv = await serve(file);
  try {
    const r = await execa(cmd, args(srv.port), { timeout: 300_000 });
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as SideResult;
  } finally {
    await srv.stop();
  }
}

export async function run(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-bench-console-'));
  try {
    const file = path.join(dir, 'stream.bin');
    const data = buildStream(32 * MIB, MARKERS);
    fs.writeFileSync(file, data);
    const mib = data.length / MIB;
    const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');
    const eq = await side(file, tsx, (port) => [path.join(here, 'console-throughput-worker.ts'), String(port), path.join(dir, 'eq.log'), String(MARKERS)]);
    // Debian's python3 has python3-pexpect; a pyenv python on PATH may not.
    const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const pe = await side(file, py, (port) => [path.join(here, 'pexpect_throughput.py'), String(port), path.join(dir, 'pe.log'), String(MARKERS)]);
    // The last marker ends the stream, so finding it means all but its CR LF arrived.
    if (eq.bytes !== undefined && eq.bytes < data.length - 2) throw new Error(`eve-qual's side received ${eq.bytes} of ${data.length} bytes`);
    const eqMibs = mib / eq.seconds;
    const peMibs = mib / pe.seconds;
    return (
      `console-throughput: eve_qual_mibs=${eqMibs.toFixed(1)} pexpect_mibs=${peMibs.toFixed(1)} ` +
      `ratio=${(eqMibs / peMibs).toFixed(2)} markers=${eq.found}/${MARKERS} pexpect_markers=${pe.found}/${MARKERS} ` +
      `rss_mb=${(eq.maxRssKb / 1024).toFixed(1)}`
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(await run());
}
