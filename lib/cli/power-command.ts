// eve-qual power on|off|cycle|status --profile FILE
import { ConfigError, ExitCode } from '../errors.ts';
import { consoleLinkFor } from '../lab/console-link.ts';
import { powerOnConfirmed } from '../power/confirm.ts';
import { createPower } from '../power/create-power.ts';
import type { Power } from '../power/power.ts';
import { loadProfile } from '../profile/load.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import { stdinPrompt } from '../util/operator-prompt.ts';
import type { Command } from './main.ts';

const ACTIONS = ['on', 'off', 'cycle', 'status'] as const;
type Action = (typeof ACTIONS)[number];

export const powerCommand: Command = {
  name: 'power',
  summary: "switch a real box's power, or read its state, through its profile's driver",
  usage: 'on|off|cycle|status --profile FILE [--no-confirm] [--confirm-timeout S]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs(
      'power',
      argv,
      { profile: { type: 'string' }, 'no-confirm': { type: 'boolean' }, 'confirm-timeout': { type: 'string' } },
      true,
    );
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual power ${this.usage}`,
          '',
          'Drivers that read state back (IPMI, Redfish, a command with status) confirm every change by polling it;',
          'power is kept off for the profile\'s minOffSeconds before it goes on again. Drivers that cannot (pdudaemon,',
          'manual) answer status "unknown", and power on is confirmed from traffic on the console link instead.',
          '',
          '  --no-confirm          do not wait for console traffic after on/cycle (drivers without read-back)',
          '  --confirm-timeout S   how long the console may stay silent after power on (default 60)',
          '',
          'Exit 0 ok, 2 bad profile or usage, 3 lab problem (the driver failed or the change was not confirmed).',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    const [action, ...extra] = positionals;
    if (!action || !ACTIONS.includes(action as Action) || extra.length)
      throw new ConfigError(`eve-qual power: say one of ${ACTIONS.join(', ')} (see eve-qual power --help)`);
    const loaded = loadProfile(requireOption('power', values.profile, 'profile'));
    const p = loaded.profile;
    if (p.box.kind === 'virtual' || p.power.type === 'virtual') {
      if (action === 'status') {
        console.log(`${p.box.name}: off (a virtual box exists only inside eve-qual run/install)`);
        return ExitCode.ok;
      }
      throw new ConfigError(`eve-qual power ${action}: ${p.box.name} is a virtual box, powered by the run that starts it (eve-qual run/install)`);
    }
    const timeoutS = values['confirm-timeout'] === undefined ? 60 : Number(values['confirm-timeout']);
    if (!(timeoutS > 0)) throw new ConfigError('eve-qual power: --confirm-timeout must be a number of seconds');
    const power = createPower(p.power, {
      profileDir: loaded.dir,
      box: p.box.name,
      log: (line) => console.log(`  ${line}`),
      prompt: stdinPrompt(),
    });
    try {
      await act(action as Action, power, () => (values['no-confirm'] ? undefined : consoleLinkFor(loaded)), timeoutS * 1000, p.box.name);
    } finally {
      await power.close?.();
    }
    return ExitCode.ok;
  },
};

async function act(action: Action, power: Power, link: () => ReturnType<typeof consoleLinkFor> | undefined, timeoutMs: number, box: string): Promise<void> {
  if (action === 'status') {
    console.log(`${box}: ${await power.state()} (${power.where}${power.readsState === false ? ': cannot read state back' : ''})`);
    return;
  }
  if (action === 'off') {
    await power.off();
    console.log(`${box}: off${power.readsState === false ? ' (requested; not readable back)' : ''}`);
    return;
  }
  if (action === 'cycle') await power.off();
  const l = power.readsState === false ? link() : undefined;
  if (!l) {
    await power.on();
    console.log(`${box}: on${power.readsState === false ? ' (requested; not confirmed)' : ''}`);
    return;
  }
  await l.open();
  try {
    const how = await powerOnConfirmed(power, l, { timeoutMs });
    console.log(`${box}: on (confirmed by ${how === 'console' ? `traffic on ${l.name}` : 'the state read back'})`);
  } finally {
    await l.close();
  }
}
