// Install a release on a box and bring it to an SSH shell, watching the installer on the console with EVE's own
// strings. Every step has a deadline from the profile and is recorded in steps.log:
//   the installer starts → reports its target disk → prints NOTICE (the only success) → the box powers off (or
//   reboots) → eve-qual powers it on from its disk → autologin on the console → /run/eve-release is the release →
//   SSH answers with the injected key.
// A FATAL: / Installation failed / kernel panic line ends the install at once with the console excerpt; a power-off
// before NOTICE is a failure; a console that stays silent is a deadline error naming what was awaited.
import type { Box } from '../box/box.ts';
import type { InstallerMedia } from '../media/boot-media.ts';
import type { Console, ExpectOptions, ExpectResult } from '../console/console.ts';
import { BoxError, LabError } from '../errors.ts';
import { withTimeout } from '../util/deadline.ts';
import type { Profile } from '../profile/schema.ts';
import type { Release } from '../release/local-release.ts';
import { ConsoleShell } from '../shell/console-shell.ts';
import { SshShell } from '../shell/ssh-shell.ts';
import {
  INSTALL_FAILURES,
  INSTALLER_STARTED,
  INSTALLING_ON,
  NOTICE_POWEROFF,
  NOTICE_REBOOT,
} from './eve-installer-lines.ts';
import { bootToShell } from './boot-to-shell.ts';
import { expectInstaller } from './installer-watch.ts';
import { hostKeysOnConsole } from './console-host-keys.ts';
import type { StepLog } from './steps.ts';

export interface InstallOptions {
  profile: Profile;
  release: Release;
  /** The prepared installer (CONFIG written) and what netboot methods need besides. */
  media: InstallerMedia;
  /** Private key file matching the injected authorized_keys. */
  privateKeyFile: string;
  /** Files the SSH host key is recorded to once SSH offered the key the console showed (the run's, the profile's). */
  recordHostKeyTo: string[];
  steps: StepLog;
  /** The console login (user, and a password for boxes that ask for one). */
  login?: { user: string; password?: string };
}

export interface InstallOutcome {
  installDisk: string;
  eveRelease: string;
  ssh: SshShell;
}

/**
 * Wait on the console, but end at once if the box powers off meanwhile. A power-off after the installer showed
 * itself is a box failure; one before that proves nothing about the box (we could not see it), so it is a lab error.
 */
async function expectWhileOn(
  box: Box,
  con: Console,
  patterns: RegExp[],
  opts: ExpectOptions,
  offMeans: string,
  offClass: 'box' | 'lab' = 'box',
): Promise<ExpectResult> {
  const off = box.poweredOff();
  if (!off) return expectInstaller(con, patterns, opts);
  let settled = false;
  const watcher = off.then((how) => {
    if (settled) return;
    const msg = `${box.name} powered off ${offMeans} (QEMU ${how})`;
    const details = { where: con.where, tail: con.tail() };
    con.abortWait(offClass === 'box' ? new BoxError(msg, details) : new LabError(msg, details));
  });
  try {
    return await expectInstaller(con, patterns, opts);
  } finally {
    settled = true;
    void watcher;
  }
}

/** `/run/eve-release` read on the console must be `expected` (`what` says where that expectation came from). */
export async function releaseOnConsole(box: Box, expected: string, what: string, hint?: string): Promise<string> {
  const con = box.console;
  const r = await new ConsoleShell(con).run('cat /run/eve-release', { timeout: 30_000 });
  const got = r.stdout.trim();
  if (r.code !== 0) throw new BoxError(`/run/eve-release is missing on ${box.name}: ${got}`, { where: con.where, tail: con.tail() });
  if (got !== expected) throw new BoxError(`${box.name} runs ${got}, but ${what} is ${expected}${hint ? ` (${hint})` : ''}`, { where: con.where });
  return got;
}

/** SSH answers within `timeoutMs` and reports the same release (an SSH session lands in EVE's debug container). */
export async function releaseOverSsh(box: Box, ssh: SshShell, expected: string, timeoutMs: number): Promise<void> {
  await ssh.waitReady({ timeout: timeoutMs });
  const r = await ssh.run('cat /run/eve-release 2>/dev/null || cat /hostfs/etc/eve-release', { timeout: 30_000 });
  if (r.stdout.trim() !== expected) throw new BoxError(`over SSH ${box.name} reports ${r.stdout.trim()}, expected ${expected}`);
}

