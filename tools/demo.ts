// npm run demo: the main job on the embedded default, from nothing. Builds the fixture EVE release if it is missing
// (Debian packages only), then installs it on the virtual box of hardware-profiles/qemu-amd64.yaml exactly as on a
// real box (installer on a USB stick, watched on the serial console, installed disk booted, SSH with the injected
// key), prints the step timings and where the results are.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EveQualError, exitCodeFor } from '../lib/errors.ts';
import { runInstall } from '../lib/run/install-run.ts';
import { buildFixtureRelease } from './fixtures.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<number> {
  console.log('eve-qual demo: building (or reusing) the fixture EVE release from Debian packages...');
  const release = await buildFixtureRelease({ arches: ['amd64'] });
  console.log(`release: ${release.dir}`);
  const profile = path.join(root, 'hardware-profiles', 'qemu-amd64.yaml');
  console.log(`box: ${path.relative(root, profile)} (QEMU, ${process.env.EVE_QUAL_ACCEL ?? 'KVM if usable, else TCG'})\n`);
  const r = await runInstall({ profileFile: profile, releaseSrc: release.dir, progress: (l) => console.log(l) });
  try {
    const who = await r.outcome.ssh.run('eve version; uname -m');
    console.log(`\nOver SSH the box says: ${who.stdout.trim().replace(/\n/g, ' / ')}`);
    console.log('\nStep timings:');
    for (const l of r.steps.timings()) console.log(`  ${l}`);
    console.log(`\nResults: ${r.runDir.root}`);
    console.log(`  steps.log               ${path.relative(r.runDir.root, r.runDir.stepsLog)}`);
    console.log(`  console log             ${path.relative(r.runDir.root, r.runDir.consoleLog)}`);
  } finally {
    await r.scope.close();
  }
  return 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`demo: ${err instanceof EveQualError ? err.describe() : (err as Error).stack}`);
    process.exitCode = exitCodeFor(err);
  },
);
