// sha256 of an image, streamed (an image is never held in memory), and the checksum file format
// (`<hex>  <name>` lines, as sha256sum writes them).
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';

export async function sha256File(file: string, onProgress?: (bytes: number) => void): Promise<string> {
  const h = createHash('sha256');
  let n = 0;
  await pipeline(fs.createReadStream(file, { highWaterMark: 1 << 20 }), async function* (src: AsyncIterable<Buffer>) {
    for await (const chunk of src) {
      h.update(chunk);
      n += chunk.length;
      onProgress?.(n);
    }
  });
  return h.digest('hex');
}

export function parseSums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+?)\s*$/.exec(line);
    if (m) out.set(m[2]!, m[1]!.toLowerCase());
  }
  return out;
}
