// eve-qual report RUN... --html FILE [--program FILE] [--waivers FILE]
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, ExitCode } from '../errors.ts';
import { defaultProgramFile, loadProgram } from '../program/program.ts';
import { computeVerdict } from '../program/verdict.ts';
import { loadWaivers } from '../program/waivers.ts';
import { writeFileAtomic } from '../report/atomic-write.ts';
import { renderHtml } from '../report/html.ts';
import { readRuns } from '../report/read-run.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import type { Command } from './main.ts';
import { gitRevision, packageVersion } from './version.ts';

export const reportCommand: Command = {
  name: 'report',
  summary: 'one self-contained HTML page: verdict, models × samples × capabilities, tests with console, step timelines',
  usage: 'RUN... --html FILE [--program FILE] [--waivers FILE]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      'report',
      argv,
      { html: { type: 'string' }, program: { type: 'string' }, waivers: { type: 'string' } },
      true,
    );
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual report ${this.usage}`,
          '',
          'Writes one HTML page (no script, no network: open it anywhere) with the verdict of the program on the',
          'runs, a matrix of models × samples × capabilities, and per run its identity, step timeline and every test',
          'with its outcome, duration, attempts and console excerpt. Attachments are linked relative to the page.',
          '',
          '  RUN...            run directories, results.json files, or directories of runs (e.g. runs/)',
          '  --html FILE       the page to write',
          `  --program FILE    the program (default ${defaultProgramFile})`,
          '  --waivers FILE    waivers (see eve-qual qualify --help)',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    const htmlFile = path.resolve(requireOption('report', values.html, 'html'));
    if (!positionals.length) throw new ConfigError('eve-qual report: name at least one run directory (see eve-qual report --help)');
    if (!fs.existsSync(path.dirname(htmlFile))) throw new ConfigError(`eve-qual report: --html ${values.html}: no directory ${path.dirname(htmlFile)}`);
    if (fs.existsSync(htmlFile) && fs.statSync(htmlFile).isDirectory()) throw new ConfigError(`eve-qual report: --html ${values.html}: is a folder, not a file`);
    const program = loadProgram(values.program ?? defaultProgramFile);
    const waivers = values.waivers ? loadWaivers(values.waivers) : [];
    const runs = readRuns(positionals);
    const verdict = computeVerdict(
      runs.map((r) => r.results),
      { program, waivers },
    );
    const rev = gitRevision();
    writeFileAtomic(htmlFile, renderHtml({ runs, verdict, htmlFile, evequal: `${packageVersion()}${rev ? ` (${rev})` : ''}` }));
    console.log(`${htmlFile}: ${runs.length} run${runs.length === 1 ? '' : 's'}, ${verdict.vendors.map((v) => `${v.vendor} level ${v.level}`).join(', ')}`);
    return ExitCode.ok;
  },
};
