// eve-qual's command-line entry with the lab commands registered, for tests that run the CLI as a process (the lead
// registers them in lib/cli/main.ts; until then this is how they are reached).
import { checkCommand } from '../../lib/cli/check-command.ts';
import { consoleCommand } from '../../lib/cli/console-command.ts';
import { main, registerCommand } from '../../lib/cli/main.ts';
import { powerCommand } from '../../lib/cli/power-command.ts';

registerCommand(checkCommand);
registerCommand(powerCommand);
registerCommand(consoleCommand);
process.exit(await main(process.argv.slice(2)));
