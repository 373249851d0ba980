// `eve-qual install`: validate the profile, locate and verify the release (nothing touches a box before both are
// good), prepare the installer media, then install on the box and bring it to an SSH shell. Everything acquired is
// released in reverse order by the run's Scope, also on Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import type { Box } from '../box/box.ts';
import { virtualBoxFromProfile } from '../box/virtual-box.ts';
import { ConfigError } from '../errors.ts';
import { installRelease, type InstallOutcome } from '../install/install-release.ts';
import { StepLog, type ProgressSink, type StepRecord } from '../install/steps.ts';
import { prepareInstaller } from '../media/prepare-installer.ts';
import { loadProfile, type LoadedProfile } from '../profile/load.ts';
import { locateLocalRelease, verifyRelease, type Release } from '../release/local-release.ts';
import type { HostKeyPolicy } from '../shell/host-key.ts';
import { freeLoopbackPort } from '../util/ports.ts';
import { Scope } from '../util/scope.ts';
import { createRunDir, type RunDir } from './run-dir.ts';
import { createRunKey } from './run-key.ts';

export interface InstallRunOptions {
  profileFile: string;
  releaseSrc: string;
  out?: string;
  releaseVersion?: string;
  progress?: ProgressSink;
  /** Every finished step (for results.json). */
  onStep?: (r: StepRecord) => void;
}

export interface InstallRunResult {
  runDir: RunDir;
  loaded: LoadedProfile;
  release: Release;
  steps: StepLog;
  outcome: InstallOutcome;
  box: Box;
  scope: Scope;
}

/** Everything that can be checked without touching a box: exit 2 territory. */
export async function preflight(o: InstallRunOptions): Promise<{ loaded: LoadedProfile; release: Release }> {
  const loaded = loadProfile(o.profileFile);
  const p = loaded.profile;
  if (/^https?:\/\//.test(o.releaseSrc) || o.releaseSrc.startsWith('docker:')) {
    throw new ConfigError(`release ${o.releaseSrc}: only local release folders are supported in this version`, { where: o.releaseSrc });
  }
  const release = locateLocalRelease(o.releaseSrc, p.box.arch, o.releaseVersion ? { version: o.releaseVersion } : {});
  o.progress?.(`▶ verify ${release.installer.file} (sha256)`);
  await verifyRelease(release);
  o.progress?.(`✔ ${release.installer.file} verified: release ${release.version}`);
  if (p.box.kind !== 'virtual') {
    throw new ConfigError(`${o.profileFile}: real boxes (power ${p.power.type}, media ${p.media.type}) are not supported by this version yet; virtual boxes are`, {
      where: o.profileFile,
    });
  }
  return { loaded, release };
}

/** Install; the caller owns the returned scope (close it to power off and release the box). */
export async function runInstall(o: InstallRunOptions, checked?: { loaded: LoadedProfile; release: Release }): Promise<InstallRunResult> {
  const { loaded, release } = checked ?? (await preflight(o));
  const p = loaded.profile;
  const runDir = createRunDir(p.box.name, o.out);
  const scope = new Scope(`run on ${p.box.name}`);
  const steps = new StepLog(runDir.stepsLog, o.progress, o.onStep);
  scope.defer('step log', () => steps.close());
  try {
    const key = p.ssh.key
      ? labKey(loaded)
      : (() => {
          const k = createRunKey(`eve-qual@${p.box.name}`);
          scope.defer('run key', () => k.dispose());
          return k;
        })();
    const prepared = await steps.step('prepare installer media', () =>
      prepareInstaller(release.installerPath, runDir.mediaDir, p, { authorizedKey: key.publicKey, rebootAfterInstall: false }),
    );
    const sshPort = await freeLoopbackPort();
    const box = virtualBoxFromProfile(p, { stateDir: runDir.stateDir, consoleLog: runDir.consoleLog, sshPort });
    scope.defer(`box ${p.box.name}`, () => box.close());
    const hostKey: HostKeyPolicy = p.ssh.hostKey ?? { recordTo: path.join(runDir.root, 'ssh_host_key') };
    const outcome = await installRelease(box, {
      profile: p,
      release,
      media: { image: prepared.image, kernelArgs: prepared.kernelArgs, releaseDir: release.dir, arch: p.box.arch },
      privateKeyFile: key.privateKeyFile,
      hostKey,
      steps,
    });
    scope.defer('ssh shell', () => outcome.ssh.close());
    return { runDir, loaded, release, steps, outcome, box, scope };
  } catch (e) {
    await scope.close();
    throw Object.assign(e as Error, { runDir, steps });
  }
}

/** A lab key named by the profile: a private key file with its public half beside it (PATH.pub). */
function labKey(loaded: LoadedProfile): { privateKeyFile: string; publicKey: string } {
  const ref = loaded.profile.ssh.key!;
  if (!('file' in ref)) {
    throw new ConfigError('ssh.key: give {file: PATH} (the private key; its public half must be PATH.pub), not an environment variable', { where: 'ssh.key' });
  }
  const privateKeyFile = path.resolve(loaded.dir, ref.file);
  const pub = `${privateKeyFile}.pub`;
  if (!fs.existsSync(privateKeyFile)) throw new ConfigError(`ssh.key: ${privateKeyFile} does not exist`, { where: 'ssh.key' });
  if (!fs.existsSync(pub)) throw new ConfigError(`ssh.key: ${pub} (the public half) is missing`, { where: 'ssh.key' });
  return { privateKeyFile, publicKey: fs.readFileSync(pub, 'utf8').trim() };
}
