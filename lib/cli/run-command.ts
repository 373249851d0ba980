// eve-qual run --profile FILE --release SRC [--level N] [--capability X] [--out DIR] [--sample SERIAL] [--operator ORG]
import { ConfigError, ExitCode } from '../errors.ts';
import { CAPABILITIES, type Capability } from '../report/results.ts';
import { runQualification } from '../run/qualify-run.ts';
import { resumeQualification } from '../run/resume-run.ts';
import type { RunOutcome } from '../run/execute-run.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import { stdinPrompt } from '../util/operator-prompt.ts';
import type { Command } from './main.ts';

const SUITE_CAPABILITIES = CAPABILITIES.filter((c) => !['install', 'boot', 'console', 'remote-shell'].includes(c));

const RUN_OPTIONS = {
  profile: { type: 'string' },
  release: { type: 'string' },
  level: { type: 'string' },
  capability: { type: 'string' },
  out: { type: 'string' },
  sample: { type: 'string' },
  operator: { type: 'string' },
  role: { type: 'string' },
  'release-version': { type: 'string' },
  'no-install': { type: 'boolean' },
  program: { type: 'string' },
  recover: { type: 'string' },
  resume: { type: 'string' },
  rerun: { type: 'string' },
} as const;

type RunValues = ReturnType<typeof parseCommandArgs<typeof RUN_OPTIONS>>['values'];

function runHelp(usage: string): string {
  return [
    `Usage: eve-qual run ${usage}`,
    '',
    'Installs the release (as eve-qual install does), then runs the capability suites the level needs',
    '(level 1: basic I/O, Ethernet and USB; level 2 and up: every capability the profile declares), with',
    'inventory first. Every result is written as it happens to <out>/results.json and <out>/junit.xml.',
    '',
    '  --release SRC      a local release folder, a URL base laid out like an EVE GitHub release, or docker:TAG',
    '                     (downloads go through https_proxy/http_proxy unless no_proxy says not; see release --help)',
    '  --level N          1 to 4: the suites the program requires for that level (default: every suite)',
    '  --program FILE     the program (default suites/program.yaml)',
    `  --capability X     run one capability's suite (${SUITE_CAPABILITIES.join(', ')})`,
    '  --sample SERIAL    the serial number of this sample (default: the profile\'s box.sample)',
    '  --operator ORG     the organisation running it; --role owner|partner (default partner)',
    '  --no-install       a real box that already runs the release: log in on its console and over SSH with',
    "                     the profile's ssh.key, check /run/eve-release, run the suites (nothing is installed)",
    '  --recover N        bring a box lost mid-suite (its VM exited, it stopped answering) back up to N times:',
    '                     power-cycle it through its power driver, wait for the installed system and SSH, run the',
    '                     checks left (default 0: a lost box ends the run; the check it stopped is an error)',
    '  --resume DIR       continue the run recorded in DIR (interrupted, killed, crashed or stopped): its',
    '                     finished checks stay, a finished install is not redone, what was running and what',
    '                     never ran runs now; the profile and release must be the recorded ones (checksums)',
    '  --rerun error      with --resume: also run the checks that ended in error again (the earlier run kept',
    '                     in the check\'s attempts)',
    '',
    'Exit codes: 0 every check passed, 1 a declared item is missing or broken, 2 bad input, 3 could not check.',
  ].join('\n');
}

/** The values of the flags that take one, checked: a bad one is a usage error naming the flag (exit 2). */
function checkedFlags(values: RunValues): { level?: number; cap?: Capability; role?: 'owner' | 'partner'; recover: number } {
  let level: number | undefined;
  if (values.level !== undefined) {
    level = Number(values.level);
    if (![1, 2, 3, 4].includes(level)) throw new ConfigError(`eve-qual run: --level must be 1, 2, 3 or 4 (got ${values.level})`);
  }
  const cap = values.capability as Capability | undefined;
  // The install flow's own capabilities are checked by every run; --capability picks a suite.
  if (cap && !SUITE_CAPABILITIES.includes(cap)) throw new ConfigError(`eve-qual run: --capability ${cap} is not a suite (one of ${SUITE_CAPABILITIES.join(', ')})`);
  const role = values.role;
  if (role && role !== 'owner' && role !== 'partner') throw new ConfigError('eve-qual run: --role is owner or partner');
  const recover = values.recover === undefined ? 0 : Number(values.recover);
  if (!/^\d+$/.test(values.recover ?? '0') || recover > 10) throw new ConfigError(`eve-qual run: --recover must be a whole number from 0 to 10 (got ${values.recover})`);
  if (values.rerun !== undefined && values.rerun !== 'error') throw new ConfigError(`eve-qual run: --rerun takes error (got ${values.rerun})`);
  if (values.rerun !== undefined && values.resume === undefined) throw new ConfigError('eve-qual run: --rerun error goes with --resume DIR');
  return { ...(level ? { level } : {}), ...(cap ? { cap } : {}), ...(role ? { role: role as 'owner' | 'partner' } : {}), recover };
}

