// From a profile to the Box a run drives: a QemuBox for a virtual profile, else a RealBox made of the profile's
// console link, power driver and media method. Everything that can be wrong in the profile (unknown placeholders,
// missing secrets, media of the wrong kind) is raised here as a config error, before anything is switched.
import type { OperatorPrompt } from '../util/operator-prompt.ts';
import { Console, DEFAULT_FAIL_PATTERNS } from '../console/console.ts';
import { consoleLinkFor } from '../lab/console-link.ts';
import { createBootMedia } from '../media/create-media.ts';
import { createPower } from '../power/create-power.ts';
import type { Link } from '../link/link.ts';
import type { BootMedia } from '../media/boot-media.ts';
import type { Power } from '../power/power.ts';
import type { LoadedProfile } from '../profile/load.ts';
import type { Box } from './box.ts';
import { RealBox } from './real-box.ts';
import { virtualBoxWithMedia } from './virtual-box.ts';

export interface CreateBoxOptions {
  /** Where a virtual box keeps its disks and firmware variables. */
  stateDir: string;
  consoleLog: string;
  /** Loopback port forwarded to a virtual box's SSH. */
  sshPort: number;
  /** Progress lines (operator instructions, power and media steps). */
  say: (line: string) => void;
  prompt?: OperatorPrompt;
}

/**
 * A real box's drivers, unopened: construction throws ConfigError on bad profile input (unknown placeholders,
 * missing secrets, media of the wrong kind) and contacts nothing, so preflight builds them to check the profile.
 */
export function realBoxDrivers(loaded: LoadedProfile, o: Pick<CreateBoxOptions, 'say' | 'prompt'>): { link: Link; power: Power; media: BootMedia } {
  const p = loaded.profile;
  return {
    link: consoleLinkFor(loaded),
    power: createPower(p.power, { profileDir: loaded.dir, box: p.box.name, log: (l) => o.say(`  ${l}`), ...(o.prompt ? { prompt: o.prompt } : {}) }),
    media: createBootMedia(loaded, { say: o.say, ...(o.prompt ? { prompt: o.prompt } : {}) }),
  };
}

/** A real box made of its drivers and a console over its link (logging to `consoleLog`), not yet opened. */
export function realBoxFromProfile(loaded: LoadedProfile, o: Omit<CreateBoxOptions, 'stateDir' | 'sshPort'>): RealBox {
  const p = loaded.profile;
  const { link, power, media } = realBoxDrivers(loaded, o);
  const console = new Console(link, {
    boxName: p.box.name,
    logFile: o.consoleLog,
    failPatterns: [...DEFAULT_FAIL_PATTERNS, ...(p.console.failPatterns ?? []).map((s) => new RegExp(s))],
    ...(p.console.charDelayMs !== undefined ? { charDelayMs: p.console.charDelayMs } : {}),
  });
  return new RealBox({ name: p.box.name, console, power, media, ssh: { host: p.ssh.host, port: p.ssh.port } });
}

export async function boxFromProfile(loaded: LoadedProfile, o: CreateBoxOptions): Promise<Box> {
  const p = loaded.profile;
  if (p.box.kind === 'virtual') return virtualBoxWithMedia(p, { stateDir: o.stateDir, consoleLog: o.consoleLog, sshPort: o.sshPort, say: o.say });
  const box = realBoxFromProfile(loaded, o);
  try {
    await box.open();
  } catch (e) {
    await box.close();
    throw e;
  }
  return box;
}
