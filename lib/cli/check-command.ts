// eve-qual check --profile FILE [--out DIR] [--json]
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, describeSystemError, ExitCode } from '../errors.ts';
import { checkLab, type CheckReport } from '../lab/health-check.ts';
import { loadProfile } from '../profile/load.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import type { Command } from './main.ts';

export function formatCheck(r: CheckReport): string {
  const lines = [`check ${r.box} (${r.kind} box, ${r.profile})`];
  for (const x of r.results) lines.push(`  ${x.path.padEnd(9)}${x.status.padEnd(9)}${x.detail}`);
  const failed = r.results.filter((x) => x.status === 'failed');
  lines.push(failed.length ? `lab problem: ${failed.map((x) => x.path).join(', ')} failed` : 'lab path ok');
  return lines.join('\n');
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'health check of the lab path to a box (console, power, SSH, media) in seconds, before any run',
  usage: '--profile FILE [--out DIR] [--json]',
  async run(argv) {
    const { values } = parseCommandArgs('check', argv, {
      profile: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual check ${this.usage}`,
          '',
          'Checks every path to the box the profile describes, each ok / failed (with the cause) / skipped:',
          '  console  the link opens and shows traffic, or answers a newline',
          '  power    the state is readable (or the PDU service answers)',
          '  ssh      the SSH port answers with a banner when the box is up',
          '  media    the installer method is ready (BMC virtual media slots, the address to serve from...)',
          'Virtual boxes exist only inside a run: QEMU, firmware, acceleration and swtpm are checked instead.',
          '',
          '  --profile FILE   the box profile',
          '  --out DIR        also write DIR/check.json and the console bytes seen (DIR/console/<box>.log)',
          '  --json           print the report as JSON',
          '',
          'Exit 0 when no path failed, 3 on a lab problem, 2 on a bad profile.',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    const loaded = loadProfile(requireOption('check', values.profile, 'profile'));
    const out = values.out;
    if (out) makeOutDir(out);
    const report = await checkLab(loaded, out ? { consoleLog: path.join(out, 'console', `${loaded.profile.box.name}.log`) } : {});
    if (out) {
      fs.writeFileSync(path.join(out, 'check.json'), JSON.stringify(report, null, 2) + '\n');
    }
    console.log(values.json ? JSON.stringify(report, null, 2) : formatCheck(report));
    return report.ok ? ExitCode.ok : ExitCode.lab;
  },
};

/** --out made before any path to the box is tried: a file there, or a place no folder can be, is bad input. */
function makeOutDir(out: string): void {
  if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new ConfigError(`eve-qual check: --out ${out}: exists and is not a directory`, { where: out });
  try {
    fs.mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new ConfigError(`eve-qual check: --out ${out}: cannot create it: ${describeSystemError(e)}`, { where: out, cause: e });
  }
}