export const runCommand: Command = {
  name: 'run',
  summary: 'install a release on the box, run the suites of a level, write results.json and junit.xml',
  usage: '--profile FILE --release SRC [--level N] [--capability X] [--out DIR] [--sample SERIAL] [--operator ORG] [--role owner|partner] [--program FILE] [--no-install] [--recover N]  |  --resume DIR [--rerun error] [--recover N]',
  async run(argv) {
    const { values } = parseCommandArgs('run', argv, RUN_OPTIONS);
    if (values.help) {
      console.log(runHelp(this.usage));
      return ExitCode.ok;
    }
    const { level, cap, role, recover } = checkedFlags(values);
    const { ALL_SUITES } = await import('../../suites/index.ts');
    if (values.resume !== undefined) {
      const fixed = (['out', 'level', 'capability', 'no-install', 'sample', 'operator', 'role', 'release-version'] as const).filter((f) => values[f] !== undefined);
      if (fixed.length) throw new ConfigError(`eve-qual run: --resume continues the run as it was planned; --${fixed[0]} cannot change it`);
      return summarize(
        await resumeQualification({
          dir: values.resume,
          suites: ALL_SUITES,
          progress: (l) => console.log(l),
          prompt: stdinPrompt(),
          ...(values.profile ? { profileFile: values.profile } : {}),
          ...(values.release ? { releaseSrc: values.release } : {}),
          ...(values.rerun ? { rerunErrors: true } : {}),
          ...(recover ? { recover } : {}),
          ...(values.program ? { programFile: values.program } : {}),
        }),
      );
    }
    const r = await runQualification({
      profileFile: requireOption('run', values.profile, 'profile'),
      releaseSrc: requireOption('run', values.release, 'release'),
      suites: ALL_SUITES,
      progress: (l) => console.log(l),
      prompt: stdinPrompt(),
      ...(values['no-install'] ? { noInstall: true } : {}),
      ...(recover ? { recover } : {}),
      ...(values.out ? { out: values.out } : {}),
      ...(level ? { level } : {}),
      ...(cap ? { capability: cap } : {}),
      ...(values.sample ? { sample: values.sample } : {}),
      ...(values.operator ? { operator: values.operator } : {}),
      ...(role ? { role: role as 'owner' | 'partner' } : {}),
      ...(values['release-version'] ? { releaseVersion: values['release-version'] } : {}),
      ...(values.program ? { programFile: values.program } : {}),
    });
    return summarize(r);
  },
};

/** The run's last lines: counts, each failure and error with its cause, how it ended, where the results are. */
function summarize(r: RunOutcome): number {
  const count = (o: string) => r.results.tests.filter((t) => t.outcome === o).length;
  console.log(`\n${count('pass')} passed, ${count('fail')} failed, ${count('error')} errors, ${count('skip')} skipped`);
  for (const t of r.results.tests.filter((x) => x.outcome === 'fail' || x.outcome === 'error')) {
    console.log(`  ${t.outcome === 'fail' ? '✘' : '!'} ${t.capability}: ${t.name}: ${(t.message ?? '').split('\n')[0]}`);
  }
  if (r.results.recoveries) console.log(`The box was lost and brought back ${r.results.recoveries} time(s) (--recover): see the checks in error.`);
  if (r.results.status === 'stopped') console.log(`Run stopped: ${r.results.stopped ?? 'a lab fault'} (a lab fault, not a hardware failure)`);
  console.log(`Results: ${r.runDir}/results.json, junit.xml`);
  return r.exitCode;
}
