// npm run demo: the main job on the embedded default, from nothing. Builds the fixture EVE release if it is missing
// (Debian packages only), then installs it on the virtual box of hardware-profiles/qemu-amd64.yaml exactly as on a
// real box (installer on a USB stick, watched on the serial console, installed disk booted, SSH with the injected
// key), runs the level-2 suites on it (inventory, Ethernet, USB, storage, TPM, a real watchdog reset...), and
// prints the results, the step timings and where the run directory is.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EveQualError, exitCodeFor } from '../lib/errors.ts';
import { runQualification } from '../lib/run/qualify-run.ts';
import { ALL_SUITES } from '../suites/index.ts';
import { buildFixtureRelease } from './fixtures.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  console.log('eve-qual demo: building (or reusing) the fixture EVE release from Debian packages...');
  const release = await buildFixtureRelease({ arches: ['amd64'] });
  console.log(`release: ${release.dir}`);
  const profile = path.join(root, 'hardware-profiles', 'qemu-amd64.yaml');
  console.log(`box: ${path.relative(root, profile)} (QEMU, ${process.env.EVE_QUAL_ACCEL ?? 'KVM if usable, else TCG'})\n`);
  const t0 = Date.now();
  const r = await runQualification({
    profileFile: profile,
    releaseSrc: release.dir,
    level: 2,
    operator: 'eve-qual demo',
    suites: ALL_SUITES,
    progress: (l) => console.log(l),
  });
  const tests = r.results.tests;
  const n = (o: string) => tests.filter((t) => t.outcome === o).length;
  console.log(`\n${n('pass')} passed, ${n('fail')} failed, ${n('error')} errors, ${n('skip')} skipped in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log('\nStep timings:');
  for (const s of r.results.steps) console.log(`  ${s.name.padEnd(40)} ${(s.durationMs / 1000).toFixed(1).padStart(6)} s  ${s.outcome}`);
  console.log(`\nResults: ${r.runDir}`);
  console.log('  results.json  junit.xml  steps.log  console/  inventory/');
  return r.exitCode;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`demo: ${err instanceof EveQualError ? err.describe() : (err as Error).stack}`);
    process.exitCode = exitCodeFor(err);
  },
);
