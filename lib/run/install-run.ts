// `eve-qual install`: validate the profile, locate and verify the release (nothing touches a box before both are
// good), prepare the installer media, then install on the box and bring it to an SSH shell. Everything acquired is
// released in reverse order by the run's Scope, also on Ctrl-C.
import fs from 'node:fs';
import path from 'node:path';
import type { Box } from '../box/box.ts';
import { boxFromProfile, realBoxDrivers } from '../box/create-box.ts';
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import { ConfigError } from '../errors.ts';
import { installRelease, type InstallOutcome } from '../install/install-release.ts';
import { StepLog, type ProgressSink, type StepRecord } from '../install/steps.ts';
import { configPartitionInHead, configPartitionOf } from '../media/gpt.ts';
import { prepareInstaller, zstdHead } from '../media/prepare-installer.ts';
import { loadProfile, type LoadedProfile } from '../profile/load.ts';
import type { Profile } from '../profile/schema.ts';
import { resolveSecret } from '../profile/secret.ts';
import type { Release } from '../release/local-release.ts';
import { progressSteps } from '../release/download.ts';
import { resolveRelease } from '../release/resolve-release.ts';
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
  /** Asks the operator (manual power, operator media); without it those are lab errors, never a hang. */
  prompt?: OperatorPrompt;
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
  if (p.box.kind !== 'virtual') {
    if (p.power.type === 'virtual') throw new ConfigError(`${o.profileFile}: power.type virtual is for virtual boxes (box.kind: virtual)`, { where: `${o.profileFile}: power.type` });
    // Builds the drivers without touching anything: secrets, placeholders and media kind are checked here, before
    // a release of several GiB is downloaded.
    const { power } = realBoxDrivers(loaded, { say: () => undefined });
    await power.close?.();
  }
  consoleLogin(loaded);
  o.progress?.(`▶ release ${o.releaseSrc} (${p.box.arch}): fetch if needed, verify (sha256)`);
  let label = '';
  let steps: ReturnType<typeof progressSteps> | undefined;
  const release = await resolveRelease(o.releaseSrc, p.box.arch, {
    ...(o.releaseVersion ? { version: o.releaseVersion } : {}),
    ...(o.progress
      ? {
          log: (line: string) => o.progress!(`  ${line}`),
          onProgress: (bytes: number, total: number | undefined, l: string) => {
            if (l !== label) {
              label = l;
              steps = progressSteps((line) => o.progress!(`  ${label}: ${line}`));
            }
            steps!(bytes, total);
          },
        }
      : {}),
  });
  // An image that checksums right can still be no EVE installer: without its CONFIG partition nothing can be
  // prepared, so say so now, before a run folder exists (a compressed one from its unpacked head).
  if (!release.installer.compressed) configPartitionOf(release.installerPath);
  else configPartitionInHead(await zstdHead(release.installerPath), release.installerPath);
  o.progress?.(`✔ ${release.installer.file} verified: release ${release.version} (${release.dir})`);
  return { loaded, release };
}

/** Who logs in on the console: the profile's user, and its password resolved from its reference (never logged). */
export function consoleLogin(loaded: LoadedProfile): { user: string; password?: string } {
  const l = loaded.profile.console.login;
  return { user: l.user, ...(l.password ? { password: resolveSecret(l.password, 'console.login.password', loaded.dir) } : {}) };
}

/** The step that makes the box and opens its console link: a terminal server that refuses is this step's error. */
export const OPEN_BOX_STEP = 'open the box and its console';

/** The run's folder, its lifetime scope and its step log: what an install and a --no-install run both start with. */
export function beginRun(p: Profile, o: InstallRunOptions): { runDir: RunDir; scope: Scope; steps: StepLog } {
  const runDir = createRunDir(p.box.name, o.out);
  const scope = new Scope(`run on ${p.box.name}`);
  const steps = new StepLog(runDir.stepsLog, o.progress, o.onStep);
  scope.defer('step log', () => steps.close());
  return { runDir, scope, steps };
}

/** Install; the caller owns the returned scope (close it to power off and release the box). */
export async function runInstall(o: InstallRunOptions, checked?: { loaded: LoadedProfile; release: Release }): Promise<InstallRunResult> {
  const { loaded, release } = checked ?? (await preflight(o));
  const p = loaded.profile;
  const { runDir, scope, steps } = beginRun(p, o);
  try {
    const key = p.ssh.key
      ? labKey(loaded)
      : (() => {
          const k = createRunKey(`eve-qual@${p.box.name}`);
          scope.defer('run key', () => k.dispose());
          return k;
        })();
    const prepared = await steps.step('prepare installer media', () =>
      prepareInstaller(release.installerPath, runDir.mediaDir, p, { authorizedKey: key.publicKey, rebootAfterInstall: rebootsAfterInstall(p) }),
    );
    const sshPort = p.box.kind === 'virtual' ? await freeLoopbackPort() : 0;
    const say = o.progress ?? (() => undefined);
    const box = await steps.step(OPEN_BOX_STEP, () => boxFromProfile(loaded, { stateDir: runDir.stateDir, consoleLog: runDir.consoleLog, sshPort, say, ...(o.prompt ? { prompt: o.prompt } : {}) }));
    scope.defer(`box ${p.box.name}`, () => box.close());
    const outcome = await installRelease(box, {
      profile: p,
      release,
      media: { image: prepared.image, kernelArgs: prepared.kernelArgs, releaseDir: release.dir, arch: p.box.arch },
      privateKeyFile: key.privateKeyFile,
      recordHostKeyTo: hostKeyRecords(loaded, runDir),
      login: consoleLogin(loaded),
      steps,
    });
    scope.defer('ssh shell', () => outcome.ssh.close());
    return { runDir, loaded, release, steps, outcome, box, scope };
  } catch (e) {
    await scope.close();
    throw Object.assign(e as Error, { runDir, steps });
  }
}

/**
 * Where the box's SSH host key is recorded once SSH offered the key its console showed: the run's `ssh_host_key`,
 * and the profile's `ssh.hostKey.recordTo` file when it names one (EVE makes a new key at every boot, so these
 * say which key this run talked to; they are rewritten after every reboot).
 */
export function hostKeyRecords(loaded: LoadedProfile, runDir: RunDir): string[] {
  const given = loaded.profile.ssh.hostKey;
  const files = [path.join(runDir.root, 'ssh_host_key')];
  if (given && 'recordTo' in given) files.push(path.resolve(loaded.dir, given.recordTo));
  return files;
}

/**
 * When nobody but an operator can power the box on again, the installer reboots it itself (eve_reboot_after_install)
 * instead of powering off. Not with operator media: the stick would still be in and the box would install again.
 */
export function rebootsAfterInstall(p: Profile): boolean {
  return p.power.type === 'manual' && p.media.type !== 'operator';
}

/** A lab key named by the profile: a private key file with its public half beside it (PATH.pub). */
export function labKey(loaded: LoadedProfile): { privateKeyFile: string; publicKey: string } {
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
