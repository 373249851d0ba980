// Bad input, every command: each row must end with exit 2 and ONE line on stderr (no stack trace) naming the input
// (file, field or flag), with no box touched and --out left as it was. Rows marked `cli` run bin/eve-qual as a user
// does (a process each: its exit code, its stderr); the others run the same entry, lib/cli/main.ts's main(), in this
// process with stdout and stderr captured, because a process start costs seconds here and there are over 100 rows.
// "No box touched": qemu, swtpm and every lab command of the real-box profiles are scripts on PATH that only record
// that they ran; the real-box profiles' console and SSH endpoints are loopback listeners that record a connection.
import { expect } from 'chai';
import { execa, execaSync } from 'execa';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fixtureRelease, repoRoot } from '../helpers/fixture-release.ts';

interface Fixtures {
  tmp: string;
  release: string;
  /** Profiles and release folders made in before(), by name. */
  file: Record<string, string>;
}

interface BadInput {
  /** What is wrong, as the test title says it. */
  name: string;
  args: (f: Fixtures) => string[];
  /** What the one line must contain: the input it is about, and what is wrong with it. */
  says: (f: Fixtures) => RegExp;
  /** Append `--out DIR`: a folder that does not exist (must not afterwards) or one with a file in it (kept as is). */
  out?: 'missing' | 'existing';
  /** Files the command would write if it went ahead (report --html, profile init --out): must not exist after. */
  notWritten?: (f: Fixtures) => string[];
  /** The loopback endpoints of this real-box profile must see no connection. */
  endpoints?: string;
  /** Run as a separate process through bin/eve-qual. */
  cli?: true;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const P = path.join(repoRoot, 'hardware-profiles', 'qemu-amd64.yaml');
const GOOD_RUN = path.join(repoRoot, 'test', 'golden', 'amd64-level2');
const run = (f: Fixtures, profile: string, ...more: string[]) => ['run', '--profile', profile, '--release', f.release, ...more];

const cases: BadInput[] = [
  // The command line itself.
  { cli: true, name: 'an unknown command', args: () => ['frobnicate'], says: () => /unknown command 'frobnicate'/ },
  { name: 'run: an unknown flag', args: (f) => run(f, P, '--bogus-flag'), says: () => /Unknown option '--bogus-flag'/, out: 'missing' },
  { name: 'run: --profile missing', args: (f) => ['run', '--release', f.release], says: () => /--profile is required/, out: 'missing' },
  { name: 'run: --release missing', args: () => ['run', '--profile', P], says: () => /--release is required/, out: 'missing' },
  { cli: true, name: 'run: --level 5', args: (f) => run(f, P, '--level', '5'), says: () => /--level must be 1, 2, 3 or 4 \(got 5\)/, out: 'missing' },
  { name: 'run: --level abc', args: (f) => run(f, P, '--level', 'abc'), says: () => /--level .*\(got abc\)/, out: 'missing' },
  { cli: true, name: 'run: --level without a value', args: (f) => [...run(f, P), '--level'], says: () => /Option '--level' argument is ambiguous/, out: 'missing' },
  { name: 'run: --capability flux', args: (f) => run(f, P, '--capability', 'flux'), says: () => /--capability flux is not a suite/, out: 'missing' },
  { name: 'run: --capability install (a capability of the install flow, not a suite)', args: (f) => run(f, P, '--capability', 'install'), says: () => /--capability install is not a suite/, out: 'missing' },
  { name: 'run: --role boss', args: (f) => run(f, P, '--role', 'boss'), says: () => /--role is owner or partner/, out: 'existing' },
  { cli: true, name: 'run: --out naming an existing file', args: (f) => run(f, P, '--out', f.file.aFile!), says: (f) => new RegExp(`--out ${esc(f.file.aFile!)}: exists and is not a directory`) },
  { name: 'run: --program missing file', args: (f) => run(f, P, '--program', path.join(f.tmp, 'no-program.yaml')), says: (f) => new RegExp(`${esc(path.join(f.tmp, 'no-program.yaml'))}: no such file`), out: 'missing' },
  { name: 'run: --program with an unknown field', args: (f) => run(f, P, '--program', f.file.programUnknown!), says: (f) => new RegExp(`${esc(f.file.programUnknown!)}:\\d+:\\d+: .*colour: unknown field`), out: 'missing' },
  { name: 'run: --program with a YAML syntax error', args: (f) => run(f, P, '--program', f.file.programSyntax!), says: (f) => new RegExp(`${esc(f.file.programSyntax!)}:\\d+:\\d+: .*YAML`), out: 'existing' },
  { name: 'run: --recover -1', args: (f) => run(f, P, '--recover', '-1'), says: () => /Option '--recover' argument is ambiguous/, out: 'missing' },
  { name: 'run: --recover=-1', args: (f) => run(f, P, '--recover=-1'), says: () => /--recover must be a whole number from 0 to 10 \(got -1\)/, out: 'missing' },
  { name: 'run: --recover abc', args: (f) => run(f, P, '--recover', 'abc'), says: () => /--recover must be a whole number .*\(got abc\)/, out: 'existing' },
  { name: 'run: --recover 1.5', args: (f) => run(f, P, '--recover', '1.5'), says: () => /--recover must be a whole number .*\(got 1\.5\)/, out: 'missing' },
  { name: 'run: --recover 11', args: (f) => run(f, P, '--recover', '11'), says: () => /--recover must be a whole number from 0 to 10 \(got 11\)/, out: 'missing' },
  { name: 'run --resume: a folder with no run', args: (f) => ['run', '--resume', f.file.emptyDir!], says: (f) => new RegExp(`--resume ${esc(f.file.emptyDir!)}: no run to resume there`) },
  { name: 'run --resume: a folder that does not exist', args: (f) => ['run', '--resume', path.join(f.tmp, 'no-run-here')], says: (f) => new RegExp(`--resume ${esc(path.join(f.tmp, 'no-run-here'))}: no run to resume there`), notWritten: (f) => [path.join(f.tmp, 'no-run-here')] },
  { name: 'run --resume: a results file that is not JSON', args: (f) => ['run', '--resume', f.file.brokenRun!], says: (f) => new RegExp(`--resume ${esc(f.file.brokenRun!)}: no run to resume there .*not valid JSON`) },
  { name: 'run --resume: the profile changed since the run', args: (f) => ['run', '--resume', f.file.resumable!, '--profile', P, '--release', f.release], says: (f) => new RegExp(`--resume ${esc(f.file.resumable!)}: the profile ${esc(P)} changed since the run`) },
  { name: 'run --resume: with --out', args: (f) => ['run', '--resume', f.file.resumable!], says: () => /--resume continues the run as it was planned; --out cannot change it/, out: 'missing' },
  { name: 'run --resume: --rerun something-else', args: (f) => ['run', '--resume', f.file.resumable!, '--rerun', 'something-else'], says: () => /--rerun takes error \(got something-else\)/ },
  { name: 'run: --rerun error without --resume', args: (f) => run(f, P, '--rerun', 'error'), says: () => /--rerun error goes with --resume DIR/, out: 'missing' },
  { name: 'run --resume: --recover -1', args: (f) => ['run', '--resume', f.file.resumable!, '--recover', '-1'], says: () => /Option '--recover' argument is ambiguous/ },
  { name: 'run --resume: --recover abc', args: (f) => ['run', '--resume', f.file.resumable!, '--recover', 'abc'], says: () => /--recover must be a whole number .*\(got abc\)/ },
  { name: 'install: an unknown flag', args: (f) => ['install', '--profile', P, '--release', f.release, '--levle', '2'], says: () => /Unknown option '--levle'/, out: 'missing' },
  { name: 'install: --profile missing', args: (f) => ['install', '--release', f.release], says: () => /--profile is required/, out: 'missing' },
  { cli: true, name: 'install: --out naming an existing file', args: (f) => ['install', '--profile', P, '--release', f.release, '--out', f.file.aFile!], says: (f) => new RegExp(`--out ${esc(f.file.aFile!)}: exists and is not a directory`) },
  { name: 'profile: an unknown subcommand', args: () => ['profile', 'lint', P], says: () => /unknown subcommand 'lint'/ },
  { name: 'profile validate: no file named', args: () => ['profile', 'validate'], says: () => /profile validate: name at least one profile file/ },
  { name: 'profile validate: a missing file', args: (f) => ['profile', 'validate', path.join(f.tmp, 'nope.yaml')], says: (f) => new RegExp(`${esc(path.join(f.tmp, 'nope.yaml'))}: no such file`) },
  { name: 'profile init: --arch sparc', args: (f) => ['profile', 'init', '--out', path.join(f.tmp, 'init.yaml'), '--vendor', 'V', '--model', 'M', '--arch', 'sparc', '--ssh-host', '10.0.0.9', '--console', '/dev/ttyUSB0'], says: () => /arch must be amd64 or arm64 \(got sparc\)/, notWritten: (f) => [path.join(f.tmp, 'init.yaml')] },
  { name: 'profile: an unknown flag', args: () => ['profile', 'validate', P, '--strict'], says: () => /profile: Unknown option '--strict'/ },
  { name: 'qualify: an unknown flag', args: () => ['qualify', GOOD_RUN, '--jsn'], says: () => /qualify: Unknown option '--jsn'/ },
  { name: 'report: an unknown flag', args: (f) => ['report', GOOD_RUN, '--html', path.join(f.tmp, 'u.html'), '--pdf'], says: () => /report: Unknown option '--pdf'/, notWritten: (f) => [path.join(f.tmp, 'u.html')] },
  { name: 'diff: an unknown flag', args: () => ['diff', GOOD_RUN, GOOD_RUN, '--html'], says: () => /diff: Unknown option '--html'/ },
  { name: 'release: an unknown flag', args: (f) => ['release', 'verify', f.release, '--arch', 'amd64', '--out', path.join(f.tmp, 'rel-out')], says: () => /release: Unknown option '--out'/, notWritten: (f) => [path.join(f.tmp, 'rel-out')] },
  { name: 'power: an unknown flag', args: (f) => ['power', 'off', '--profile', f.file.realPowerFlag!, '--force'], says: () => /power: Unknown option '--force'/, endpoints: 'realPowerFlag' },
  { name: 'check: an unknown flag', args: (f) => ['check', '--profile', f.file.realCheckFlag!, '--jason'], says: () => /check: Unknown option '--jason'/, endpoints: 'realCheckFlag' },
  { name: 'qualify: no run named', args: () => ['qualify'], says: () => /qualify: name at least one run directory/ },
  { name: 'qualify: a run folder that does not exist', args: (f) => ['qualify', path.join(f.tmp, 'no-run')], says: (f) => new RegExp(`${esc(path.join(f.tmp, 'no-run'))}: no such run directory`) },
  { cli: true, name: 'qualify: a results.json that is not JSON', args: (f) => ['qualify', f.file.brokenRun!], says: (f) => new RegExp(`${esc(f.file.brokenRun!)}.*(JSON|json)`) },
  { name: 'qualify: a results file that is plain text', args: (f) => ['qualify', f.file.textRun!], says: (f) => new RegExp(`${esc(f.file.textRun!)}:\\d+:\\d+: not valid JSON`) },
  { name: 'qualify: a results.json with one field of a wrong type', args: (f) => ['qualify', f.file.badFieldRun!], says: (f) => new RegExp(`${esc(path.join(f.file.badFieldRun!, 'results.json'))}: tests\\[0\\]\\.outcome: `) },
  { name: 'report: --html naming a folder', args: (f) => ['report', GOOD_RUN, '--html', f.file.emptyDir!], says: (f) => new RegExp(`--html ${esc(f.file.emptyDir!)}: `) },
  { name: 'qualify: --level 9', args: () => ['qualify', GOOD_RUN, '--level', '9'], says: () => /--level 9: the program has levels/ },
  { name: 'qualify: --level abc', args: () => ['qualify', GOOD_RUN, '--level', 'abc'], says: () => /--level abc: the program has levels/ },
  { name: 'diff: runs of two different boxes', args: () => ['diff', GOOD_RUN, path.join(repoRoot, 'test', 'golden', 'arm64-level2')], says: () => /diff compares two runs of the same box: A is QEMU q35-ovmf/ },
  { name: 'qualify: --as-of not a date', args: () => ['qualify', GOOD_RUN, '--as-of', 'tomorrow'], says: () => /--as-of tomorrow: expected a date/ },
  { name: 'qualify: --waivers with a wrong type', args: (f) => ['qualify', GOOD_RUN, '--waivers', f.file.waiversBad!], says: (f) => new RegExp(`${esc(f.file.waiversBad!)}:\\d+:\\d+: waivers: wrong type`) },
  { name: 'qualify: --program with a wrong type', args: (f) => ['qualify', GOOD_RUN, '--program', f.file.programType!], says: (f) => new RegExp(`${esc(f.file.programType!)}:\\d+:\\d+: levels: wrong type`) },
  { name: 'report: --html missing', args: () => ['report', GOOD_RUN], says: () => /--html is required/ },
  { name: 'report: --html in a folder that does not exist', args: (f) => ['report', GOOD_RUN, '--html', path.join(f.tmp, 'no-dir', 'r.html')], says: (f) => new RegExp(`--html ${esc(path.join(f.tmp, 'no-dir', 'r.html'))}: no directory`), notWritten: (f) => [path.join(f.tmp, 'no-dir')] },
  { name: 'report: a run folder that holds no run', args: (f) => ['report', f.file.emptyDir!, '--html', path.join(f.tmp, 'r.html')], says: (f) => new RegExp(`${esc(f.file.emptyDir!)}: not a run directory`), notWritten: (f) => [path.join(f.tmp, 'r.html')] },
  { name: 'diff: one run only', args: () => ['diff', GOOD_RUN], says: () => /diff: name exactly two runs/ },
  { name: 'diff: a run that does not exist', args: (f) => ['diff', GOOD_RUN, path.join(f.tmp, 'no-run-b')], says: (f) => new RegExp(`${esc(path.join(f.tmp, 'no-run-b'))}: no such run directory`) },
  { name: 'release: an unknown subcommand', args: (f) => ['release', 'download', f.release, '--arch', 'amd64'], says: () => /unknown subcommand 'download'/ },
  { name: 'release verify: --arch sparc', args: (f) => ['release', 'verify', f.release, '--arch', 'sparc'], says: () => /--arch is amd64 or arm64 \(got sparc\)/ },
  { name: 'release verify: --arch missing', args: (f) => ['release', 'verify', f.release], says: () => /--arch is required/ },
  { name: 'release verify: a folder that does not exist', args: (f) => ['release', 'verify', path.join(f.tmp, 'no-release'), '--arch', 'amd64'], says: (f) => new RegExp(`${esc(path.join(f.tmp, 'no-release'))}`) },
  { name: 'release verify: --dir for a local folder', args: (f) => ['release', 'verify', f.release, '--arch', 'amd64', '--dir', path.join(f.tmp, 'rel-dir')], says: () => /--dir is for a URL or docker: release/, notWritten: (f) => [path.join(f.tmp, 'rel-dir')] },
  { name: 'power: no action', args: () => ['power', '--profile', P], says: () => /power: say one of on, off, cycle, status/ },
  { name: 'power: an unknown action', args: () => ['power', 'explode', '--profile', P], says: () => /power: say one of/ },
  { name: 'power on: --profile missing', args: () => ['power', 'on'], says: () => /--profile is required/ },
  { name: 'power on: a virtual box', args: () => ['power', 'on', '--profile', P], says: () => /qemu-amd64 is a virtual box/ },
  { cli: true, name: 'power on: --confirm-timeout -5', args: (f) => ['power', 'on', '--profile', f.file.realPowerOn!, '--confirm-timeout', '-5'], says: () => /Option '--confirm-timeout' argument is ambiguous/, endpoints: 'realPowerOn' },
  { name: 'power cycle: --confirm-timeout abc', args: (f) => ['power', 'cycle', '--profile', f.file.realPowerCycle!, '--confirm-timeout', 'abc'], says: () => /--confirm-timeout must be a number of seconds/, endpoints: 'realPowerCycle' },
  { name: 'console: --profile missing', args: () => ['console'], says: () => /--profile is required/ },
  { name: 'console: a virtual box', args: () => ['console', '--profile', P], says: () => /qemu-amd64 is a virtual box/ },
  { name: 'console: an unknown flag', args: (f) => ['console', '--profile', f.file.realConsoleFlag!, '--baud', '9600'], says: () => /Unknown option '--baud'/, endpoints: 'realConsoleFlag' },
  { name: 'check: --profile missing', args: () => ['check'], says: () => /--profile is required/, out: 'missing' },
  { name: 'check: an invalid profile', args: (f) => ['check', '--profile', f.file.realPort!], says: (f) => new RegExp(`${esc(f.file.realPort!)}:\\d+:\\d+: ssh\\.port: `), out: 'missing', endpoints: 'realPort' },
  { name: 'check: --out naming an existing file (real box)', args: (f) => ['check', '--profile', f.file.realCheckOut!, '--out', f.file.aFile!], says: (f) => new RegExp(`--out ${esc(f.file.aFile!)}: exists and is not a directory`), endpoints: 'realCheckOut' },
  { name: 'console: --log under a file (real box)', args: (f) => ['console', '--profile', f.file.realLogFile!, '--log', path.join(f.file.aFile!, 'c.log')], says: (f) => new RegExp(`--log ${esc(path.join(f.file.aFile!, 'c.log'))}: `), endpoints: 'realLogFile' },
  { name: 'console: --log naming a folder (real box)', args: (f) => ['console', '--profile', f.file.realLogDir!, '--log', f.file.emptyDir!], says: (f) => new RegExp(`--log ${esc(f.file.emptyDir!)}: `), endpoints: 'realLogDir' },
  { name: 'run: --no-install on a virtual box', args: (f) => run(f, P, '--no-install'), says: () => /--no-install: a virtual box is created fresh/, out: 'missing' },
  { name: 'run: --level 0', args: (f) => run(f, P, '--level', '0'), says: () => /--level must be 1, 2, 3 or 4 \(got 0\)/, out: 'missing' },
  { name: 'profile init: --out naming an existing file', args: (f) => ['profile', 'init', '--out', f.file.aFile!, '--vendor', 'V', '--model', 'M', '--arch', 'amd64', '--ssh-host', '10.0.0.9', '--console', '/dev/ttyUSB0'], says: (f) => new RegExp(`${esc(f.file.aFile!)} exists; choose another --out`) },
  { name: 'report: --waivers missing file', args: (f) => ['report', GOOD_RUN, '--html', path.join(f.tmp, 'w.html'), '--waivers', path.join(f.tmp, 'no-waivers.yaml')], says: (f) => new RegExp(`waivers file ${esc(path.join(f.tmp, 'no-waivers.yaml'))}: no such file`), notWritten: (f) => [path.join(f.tmp, 'w.html')] },
  { name: 'qualify: --program missing file', args: (f) => ['qualify', GOOD_RUN, '--program', path.join(f.tmp, 'no-program.yaml')], says: (f) => new RegExp(`program ${esc(path.join(f.tmp, 'no-program.yaml'))}: no such file`) },
  { name: 'release verify: two releases', args: (f) => ['release', 'verify', f.release, f.release, '--arch', 'amd64'], says: () => /one release at a time/ },

  // Profiles.
  { name: 'profile: a missing file', args: (f) => run(f, path.join(f.tmp, 'missing.yaml')), says: (f) => new RegExp(`${esc(path.join(f.tmp, 'missing.yaml'))}: no such file`), out: 'missing' },
  { cli: true, name: 'profile: an empty file', args: (f) => run(f, f.file.empty!), says: (f) => new RegExp(`${esc(f.file.empty!)}:1:1: .*the profile is empty`), out: 'missing' },
  { name: 'profile: only a comment', args: (f) => run(f, f.file.commentOnly!), says: (f) => new RegExp(`${esc(f.file.commentOnly!)}:1:1: .*the profile is empty`), out: 'existing' },
  { cli: true, name: 'profile: a YAML syntax error', args: (f) => run(f, f.file.syntax!), says: (f) => new RegExp(`${esc(f.file.syntax!)}:\\d+:\\d+: .*YAML`), out: 'missing' },
  { name: 'profile: a duplicate key', args: (f) => run(f, f.file.dupKey!), says: (f) => new RegExp(`${esc(f.file.dupKey!)}:\\d+:\\d+: .*YAML: Map keys must be unique`), out: 'missing' },
  { cli: true, name: 'profile: a YAML alias bomb', args: (f) => run(f, f.file.aliasBomb!), says: (f) => new RegExp(`${esc(f.file.aliasBomb!)}:\\d+:\\d+: .*alias`), out: 'missing' },
  { cli: true, name: 'profile validate: a YAML alias bomb', args: (f) => ['profile', 'validate', f.file.aliasBomb!], says: (f) => new RegExp(`${esc(f.file.aliasBomb!)}:\\d+:\\d+: .*alias`) },
  { name: 'profile: a YAML document that is a list', args: (f) => run(f, f.file.list!), says: (f) => new RegExp(`${esc(f.file.list!)}:1:1: \\(top level\\): wrong type: expected object, got array`), out: 'missing' },
  { name: 'profile: an unknown field', args: (f) => run(f, f.file.unknownField!), says: (f) => new RegExp(`${esc(f.file.unknownField!)}:\\d+:\\d+: box\\.colour: unknown field`), out: 'missing' },
  { name: 'profile: a wrong type', args: (f) => run(f, f.file.wrongType!), says: (f) => new RegExp(`${esc(f.file.wrongType!)}:\\d+:\\d+: virtual\\.memoryMb: wrong type`), out: 'missing' },
  { name: 'profile: a bad enum value', args: (f) => run(f, f.file.badArch!), says: (f) => new RegExp(`${esc(f.file.badArch!)}:\\d+:\\d+: box\\.arch: bad value`), out: 'missing' },
  { name: 'profile: ssh.port 70000 (real box)', args: (f) => run(f, f.file.realPort!), says: (f) => new RegExp(`${esc(f.file.realPort!)}:\\d+:\\d+: ssh\\.port: `), out: 'missing', endpoints: 'realPort' },
  { name: 'profile: a console port 0 (real box)', args: (f) => run(f, f.file.realConsolePort!), says: (f) => new RegExp(`${esc(f.file.realConsolePort!)}:\\d+:\\d+: console\\.link\\.port: `), out: 'missing', endpoints: 'realConsolePort' },
  { name: 'profile: a negative install deadline', args: (f) => run(f, f.file.badDeadline!), says: (f) => new RegExp(`${esc(f.file.badDeadline!)}:\\d+:\\d+: install\\.deadlines\\.install: `), out: 'missing' },
  { name: 'profile: connectTimeoutMs 0 (real box)', args: (f) => run(f, f.file.realTimeout!), says: (f) => new RegExp(`${esc(f.file.realTimeout!)}:\\d+:\\d+: console\\.link\\.connectTimeoutMs: `), out: 'missing', endpoints: 'realTimeout' },
  { name: 'profile: a symlink loop', args: (f) => run(f, f.file.loop!), says: (f) => new RegExp(`profile ${esc(f.file.loop!)}: .*(symbolic links|loop)`), out: 'missing' },
  { name: 'profile: a dangling symlink', args: (f) => run(f, f.file.dangling!), says: (f) => new RegExp(`profile ${esc(f.file.dangling!)}: no such file`), out: 'missing' },
  { name: 'profile: a directory', args: (f) => run(f, f.file.emptyDir!), says: (f) => new RegExp(`profile ${esc(f.file.emptyDir!)}: .*directory`), out: 'missing' },
  { name: 'profile: a console password from an unset variable', args: (f) => run(f, f.file.unsetPassword!), says: () => /console\.login\.password: environment variable EVE_QUAL_TEST_UNSET_PASSWORD is not set/, out: 'missing' },
  { cli: true, name: 'profile: an IPMI password from an unset variable (real box)', args: (f) => run(f, f.file.realIpmi!), says: () => /power\.password: environment variable EVE_QUAL_TEST_UNSET_BMC is not set/, out: 'missing', endpoints: 'realIpmi' },
  { name: 'profile: an inline IPMI password (real box)', args: (f) => run(f, f.file.realInline!), says: (f) => new RegExp(`${esc(f.file.realInline!)}:\\d+:\\d+: power\\.password: an inline secret is not allowed`), out: 'missing', endpoints: 'realInline' },
  { name: 'profile: an IPMI password file that does not exist (real box)', args: (f) => run(f, f.file.realSecretFile!), says: (f) => new RegExp(`power\\.password: cannot read secret file ${esc(path.join(f.tmp, 'no-such-secret'))}`), out: 'missing', endpoints: 'realSecretFile' },
  { name: 'profile: a real box without ssh.host', args: (f) => run(f, f.file.realNoHost!), says: (f) => new RegExp(`${esc(f.file.realNoHost!)}:\\d+:\\d+: ssh: a real box needs ssh\\.host`), out: 'missing', endpoints: 'realNoHost' },
  { name: 'profile: a virtual box with manual power', args: (f) => run(f, f.file.virtualManual!), says: (f) => new RegExp(`${esc(f.file.virtualManual!)}:\\d+:\\d+: power\\.type: a virtual box .*not manual`), out: 'missing' },
  { name: 'profile: a defect on an item not declared', args: (f) => run(f, f.file.badDefect!), says: (f) => new RegExp(`${esc(f.file.badDefect!)}:\\d+:\\d+: virtual\\.defects\\[0\\]: usb\\.nostick is not declared`), out: 'missing' },
  { name: 'profile: two Ethernet ports with one name', args: (f) => run(f, f.file.dupPort!), says: (f) => new RegExp(`${esc(f.file.dupPort!)}:\\d+:\\d+: hardware\\.ethernet\\[1\\]\\.name: duplicate name eth0`), out: 'missing' },
  { name: 'install: --release-version naming another hypervisor', args: (f) => ['install', '--profile', P, '--release', f.release, '--release-version', '14.5.1-xen-amd64'], says: () => /the version given says 14\.5\.1-xen-amd64/, out: 'missing' },
  { name: 'profile: an SSH key file that does not exist (real box, --no-install)', args: (f) => run(f, f.file.realNoKey!, '--no-install'), says: (f) => new RegExp(`ssh\\.key: ${esc(path.join(f.tmp, 'no-such-key'))}`), out: 'missing', endpoints: 'realNoKey' },

  // Releases.
  { name: 'release: a folder that does not exist', args: (f) => ['run', '--profile', P, '--release', path.join(f.tmp, 'no-release')], says: (f) => new RegExp(`release ${esc(path.join(f.tmp, 'no-release'))}: `), out: 'missing' },
  { name: 'release: no installer asset', args: (f) => ['run', '--profile', P, '--release', f.file.relMissing!], says: (f) => new RegExp(`release ${esc(f.file.relMissing!)} has no installer image`), out: 'missing' },
  { cli: true, name: 'release: a checksum mismatch', args: (f) => ['install', '--profile', P, '--release', f.file.relCorrupt!], says: () => /amd64\.kvm\.generic\.installer\.raw does not match amd64\.kvm\.generic\.sha256sums/, out: 'missing' },
  { name: 'release: no line in the sums file', args: (f) => ['run', '--profile', P, '--release', f.file.relNoLine!], says: () => /amd64\.kvm\.generic\.sha256sums has no line for amd64\.kvm\.generic\.installer\.raw/, out: 'existing' },
  { cli: true, name: 'release: not an EVE image (no CONFIG partition) with the right checksum', args: (f) => ['run', '--profile', P, '--release', f.file.relNotEve!], says: (f) => new RegExp(`${esc(path.join(f.file.relNotEve!, 'amd64.kvm.generic.installer.raw'))}.*(no GPT|no CONFIG)`), out: 'missing' },
  { cli: true, name: 'install: not an EVE image (no CONFIG partition)', args: (f) => ['install', '--profile', P, '--release', f.file.relNotEve!], says: (f) => new RegExp(`${esc(path.join(f.file.relNotEve!, 'amd64.kvm.generic.installer.raw'))}.*(no GPT|no CONFIG)`), out: 'existing' },
  { name: 'release: a GPT image with no CONFIG partition', args: (f) => ['run', '--profile', P, '--release', f.file.relNoConfig!], says: (f) => new RegExp(`${esc(path.join(f.file.relNoConfig!, 'amd64.kvm.generic.installer.raw'))} has no CONFIG partition`), out: 'missing' },
  { name: 'release: a .raw.zst with no GPT, checksum right', args: (f) => ['run', '--profile', P, '--release', f.file.relZstNoGpt!], says: (f) => new RegExp(`${esc(path.join(f.file.relZstNoGpt!, 'amd64.kvm.generic.installer.raw.zst'))} has no GPT partition table`), out: 'missing' },
  { name: 'install: a .raw.zst with no CONFIG partition, checksum right', args: (f) => ['install', '--profile', P, '--release', f.file.relZstNoConfig!], says: (f) => new RegExp(`${esc(path.join(f.file.relZstNoConfig!, 'amd64.kvm.generic.installer.raw.zst'))} has no CONFIG partition`), out: 'existing' },
  { name: 'release: a file that is no installer', args: (f) => ['run', '--profile', P, '--release', f.file.aFile!], says: (f) => new RegExp(`${esc(f.file.aFile!)}: a-file is not an EVE installer`), out: 'missing' },
  { name: 'release: docker: with no tag', args: () => ['run', '--profile', P, '--release', 'docker:'], says: () => /docker:: not a docker tag/, out: 'missing' },
  { name: 'release: for another arch than the box', args: (f) => ['run', '--profile', P, '--release', f.file.relArm!], says: () => /has no amd64 installer \(it has arm64\)/, out: 'missing' },
  { cli: true, name: 'release verify: a checksum mismatch', args: (f) => ['release', 'verify', f.file.relCorrupt!, '--arch', 'amd64'], says: () => /amd64\.kvm\.generic\.installer\.raw does not match/ },
];

/** qemu, swtpm and a lab command that only record that they ran (in $EQ_TOUCHED) and fail. */
function touchDetectors(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['qemu-system-x86_64', 'qemu-system-aarch64', 'qemu-img', 'swtpm', 'ipmitool', 'lab-touch']) {
    fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho "${name} $*" >> "$EQ_TOUCHED"\nexit 1\n`, { mode: 0o755 });
  }
}

/** A loopback listener that counts connections: a real box's console or SSH endpoint. */
async function endpoint(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const socks = new Set<net.Socket>();
  const server = net.createServer((s) => {
    n++;
    socks.add(s);
    s.on('close', () => socks.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections: () => n,
    close: () => new Promise<void>((resolve) => {
      for (const s of socks) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** A real-box profile whose every endpoint is a loopback listener and every lab command a detector. */
function realProfile(bin: string, consolePort: number, sshPort: number, tmp: string, edit: (lines: string[]) => string[] = (l) => l): string {
  const touch = JSON.stringify(path.join(bin, 'lab-touch'));
  return edit([
    'box: { name: lab-bench, vendor: Lab, model: Bench, arch: amd64, kind: real, sample: R-1 }',
    `console: { link: { type: tcp, host: 127.0.0.1, port: ${consolePort}, protocol: raw, connectTimeoutMs: 2000 }, device: ttyS0 }`,
    `ssh: { host: 127.0.0.1, port: ${sshPort}, hostKey: { recordTo: ${JSON.stringify(path.join(tmp, 'known'))} } }`,
    `power: { type: command, on: [${touch}, on], off: [${touch}, off], status: [${touch}, status] }`,
    `media: { type: usb-sd-mux, write: [${touch}, write], toBox: [${touch}, box], toHost: [${touch}, host] }`,
    'install: { disk: vda }',
    'hardware:',
    '  ethernet:',
    '    - { name: eth0 }',
    '',
  ]).join('\n');
}

function copyRelease(src: string, dir: string, only?: RegExp): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(src)) if (!only || only.test(f)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  return dir;
}

function writeSums(dir: string, file: string): void {
  const digest = execaSync('sha256sum', [file], { cwd: dir }).stdout.trim();
  fs.writeFileSync(path.join(dir, file.replace(/installer\.raw(\.zst)?$/, 'sha256sums')), `${digest}\n`);
}

/** A release folder holding only `image` compressed as EVE 17+ ships it (.raw.zst), with its sums. */
function zstRelease(image: string, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const zst = 'amd64.kvm.generic.installer.raw.zst';
  execaSync('zstd', ['-q', '-1', '--long=30', '-o', path.join(dir, zst), image]);
  writeSums(dir, zst);
  return dir;
}

type Endpoints = Map<string, Awaited<ReturnType<typeof endpoint>>>;

/** Writes a profile named `name` (f.file[name]). */
function putProfile(f: Fixtures, name: string, text: string): void {
  const file = path.join(f.tmp, 'profiles', name, `${name}.yaml`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  f.file[name] = file;
}

async function makeFixtures(f: Fixtures, bin: string, endpoints: Endpoints): Promise<void> {
  f.file.aFile = path.join(f.tmp, 'a-file');
  fs.writeFileSync(f.file.aFile, 'not a directory\n');
  f.file.emptyDir = path.join(f.tmp, 'empty-dir');
  fs.mkdirSync(f.file.emptyDir);
  makeProfiles(f);
  await makeRealProfiles(f, bin, endpoints);
  makeDataFiles(f);
  makeReleases(f);
}

/** Virtual-box profiles (bad input found before any QEMU) and profile paths that are no file. */
function makeProfiles(f: Fixtures): void {
  const { tmp, file } = f;
  const put = (name: string, text: string) => putProfile(f, name, text);
  const base = fs.readFileSync(P, 'utf8');
  const variant = (name: string, from: string | RegExp, to: string) => {
    const text = base.replace(from, to);
    if (text === base) throw new Error(`edit ${String(from)} changed nothing`);
    put(name, text);
  };
  put('empty', '');
  put('commentOnly', '# nothing declared yet\n');
  put('syntax', 'box: { name: x, vendor: [unclosed\nconsole: :\n');
  variant('dupKey', '  vendor: QEMU\n', '  vendor: QEMU\n  vendor: Other\n');
  // Eight levels of ten aliases each: 10^8 nodes if expanded; the yaml library's alias bound stops it at once.
  put('aliasBomb', ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`), ''].join('\n'));
  put('list', '- box: { name: x }\n');
  variant('unknownField', '  vendor: QEMU\n', '  vendor: QEMU\n  colour: blue\n');
  variant('wrongType', 'memoryMb: 1024', 'memoryMb: lots');
  variant('badArch', 'arch: amd64', 'arch: amd65');
  variant('badDeadline', 'install: 600', 'install: -600');
  variant('unsetPassword', '  baud: 115200', '  baud: 115200\n  login: { user: root, password: { env: EVE_QUAL_TEST_UNSET_PASSWORD } }');
  variant('virtualManual', 'power: { type: virtual }', 'power: { type: manual }');
  variant('badDefect', 'defects: []', 'defects: [{ omit: usb.nostick }]');
  variant('dupPort', '- { name: eth1, model: e1000', '- { name: eth0, model: e1000');
  file.loop = path.join(tmp, 'loop-a.yaml');
  fs.symlinkSync(path.join(tmp, 'loop-b.yaml'), file.loop);
  fs.symlinkSync(file.loop, path.join(tmp, 'loop-b.yaml'));
  file.dangling = path.join(tmp, 'dangling.yaml');
  fs.symlinkSync(path.join(tmp, 'gone.yaml'), file.dangling);
}

