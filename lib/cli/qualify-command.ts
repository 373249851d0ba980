// eve-qual qualify RUN... [--program FILE] [--waivers FILE] [--level N] [--as-of DATE] [--json]
import { ConfigError, ExitCode } from '../errors.ts';
import { formatVerdict } from '../program/format.ts';
import { defaultProgramFile, loadProgram } from '../program/program.ts';
import { computeVerdict, levelMet } from '../program/verdict.ts';
import { loadWaivers } from '../program/waivers.ts';
import { readRuns, type LoadedRun } from '../report/read-run.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

export const qualifyCommand: Command = {
  name: 'qualify',
  summary: 'apply the program to runs: the level each vendor and model reaches, and what is missing for the next',
  usage: 'RUN... [--program FILE] [--waivers FILE] [--level N] [--as-of DATE] [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      'qualify',
      argv,
      {
        program: { type: 'string' },
        waivers: { type: 'string' },
        level: { type: 'string' },
        'as-of': { type: 'string' },
        json: { type: 'boolean' },
      },
      true,
    );
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual qualify ${this.usage}`,
          '',
          'Applies the qualification program to a set of runs (any mix of vendors, models, samples, releases and',
          'operators) and prints, per vendor and model, the highest level met and, for the next level, exactly what',
          'is missing. Errors (the lab could not check) are never evidence; a waiver covers a check until its date.',
          '',
          '  RUN...            run directories, results.json files, or directories of runs (e.g. runs/)',
          `  --program FILE    the program (default ${defaultProgramFile})`,
          '  --waivers FILE    waivers: YAML `waivers: [{scope: {vendor, model, sample, release, capability, item,',
          '                    test, level}, reason, by, until: YYYY-MM-DD}]`',
          '  --level N         exit 0 only if every vendor judged meets level N (1 otherwise)',
          '  --as-of DATE      judge waiver expiry on this date (YYYY-MM-DD; default today)',
          '  --json            print the verdict as JSON',
          '',
          'Exit: 0 verdict printed (and --level met), 1 --level not met, 2 bad input.',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    if (!positionals.length) throw new ConfigError('eve-qual qualify: name at least one run directory (see eve-qual qualify --help)');
    const program = loadProgram(values.program ?? defaultProgramFile);
    let level: number | undefined;
    if (values.level !== undefined) {
      level = Number(values.level);
      if (!Number.isInteger(level) || !program.levels.some((l) => l.level === level)) {
        throw new ConfigError(`eve-qual qualify: --level ${values.level}: the program has levels ${program.levels.map((l) => l.level).join(', ')}`);
      }
    }
    let now = new Date();
    if (values['as-of'] !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(values['as-of']) || Number.isNaN(Date.parse(values['as-of']))) {
        throw new ConfigError(`eve-qual qualify: --as-of ${values['as-of']}: expected a date YYYY-MM-DD`);
      }
      now = new Date(`${values['as-of']}T12:00:00Z`);
    }
    const waivers = values.waivers ? loadWaivers(values.waivers) : [];
    const runs = readRuns(positionals);
    const verdict = computeVerdict(
      runs.map((r) => r.results),
      { program, waivers, now },
    );
    if (values.json) console.log(JSON.stringify(verdict, null, 2));
    else {
      console.log(formatVerdict(verdict));
      for (const line of runNotes(runs)) console.log(line);
      if (level !== undefined) {
        const missing = verdict.vendors.filter((v) => !v.levels.some((l) => l.level === level && l.met)).map((v) => v.vendor);
        console.log(`\nlevel ${level}: ${missing.length ? `not met by ${missing.join(', ')}` : 'met'}`);
      }
    }
    return level === undefined || levelMet(verdict, level) ? ExitCode.ok : ExitCode.failed;
  },
};

/** What a verdict alone does not say of how its runs went: resumed, recovered, stopped, checks that needed another
 * attempt (a lab fault the run got past: worth a look before the verdict is signed). */
function runNotes(runs: LoadedRun[]): string[] {
  const out: string[] = [];
  for (const { dir, results: r } of runs) {
    const how = [
      ...(r.resumed?.length ? [`resumed ${r.resumed.length} time(s)`] : []),
      ...(r.recoveries ? [`box brought back ${r.recoveries} time(s)`] : []),
      ...(r.status !== 'finished' ? [`status ${r.status}${r.stopped ? `: ${r.stopped}` : ''}`] : []),
    ];
    const retried = r.tests.filter((t) => t.attempts.length);
    if (!how.length && !retried.length) continue;
    out.push('', `${dir}: ${how.join('; ') || 'finished'}`);
    for (const t of retried) {
      const before = t.attempts.map((a, i) => `attempt ${i + 1} ${a.outcome}${a.message ? `: ${a.message.split('\n')[0]}` : ''}`).join('; ');
      out.push(`  ${t.id} ${t.outcome} on attempt ${t.attempts.length + 1} (${before})`);
    }
  }
  return out;
}
