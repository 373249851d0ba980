// eve-qual's side of console-throughput, in its own process so its peak RSS is its own: open a raw TCP link to the
// stream, wait for every marker in order with the fail patterns armed, the raw log written to disk.
import { performance } from 'node:perf_hooks';
import { Console } from '../lib/console/console.ts';
import { createLink } from '../lib/link/create-link.ts';
import { BENCH_FAIL_PATTERNS, markerLine } from './console-stream.ts';

const [port, logFile, count] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4])];
const link = createLink({ type: 'tcp', host: '127.0.0.1', port, protocol: 'raw' });
const con = new Console(link, { boxName: 'bench', logFile, failPatterns: BENCH_FAIL_PATTERNS });
const t0 = performance.now();
await con.open();
let found = 0;
for (let i = 0; i < count; i++) {
  await con.expect(new RegExp(markerLine(i)), { timeout: 120_000 });
  found++;
}
const seconds = (performance.now() - t0) / 1000;
await con.close();
process.stdout.write(JSON.stringify({ seconds, found, bytes: con.received, maxRssKb: process.resourceUsage().maxRSS }) + '\n');