/** Real-box profiles, each with loopback endpoints of its own, so that a connection is told against its row. */
async function makeRealProfiles(f: Fixtures, bin: string, endpoints: Endpoints): Promise<void> {
  const { tmp } = f;
  const real = async (name: string, edit?: (l: string[]) => string[]) => {
    const c = await endpoint();
    const s = await endpoint();
    endpoints.set(name, { port: c.port, connections: () => c.connections() + s.connections(), close: async () => { await c.close(); await s.close(); } });
    putProfile(f, name, realProfile(bin, c.port, s.port, tmp, edit));
  };
  for (const name of ['realPowerOn', 'realPowerCycle', 'realConsoleFlag', 'realCheckOut', 'realLogFile', 'realLogDir', 'realPowerFlag', 'realCheckFlag']) await real(name);
  await real('realPort', (l) => l.map((x) => x.replace(/^ssh: \{ host: 127\.0\.0\.1, port: \d+/, 'ssh: { host: 127.0.0.1, port: 70000')));
  await real('realConsolePort', (l) => l.map((x) => x.replace(/port: \d+, protocol/, 'port: 0, protocol')));
  await real('realTimeout', (l) => l.map((x) => x.replace('connectTimeoutMs: 2000', 'connectTimeoutMs: 0')));
  const ipmi = (password: string) => (l: string[]) => l.map((x) => (x.startsWith('power:') ? `power: { type: ipmi, host: 127.0.0.1, port: 1623, user: admin, password: ${password} }` : x));
  await real('realInline', ipmi('hunter2'));
  await real('realSecretFile', ipmi(`{ file: ${JSON.stringify(path.join(tmp, 'no-such-secret'))} }`));
  await real('realIpmi', ipmi('{ env: EVE_QUAL_TEST_UNSET_BMC }'));
  await real('realNoHost', (l) => l.map((x) => x.replace('ssh: { host: 127.0.0.1, ', 'ssh: { ')));
  await real('realNoKey', (l) => l.map((x) => x.replace('ssh: { host', `ssh: { key: { file: ${JSON.stringify(path.join(tmp, 'no-such-key'))} }, host`)));
}

/** Program, waivers and results files. */
function makeDataFiles(f: Fixtures): void {
  const { tmp, file } = f;
  const write = (name: string, at: string, text: string) => {
    file[name] = path.join(tmp, at);
    fs.mkdirSync(path.dirname(file[name]!), { recursive: true });
    fs.writeFileSync(file[name]!, text);
  };
  const program = fs.readFileSync(path.join(repoRoot, 'suites', 'program.yaml'), 'utf8');
  write('programUnknown', 'program-unknown.yaml', program.replace(/^revision: 1$/m, 'revision: 1\ncolour: blue'));
  write('programSyntax', 'program-syntax.yaml', 'name: [unclosed\nlevels: :\n');
  write('programType', 'program-type.yaml', 'name: P\nrevision: 1\nlevels: many\n');
  write('waiversBad', 'waivers.yaml', 'waivers: none\n');
  write('brokenRun', 'broken-run/results.json', '{"runId": "x", "tests": [');
  file.brokenRun = path.dirname(file.brokenRun!);
  write('textRun', 'text-results.json', 'not json\nat all\n');
  // A finished run to resume (a copy: a resume that went ahead would write into it).
  file.resumable = path.join(tmp, 'resumable-run');
  fs.cpSync(GOOD_RUN, file.resumable, { recursive: true });
  const good = JSON.parse(fs.readFileSync(path.join(GOOD_RUN, 'results.json'), 'utf8')) as { tests: Array<{ outcome: string }> };
  good.tests[0]!.outcome = 'maybe';
  write('badFieldRun', 'bad-field-run/results.json', JSON.stringify(good));
  file.badFieldRun = path.dirname(file.badFieldRun!);
}

function makeReleases(f: Fixtures): void {
  const { tmp, file, release } = f;
  const v = path.basename(release);
  const raw = 'amd64.kvm.generic.installer.raw';
  file.relMissing = copyRelease(release, path.join(tmp, 'rel-missing', v), /sha256sums$/);
  file.relArm = copyRelease(release, path.join(tmp, 'rel-arm', v), /^arm64\.kvm\.generic\.(installer\.raw|sha256sums)$/);
  file.relCorrupt = copyRelease(release, path.join(tmp, 'rel-corrupt', v), /^amd64\.kvm\.generic\.(installer\.raw|sha256sums)$/);
  const fd = fs.openSync(path.join(file.relCorrupt, raw), 'r+');
  fs.writeSync(fd, Buffer.from([0x42]), 0, 1, 1_000_000);
  fs.closeSync(fd);
  file.relNoLine = copyRelease(release, path.join(tmp, 'rel-noline', v), /^amd64\.kvm\.generic\.installer\.raw$/);
  fs.writeFileSync(path.join(file.relNoLine, 'amd64.kvm.generic.sha256sums'), `${'0'.repeat(64)}  amd64.kvm.generic.installer-net.tar\n`);
  // The fixture installer with its partition tables (protective MBR, primary GPT) wiped, sums recomputed: it
  // checksums right and is no EVE image.
  file.relNotEve = copyRelease(release, path.join(tmp, 'rel-noteve', v), /^amd64\.kvm\.generic\.installer\.raw$/);
  const nfd = fs.openSync(path.join(file.relNotEve, raw), 'r+');
  fs.writeSync(nfd, Buffer.alloc(34 * 512), 0, 34 * 512, 0);
  fs.closeSync(nfd);
  writeSums(file.relNotEve, raw);
  // A GPT disk image whose one partition is DATA, as sfdisk writes it: a partition table, no CONFIG.
  file.relNoConfig = path.join(tmp, 'rel-noconfig', v);
  fs.mkdirSync(file.relNoConfig, { recursive: true });
  const img = path.join(file.relNoConfig, raw);
  fs.writeFileSync(img, Buffer.alloc(2 << 20));
  execaSync('sfdisk', ['-q', img], { input: 'label: gpt\n,,L\n' });
  execaSync('sfdisk', ['-q', '--part-label', img, '1', 'DATA']);
  writeSums(file.relNoConfig, raw);
  file.relZstNoConfig = zstRelease(img, path.join(tmp, 'rel-zst-noconfig', v));
  const zeros = path.join(tmp, 'zeros.raw');
  fs.writeFileSync(zeros, Buffer.alloc(2 << 20));
  file.relZstNoGpt = zstRelease(zeros, path.join(tmp, 'rel-zst-nogpt', v));
}

interface Outcome {
  exitCode: number | undefined;
  stderr: string;
  stdout: string;
  touched: string;
  outDir?: string;
  outBefore?: string[];
}

/** `eve-qual release` reports its verify progress on stderr (stdout is the folder, for scripts): not the error. */
const PROGRESS = /^(verify|download) \S+: \d+% \(/;

/** Processes at once for the `cli` rows (the in-process rows run one at a time beside them). */
const CONCURRENCY = 3;

/** The real CLI, as a user runs it. */
async function viaCli(args: string[], env: Record<string, string>): Promise<Pick<Outcome, 'exitCode' | 'stdout' | 'stderr'>> {
  const r = await execa(path.join(repoRoot, 'bin', 'eve-qual'), args, { cwd: repoRoot, reject: false, timeout: 60_000, env });
  return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The CLI's main() in this process: what it writes to stdout and stderr captured, its return value the exit code. */
async function inProcess(args: string[], env: Record<string, string>): Promise<Pick<Outcome, 'exitCode' | 'stdout' | 'stderr'>> {
  const { main } = await import('../../lib/cli/main.ts');
  const out: string[] = [];
  const err: string[] = [];
  const writes = { out: process.stdout.write, err: process.stderr.write };
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  Object.assign(process.env, env);
  let exitCode: number | undefined;
  try {
    exitCode = await main(args);
  } catch (e) {
    err.push(`main() threw: ${(e as Error).stack ?? String(e)}`);
  } finally {
    process.stdout.write = writes.out;
    process.stderr.write = writes.err;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  return { exitCode, stdout: out.join(''), stderr: err.join('') };
}

/** A pool of `n` slots: run(task) waits for a free one. */
function pool(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let free = n;
  const waiting: Array<() => void> = [];
  return async (task) => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

describe('bad input, every command: exit 2, one line naming the input, nothing touched', function () {
  this.timeout(600_000);
  const f: Fixtures = { tmp: '', release: '', file: {} };
  const endpoints: Endpoints = new Map();
  const outcomes = new Map<BadInput, Promise<Outcome>>();
  let bin: string;

  async function runCase(c: BadInput, i: number, slot: ReturnType<typeof pool>): Promise<Outcome> {
    const args = c.args(f);
    const touchedFile = path.join(f.tmp, 'touched', `${i}.log`);
    let outDir: string | undefined;
    let outBefore: string[] | undefined;
    if (c.out) {
      outDir = path.join(f.tmp, 'out', String(i));
      if (c.out === 'existing') {
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(path.join(outDir, 'kept.txt'), 'kept\n');
        outBefore = fs.readdirSync(outDir, { recursive: true }).map(String).sort();
      }
      args.push('--out', outDir);
    }
    const env = { PATH: `${bin}:${process.env.PATH}`, EQ_TOUCHED: touchedFile };
    const r = await slot(() => (c.cli ? viaCli(args, env) : inProcess(args, env)));
    const touched = fs.existsSync(touchedFile) ? fs.readFileSync(touchedFile, 'utf8') : '';
    return { ...r, touched, ...(outDir ? { outDir } : {}), ...(outBefore ? { outBefore } : {}) };
  }

  before(async function () {
    f.release = await fixtureRelease();
    f.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-badtable-'));
    bin = path.join(f.tmp, 'bin');
    touchDetectors(bin);
    fs.mkdirSync(path.join(f.tmp, 'touched'));
    await makeFixtures(f, bin, endpoints);
    // Every row starts now; each `it` below awaits its own.
    const processes = pool(CONCURRENCY);
    const here = pool(1);
    cases.forEach((c, i) => outcomes.set(c, runCase(c, i, c.cli ? processes : here)));
    // All done before the first `it`: mocha's reporter must not print while an in-process row captures the output.
    await Promise.all(outcomes.values());
  });

  after(async () => {
    await Promise.allSettled(outcomes.values());
    for (const e of endpoints.values()) await e.close();
    if (f.tmp) fs.rmSync(f.tmp, { recursive: true, force: true });
  });

  it(`holds at least 44 bad inputs`, () => expect(cases.length).to.be.at.least(44));

  it('the run given to --resume is left as it was', () => {
    const files = (d: string) => fs.readdirSync(d, { recursive: true }).map(String).sort();
    expect(files(f.file.resumable!)).to.deep.equal(files(GOOD_RUN));
    for (const x of files(GOOD_RUN).filter((n) => fs.statSync(path.join(GOOD_RUN, n)).isFile())) {
      expect(fs.readFileSync(path.join(f.file.resumable!, x)).equals(fs.readFileSync(path.join(GOOD_RUN, x))), x).to.equal(true);
    }
  });

  for (const c of cases) {
    it(c.name, async () => {
      const r = await outcomes.get(c)!;
      const all = `exit ${r.exitCode}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout}`;
      expect(r.exitCode, all).to.equal(2);
      expect(r.stderr + r.stdout, all).not.to.match(/^\s+at /m);
      const lines = r.stderr.split('\n').filter((l) => l.trim() && !PROGRESS.test(l));
      expect(lines, all).to.have.length(1);
      expect(lines[0], all).to.match(c.says(f));
      expect(r.touched, `a box was touched:\n${all}`).to.equal('');
      if (c.endpoints) expect(endpoints.get(c.endpoints)!.connections(), `the box's endpoints were connected to:\n${all}`).to.equal(0);
      if (r.outDir && !r.outBefore) expect(fs.existsSync(r.outDir), `--out ${r.outDir} was created:\n${all}`).to.equal(false);
      if (r.outDir && r.outBefore) expect(fs.readdirSync(r.outDir, { recursive: true }).map(String).sort(), all).to.deep.equal(r.outBefore);
      for (const w of c.notWritten?.(f) ?? []) expect(fs.existsSync(w), `${w} was written:\n${all}`).to.equal(false);
      if (c.args(f).includes('--out') && fs.existsSync(f.file.aFile!)) expect(fs.readFileSync(f.file.aFile!, 'utf8')).to.equal('not a directory\n');
    });
  }
});
