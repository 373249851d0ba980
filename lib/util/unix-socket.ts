// Whether a unix socket is accepting connections yet. A server binds (the file appears) before it listens, and a
// connect in between is refused: a peer started on the file's appearance (QEMU on swtpm's control socket) can fail
// on a busy machine. /proc/net/unix marks a listening socket with __SO_ACCEPTCON (0x10000) in its flags.
import fs from 'node:fs';

const SO_ACCEPTCON = 0x10000;

/** True once a socket bound at `file` listens; where /proc/net/unix cannot be read, once the file exists. */
export function unixSocketListening(file: string): boolean {
  let table: string;
  try {
    table = fs.readFileSync('/proc/net/unix', 'utf8');
  } catch {
    return fs.existsSync(file);
  }
  // Num RefCount Protocol Flags Type St Inode Path; the path is the rest of the line (it may hold spaces).
  for (const line of table.split('\n')) {
    const m = /^\s*\S+\s+\S+\s+\S+\s+([0-9A-Fa-f]+)\s+\S+\s+\S+\s+\S+\s(.*)$/.exec(line);
    if (m && m[2] === file && (parseInt(m[1]!, 16) & SO_ACCEPTCON) !== 0) return true;
  }
  return false;
}