/** The step that learns the box's SSH host key on the console (before every SSH contact after a boot). */
export const HOST_KEY_STEP = 'SSH host key read on the console';

export async function installRelease(box: Box, o: InstallOptions): Promise<InstallOutcome> {
  const { profile, release, steps } = o;
  const d = profile.install.deadlines;
  const con = box.console;
  const fails = { failPatterns: INSTALL_FAILURES, noDefaultFailPatterns: true };

  await steps.step('power off the box', () => box.power.off());
  const attached = await steps.step('attach the installer', () => box.attachInstaller(o.media));
  // Operator media: a person plugs the stick in and boots the box; the installer's start line is the proof.
  if (attached?.boots !== 'operator') await steps.step('power on into the installer', () => box.power.on());
  await steps.step('installer starts', () =>
    expectWhileOn(box, con, [INSTALLER_STARTED], { ...fails, timeout: d.installerStart * 1000, awaited: `the installer's start line (EVE-OS installation started) on the console: EVE writes it to the last console= (${profile.console.device} from console.device); GRUB output with nothing after it means the box's serial port is not ${profile.console.device}` }, `before its installer showed on the console: nothing from the installer reached console device ${profile.console.device} (console.device wrong?)`, 'lab'),
  );
  const disk = await steps.step('installer picks the target disk', async () => {
    const r = await expectWhileOn(box, con, [INSTALLING_ON], { ...fails, timeout: d.install * 1000, idleTimeout: d.installerIdle * 1000, awaited: 'the installer to name its target disk' }, 'before naming a target disk');
    const dev = r.match![1]!;
    const want = profile.install.disk;
    if (want && dev.replace(/^\/dev\//, '') !== want) {
      throw new BoxError(`the installer chose ${dev}, but the profile asks for ${want} (eve_install_disk)`, { where: con.where, tail: con.tail() });
    }
    return dev;
  });
  const notice = await steps.step('installation completes (NOTICE)', () =>
    expectWhileOn(box, con, [NOTICE_POWEROFF, NOTICE_REBOOT], { ...fails, timeout: d.install * 1000, idleTimeout: d.installerIdle * 1000, awaited: "the installer's NOTICE line" }, 'before the installer printed NOTICE: the install did not complete'),
  );
  if (notice.index === 0) {
    await steps.step('box powers off after install', async () => {
      const off = box.poweredOff();
      if (off) {
        await withTimeout(off, 120_000, () => new BoxError(`${box.name} printed NOTICE but did not power off within 120 s`, { where: con.where, tail: con.tail() }));
      } else await box.power.off();
    });
    await steps.step('detach the installer', () => box.detachInstaller());
    // Only what the installed system prints counts from here (the installer may show a banner too).
    con.discard();
    await steps.step('power on from the installed disk', () => box.power.on());
  } else {
    // NOTICE: reboot. The box boots its disk by itself (the installer media comes first only while attached).
    await steps.step('detach the installer', () => box.detachInstaller());
    con.discard();
  }
  await steps.step('installed system reaches a console shell', () =>
    bootToShell(con, { timeout: d.boot * 1000, ...(o.login ?? { user: profile.console.login.user }) }),
  );
  const eveRelease = await steps.step('EVE release on the box matches', () => releaseOnConsole(box, release.expectedEveRelease, 'the release installed'));
  const trusted = await steps.step(HOST_KEY_STEP, () => hostKeysOnConsole(box, d.ssh * 1000));
  const ep = box.sshEndpoint();
  const ssh = new SshShell({
    host: ep.host,
    port: ep.port,
    user: profile.ssh.user,
    privateKey: o.privateKeyFile,
    hostKey: { trusted, recordTo: o.recordHostKeyTo },
  });
  await steps.step('SSH answers with the injected key', async () => {
    try {
      await releaseOverSsh(box, ssh, release.expectedEveRelease, d.ssh * 1000);
    } catch (e) {
      await ssh.close();
      throw e;
    }
  });
  return { installDisk: disk, eveRelease, ssh };
}
