// eve-qual diff RUN_A RUN_B [--json]
import { ConfigError, ExitCode } from '../errors.ts';
import { diffRuns, formatDiff, hasRegressions } from '../report/diff.ts';
import { readRun } from '../report/read-run.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

export const diffCommand: Command = {
  name: 'diff',
  summary: 'what regressed and what was fixed between two runs of the same box (e.g. two releases)',
  usage: 'RUN_A RUN_B [--json]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('diff', argv, { json: { type: 'boolean' } }, true);
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual diff ${this.usage}`,
          '',
          'Compares two runs of the same box (vendor and model; a different sample is noted), test by test: what',
          'regressed (passed in A, fails in B), new failures, what was fixed, what B could not check (errors are not',
          'evidence), and steps that failed or got much slower.',
          '',
          '  --json   print the comparison as JSON',
          '',
          'Exit: 0 no regression, 1 something regressed, 2 bad input.',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    if (positionals.length !== 2) throw new ConfigError('eve-qual diff: name exactly two runs, RUN_A RUN_B (see eve-qual diff --help)');
    const d = diffRuns(readRun(positionals[0]!).results, readRun(positionals[1]!).results);
    console.log(values.json ? JSON.stringify({ ...d, regressions: hasRegressions(d) }, null, 2) : formatDiff(d));
    return hasRegressions(d) ? ExitCode.failed : ExitCode.ok;
  },
};
