// `eve-qual run --no-install`: qualify a real box that already runs the release, as the regression lab does when a
// box was installed by an earlier run or by hand. Nothing is switched or written to disk: a console shell (the box
// is up, so no banner is awaited), /run/eve-release against the release named, then SSH with the lab's key (a
// per-run key was never injected, so the profile must name one). The SSH host key is learned on the console, as
// after every boot of EVE.
import { boxFromProfile } from '../box/create-box.ts';
import { installedDiskOf } from '../box/virtual-box.ts';
import { bootToShell } from '../install/boot-to-shell.ts';
import type { StepLog } from '../install/steps.ts';
import { freeLoopbackPort } from '../util/ports.ts';
import type { Scope } from '../util/scope.ts';
import { rekeyInstalledDisk } from './rekey-installed.ts';
import { createRunKey, type RunKey } from './run-key.ts';
import type { RunDir } from './run-dir.ts';
import { login } from '../console/login.ts';
import { ConfigError } from '../errors.ts';
import { hostKeysOnConsole } from '../install/console-host-keys.ts';
import { HOST_KEY_STEP, releaseOnConsole, releaseOverSsh } from '../install/install-release.ts';
import type { LoadedProfile } from '../profile/load.ts';
import type { Release } from '../release/local-release.ts';
import type { HostKeyPolicy } from '../shell/host-key.ts';
import { SshShell } from '../shell/ssh-shell.ts';
import { OPEN_BOX_STEP, beginRun, consoleLogin, hostKeyRecords, labKey, type InstallRunOptions, type InstallRunResult } from './install-run.ts';

/** What --no-install needs from the profile; ConfigError (exit 2) otherwise, before the box is touched. */
export function checkNoInstall(loaded: LoadedProfile, file: string): void {
  const p = loaded.profile;
  if (p.box.kind === 'virtual') throw new ConfigError('eve-qual run --no-install: a virtual box is created fresh for each run, so it is always installed');
  if (!p.ssh.key) throw new ConfigError(`${file}: ssh.key: --no-install logs in with the lab's key (the one the earlier install injected); name it`, { where: `${file}: ssh.key` });
  labKey(loaded);
}

/**
 * `resumed`: the box of a recorded run (`run --resume`). A real box is taken as it runs now, as with --no-install;
 * a virtual box is booted again from the installed disk in the run's state folder, with a new run key in its CONFIG.
 */
export async function attachInstalled(o: InstallRunOptions, checked: { loaded: LoadedProfile; release: Release }, resumed = false): Promise<InstallRunResult> {
  const { loaded, release } = checked;
  const p = loaded.profile;
  const { runDir, scope, steps } = beginRun(p, o);
  try {
    const boot = resumed && p.box.kind === 'virtual';
    const key = boot ? await newKeyOnDisk(runDir, steps, scope, p.box.name) : labKey(loaded);
    const sshPort = boot ? await freeLoopbackPort() : 0;
    const box = await steps.step(OPEN_BOX_STEP, () =>
      boxFromProfile(loaded, { stateDir: runDir.stateDir, consoleLog: runDir.consoleLog, sshPort, say: o.progress ?? (() => undefined), ...(o.prompt ? { prompt: o.prompt } : {}) }),
    );
    scope.defer(`box ${p.box.name}`, () => box.close());
    const con = box.console;
    const shell = { timeout: p.install.deadlines.boot * 1000, ...consoleLogin(loaded) };
    if (boot) {
      await box.detachInstaller();
      await steps.step('power on from the installed disk', () => box.power.on());
      await steps.step('installed system reaches a console shell', () => bootToShell(con, shell));
    } else {
      await steps.step('installed system reaches a console shell', () => login(con, shell));
    }
    const eveRelease = await steps.step('EVE release on the box matches', () =>
      releaseOnConsole(box, release.expectedEveRelease, 'the release asked for', '--no-install: install it first, or name the release it runs'),
    );
    // EVE made a new host key when this boot started: whatever the profile pinned before, SSH is held to the key
    // the console shows now.
    const trusted = await steps.step(HOST_KEY_STEP, () => hostKeysOnConsole(box, p.install.deadlines.ssh * 1000));
    const ep = box.sshEndpoint();
    const hostKey: HostKeyPolicy = { trusted, recordTo: hostKeyRecords(loaded, runDir) };
    const ssh = new SshShell({ host: ep.host, port: ep.port, user: p.ssh.user, privateKey: key.privateKeyFile, hostKey });
    scope.defer('ssh shell', () => ssh.close());
    await steps.step('SSH answers with the injected key', () => releaseOverSsh(box, ssh, release.expectedEveRelease, p.install.deadlines.ssh * 1000));
    return { runDir, loaded, release, steps, outcome: { installDisk: '(installed before this run)', eveRelease, ssh }, box, scope };
  } catch (e) {
    await scope.close();
    throw Object.assign(e as Error, { runDir, steps });
  }
}

/** A new run key, written into the installed disk's CONFIG (./rekey-installed.ts says why). */
async function newKeyOnDisk(runDir: RunDir, steps: StepLog, scope: Scope, boxName: string): Promise<RunKey> {
  const k = createRunKey(`eve-qual@${boxName}`);
  scope.defer('run key', () => k.dispose());
  await steps.step('a new run key on the installed disk', () => rekeyInstalledDisk(installedDiskOf(runDir.stateDir), k.publicKey, runDir.mediaDir));
  return k;
}
