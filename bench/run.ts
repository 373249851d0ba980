// npm run bench: each benchmark prints one line `NAME: key=value ...`, measured against its peer in the same run.
import { stopAllPeers } from '../test/helpers/peer.ts';

const benches = ['./shell-roundtrip.ts', './console-throughput.ts'];
let failed = false;
for (const b of benches) {
  try {
    const mod = (await import(b)) as { run: () => Promise<string> };
    console.log(await mod.run());
  } catch (err) {
    failed = true;
    console.error(`${b}: failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
await stopAllPeers();
process.exitCode = failed ? 1 : 0;
