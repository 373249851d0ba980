// The suites of a run, with the box watched (./box-watch.ts): a box that dies or stops answering ends the checks at
// once as a lab fault, not as a failing item. With recoveries allowed (`run --recover N`) the box is power-cycled
// through its own power driver (a virtual box: a new QEMU from its installed disk; nothing is reinstalled), the
// installed system awaited on the console, its new SSH host key learnt there, and the checks not yet recorded run.
import { bootToShell } from '../install/boot-to-shell.ts';
import { repinAfterBoot } from '../install/console-host-keys.ts';
import { HOST_KEY_STEP } from '../install/install-release.ts';
import { LabError } from '../errors.ts';
import { TrafficPeer } from '../lab/traffic-peer.ts';
import { runSuites } from '../suite-runtime/run-suites.ts';
import type { SuiteModule } from '../suite-runtime/suite-context.ts';
import { Deadline } from '../util/deadline.ts';
import { BoxWatch, type BoxLoss } from './box-watch.ts';
import { consoleLogin, hostKeyRecords, type InstallRunResult } from './install-run.ts';
import type { RunFault, RunPlan } from './run-plan.ts';

export interface SuitesPhase {
  inst: InstallRunResult;
  plan: RunPlan;
  modules: SuiteModule[];
  runDir: string;
  /** How many times a lost box may be brought back (default 0). */
  recover: number;
  /** Only these checks (a resumed run: what was left); default all. */
  only?: ReadonlySet<string>;
  /** Resolves on a fault of the run's own that ends the suites (the disk under the run folder full). */
  runFault?: Promise<RunFault>;
  progress?: (line: string) => void;
}

/** Bound on bringing a lost box back: power, firmware, boot, shell, SSH. */
const RECOVERY_MS = 600_000;

/**
 * After a reboot (the watchdog test, a recovery): the installed system on the console, then its new SSH host key
 * learnt there (EVE makes one at every boot) and pinned, recorded as a step, and only then SSH again.
 */
export async function reconnectAfterReboot(inst: InstallRunResult, timeoutMs: number): Promise<void> {
  const deadline = new Deadline(timeoutMs);
  // The connection from before the reboot is dead, though SSH would only learn so from keepalives, later.
  inst.outcome.ssh.dropConnection('the box rebooted');
  await bootToShell(inst.box.console, { timeout: deadline.remaining(), ...consoleLogin(inst.loaded) });
  await inst.steps.step(`${HOST_KEY_STEP} after a reboot`, () =>
    repinAfterBoot(inst.box, inst.outcome.ssh, hostKeyRecords(inst.loaded, inst.runDir), Math.max(30_000, deadline.remaining())),
  );
  await inst.outcome.ssh.waitReady({ timeout: Math.max(30_000, deadline.remaining()) });
}

/** Runs the suites; returns the fault that ended them early (the plan has recorded the check it stopped), or null. */
export async function runWatchedSuites(ph: SuitesPhase): Promise<{ fault: RunFault | null; recoveries: number }> {
  const { inst } = ph;
  const p = inst.loaded.profile;
  // A virtual box reaches the runner's loopback through QEMU's user net (10.0.2.2); a real box reaches whichever
  // runner address its profile declares as each port's peer.
  const peer = await TrafficPeer.start(p.box.kind === 'virtual' ? '127.0.0.1' : '0.0.0.0');
  inst.scope.defer('traffic peer', () => peer.close());
  let losses: (loss: BoxLoss) => void = () => {};
  const watch = new BoxWatch(
    { box: inst.box, console: inst.box.console, ssh: () => inst.outcome.ssh, poweredOffIs: p.box.kind === 'virtual' ? 'QEMU exited' : 'the box powered off' },
    (loss) => losses(loss),
  );
  inst.scope.defer('box watch', () => watch.close());
  let only = ph.only;
  for (let recoveries = 0; ; recoveries++) {
    const lost = new Promise<BoxLoss>((resolve) => (losses = resolve));
    const fault = await runOnce(ph, watch, peer, Promise.race([lost.then(lossFault), ...(ph.runFault ? [ph.runFault] : [])]), only);
    if (!fault) return { fault: null, recoveries };
    ph.progress?.(`! ${fault.message}`);
    if (recoveries >= ph.recover || fault.short !== 'box lost') return { fault, recoveries };
    ph.plan.lose(fault);
    const failed = await recoverBox(inst, recoveries + 1, ph.recover, ph.progress).then(
      () => null,
      (e: unknown) => ({ ...fault, message: `${fault.message}; recovery ${recoveries + 1} failed: ${(e as Error).message.split('\n')[0]}` }),
    );
    if (failed) return { fault: failed, recoveries: recoveries + 1 };
    only = new Set(ph.plan.remaining().map((c) => c.id));
  }
}

/** One mocha run of the suites, ended early by a loss; results of a run that lost its box are not taken. */
function lossFault(loss: BoxLoss): RunFault {
  return { message: loss.message, short: 'box lost', since: loss.since, ...(loss.panic ? { panic: loss.panic } : {}) };
}

async function runOnce(ph: SuitesPhase, watch: BoxWatch, peer: TrafficPeer, faults: Promise<RunFault>, only: ReadonlySet<string> | undefined): Promise<RunFault | null> {
  const { inst, plan } = ph;
  const abort = new AbortController();
  let live = true;
  watch.arm();
  const suites = runSuites({
    ctx: {
      profile: inst.loaded.profile, box: inst.box, shell: inst.outcome.ssh, console: inst.box.console, runDir: ph.runDir, peer,
      reconnect: async (ms) => {
        watch.expectReboot();
        await reconnectAfterReboot(inst, ms);
        watch.arm();
      },
      expectReboot: () => watch.expectReboot(),
    },
    modules: ph.modules,
    onTest: (t) => live && plan.record(t),
    onStart: (id) => {
      if (!live) return;
      watch.checkStarts();
      plan.start(id);
    },
    signal: abort.signal,
    ...(only ? { only } : {}),
    ...(ph.progress ? { progress: (l: string) => live && ph.progress!(l) } : {}),
  }).then(async () => {
    // The last checks may have ended on a box that was going: wait for the watch's judgement of an SSH loss.
    return (await watch.settled()) ? faults : null;
  });
  const fault = await Promise.race([suites, faults]);
  if (!fault) return null;
  live = false;
  abort.abort();
  return fault;
}

/** Power-cycle the lost box and bring it to a shell; the old shell is closed so whatever waited on it ends now. */
async function recoverBox(inst: InstallRunResult, n: number, of: number, progress?: (l: string) => void): Promise<void> {
  progress?.(`▶ recovery ${n} of ${of}: power-cycle ${inst.box.name} through ${inst.box.power.where}, then the installed system and SSH`);
  inst.box.console.abortWait(new LabError(`${inst.box.name} was lost; recovering it`));
  const old = inst.outcome.ssh;
  await old.close();
  const ssh = old.sibling();
  inst.outcome.ssh = ssh;
  inst.scope.defer('ssh shell (after a recovery)', () => ssh.close());
  const deadline = new Deadline(RECOVERY_MS);
  await inst.steps.step(`recovery ${n}: power-cycle`, () => inst.box.power.cycle());
  await reconnectAfterReboot(inst, deadline.remaining());
}
