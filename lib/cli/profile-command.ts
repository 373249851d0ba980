// eve-qual profile validate FILE... | eve-qual profile init
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { ConfigError, ExitCode } from '../errors.ts';
import { formatWarning, loadProfile, parseProfile, ProfileError } from '../profile/load.ts';
import { profileTemplate, type TemplateAnswers } from '../profile/template.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

export const profileCommand: Command = {
  name: 'profile',
  summary: 'validate box profiles (every problem at once, as file:line:col: field: message)',
  usage: 'validate FILE... | init [--out FILE] [--name N --vendor V --model M --arch amd64|arm64 --ssh-host H --console DEV|HOST:PORT]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      'profile',
      argv,
      {
        out: { type: 'string' },
        name: { type: 'string' },
        vendor: { type: 'string' },
        model: { type: 'string' },
        arch: { type: 'string' },
        'ssh-host': { type: 'string' },
        console: { type: 'string' },
      },
      true,
    );
    const [sub, ...files] = positionals;
    if (values.help || !sub) {
      console.log(
        [
          'Usage: eve-qual profile validate FILE...',
          '       eve-qual profile init [--out FILE] [--name N] [--vendor V] [--model M] [--arch amd64|arm64]',
          '                             [--ssh-host H] [--console /dev/ttyUSB0|HOST:PORT]',
          '',
          'validate: exit 0 when every profile is valid, 2 when any is not (every problem as file:line:col: field: message);',
          "          a valid profile EVE will not serve as written gets a warning (file:line:col: field: warning: ...), e.g. a",
          "          console.device outside EVE's /etc/securetty, where root cannot log in.",
          'init: writes an annotated profile for a new real box; asks (on a terminal) only for what it cannot guess.',
        ].join('\n'),
      );
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (sub === 'init') return init(values);
    if (sub !== 'validate') throw new ConfigError(`eve-qual profile: unknown subcommand '${sub}' (validate, init)`);
    if (!files.length) throw new ConfigError('eve-qual profile validate: name at least one profile file');
    let bad = 0;
    for (const f of files) {
      try {
        const p = loadProfile(f);
        console.log(`${f}: ok (${p.profile.box.vendor} ${p.profile.box.model}, ${p.profile.box.arch})`);
        for (const w of p.warnings) console.error(formatWarning(w));
      } catch (e) {
        bad++;
        console.error(e instanceof ProfileError || e instanceof ConfigError ? e.message : String(e));
      }
    }
    return bad ? ExitCode.usage : ExitCode.ok;
  },
};

async function init(v: Record<string, string | boolean | undefined>): Promise<number> {
  const given = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const asks: Array<[keyof TemplateAnswers, string, string, string?]> = [
    ['vendor', 'vendor', 'Vendor (e.g. Advantech)'],
    ['model', 'model', 'Model (e.g. UNO-2484G)'],
    ['arch', 'arch', 'Architecture (amd64 or arm64)', 'amd64'],
    ['sshHost', 'ssh-host', "The box's address on the lab network"],
    ['console', 'console', 'Console: serial device or terminal server host:port', '/dev/ttyUSB0'],
  ];
  const answers: Partial<TemplateAnswers> = {};
  const missing = asks.filter(([, flag]) => !given(flag));
  let rl: readline.Interface | undefined;
  if (missing.length && !process.stdin.isTTY) {
    throw new ConfigError(`eve-qual profile init: not on a terminal, so give ${missing.map(([, f]) => `--${f}`).join(', ')}`);
  }
  try {
    for (const [key, flag, question, dflt] of asks) {
      let val = given(flag);
      if (!val) {
        rl ??= readline.createInterface({ input: process.stdin, output: process.stdout });
        val = (await rl.question(`${question}${dflt ? ` [${dflt}]` : ''}: `)).trim() || dflt || '';
      }
      (answers as Record<string, string>)[key] = val;
    }
  } finally {
    rl?.close();
  }
  if (answers.arch !== 'amd64' && answers.arch !== 'arm64') throw new ConfigError(`eve-qual profile init: arch must be amd64 or arm64 (got ${answers.arch})`);
  const name = given('name') ?? `${answers.vendor}-${answers.model}`.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  const text = profileTemplate({ ...(answers as TemplateAnswers), name });
  const out = given('out') ?? path.join('hardware-profiles', `${name}.yaml`);
  parseProfile(text, out); // the template must always be valid
  if (fs.existsSync(out)) throw new ConfigError(`eve-qual profile init: ${out} exists; choose another --out`);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, text);
  console.log(`wrote ${out}: edit the hardware: section, then eve-qual profile validate ${out}`);
  return ExitCode.ok;
}
