// eve-qual profile validate FILE... | eve-qual profile init
import { ConfigError, ExitCode } from '../errors.ts';
import { loadProfile, ProfileError } from '../profile/load.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

export const profileCommand: Command = {
  name: 'profile',
  summary: 'validate box profiles (every problem at once, as file:line:col: field: message)',
  usage: 'validate FILE...',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('profile', argv, {}, true);
    const [sub, ...files] = positionals;
    if (values.help || !sub) {
      console.log('Usage: eve-qual profile validate FILE...\n\nExit 0 when every profile is valid, 2 when any is not.');
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (sub !== 'validate') throw new ConfigError(`eve-qual profile: unknown subcommand '${sub}' (validate)`);
    if (!files.length) throw new ConfigError('eve-qual profile validate: name at least one profile file');
    let bad = 0;
    for (const f of files) {
      try {
        const p = loadProfile(f);
        console.log(`${f}: ok (${p.profile.box.vendor} ${p.profile.box.model}, ${p.profile.box.arch})`);
      } catch (e) {
        bad++;
        console.error(e instanceof ProfileError || e instanceof ConfigError ? e.message : String(e));
      }
    }
    return bad ? ExitCode.usage : ExitCode.ok;
  },
};
