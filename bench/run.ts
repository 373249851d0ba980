// npm run bench: each benchmark prints one line `NAME: key=value ...`, measured against its peer in the same run; a
// line that says FAIL (a target missed) fails the run.
import { stopAllPeers } from '../test/helpers/peer.ts';

const benches = ['./shell-roundtrip.ts', './console-throughput.ts', './soak.ts'];
let failed = false;
for (const b of benches) {
  try {
    const mod = (await import(b)) as { run: () => Promise<string> };
    const line = await mod.run();
    console.log(line);
    if (/\bFAIL\b/.test(line)) failed = true;
  } catch (err) {
    failed = true;
    console.error(`${b}: failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
await stopAllPeers();
process.exitCode = failed ? 1 : 0;
