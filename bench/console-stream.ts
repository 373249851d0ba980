// The benchmark's console stream: realistic kernel-log-like lines (some with ANSI colour), CR LF endings, and
// `count` marker lines spread evenly, the last one at the very end.
export function markerLine(i: number): string {
  return `eve-qual-bench marker ${String(i).padStart(4, '0')} reached`;
}

export function buildStream(totalBytes: number, count: number): Buffer {
  const per = Math.floor(totalBytes / count);
  const parts: Buffer[] = [];
  let t = 0;
  for (let i = 0; i < count; i++) {
    let size = 0;
    const lines: string[] = [];
    while (size < per - 64) {
      t += 0.000731;
      const ts = `[${t.toFixed(6).padStart(12)}]`;
      const line =
        lines.length % 7 === 0
          ? `${ts} \x1b[1;32mOK\x1b[0m Started service number ${lines.length} of the fixture box.\r\n`
          : `${ts} usb 1-1: new high-speed USB device number ${lines.length % 127} using xhci_hcd\r\n`;
      lines.push(line);
      size += line.length;
    }
    lines.push(`${markerLine(i)}\r\n`);
    parts.push(Buffer.from(lines.join('')));
  }
  return Buffer.concat(parts);
}

export const BENCH_FAIL_PATTERNS = [/Kernel panic - not syncing/, /Oops: /, /^FATAL: /m, /Installation failed/];
