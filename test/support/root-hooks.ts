// Root hooks (a mocha root-hook plugin, so they also run in every worker of --parallel): whatever a test file
// forgot, no peer process outlives it, and the profile variants it wrote are removed. In a worker each file is a
// run of its own, so its wall time (hooks included, which mocha's per-test figures leave out) is written for the
// reporter's table of the slowest files (EQ_TEST_TIMES, set by test/support/reporter.cjs).
// The machine's proxy variables are dropped: the tests' servers are on loopback, and eve-qual sends loopback
// through a proxy like curl does when no_proxy does not say otherwise. The proxy tests set their own.
import fs from 'node:fs';
import type { Context } from 'mocha';
import { removeProfileVariants } from '../helpers/fixture-release.ts';
import { stopAllPeers } from '../helpers/peer.ts';

for (const name of Object.keys(process.env)) if (/^(https?|all|no)_proxy$/i.test(name)) delete process.env[name];

let startedAt = 0;

/** The file this run of the root hooks ran, when it ran one only (a worker of --parallel). */
function onlyFile(ctx: Context): string | undefined {
  const files = new Set(ctx.test?.parent?.suites.map((s) => s.file) ?? []);
  return files.size === 1 ? [...files][0] : undefined;
}

export const mochaHooks = {
  beforeAll(): void {
    startedAt = Date.now();
  },
  async afterAll(this: Context): Promise<void> {
    await stopAllPeers();
    removeProfileVariants();
    const file = onlyFile(this);
    const times = process.env.EQ_TEST_TIMES;
    if (file && times) fs.appendFileSync(times, `${Math.round((Date.now() - startedAt) / 1000)}\t${file}\n`);
  },
};
