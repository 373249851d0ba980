// eve-qual install --profile FILE --release SRC [--out DIR]
import { ExitCode } from '../errors.ts';
import { runInstall } from '../run/install-run.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import { stdinPrompt } from '../util/operator-prompt.ts';
import type { Command } from './main.ts';

export const installCommand: Command = {
  name: 'install',
  summary: 'install a release on the box and bring it to an SSH shell',
  usage: '--profile FILE --release SRC [--out DIR] [--release-version V]',
  async run(argv) {
    const { values } = parseCommandArgs('install', argv, {
      profile: { type: 'string' },
      release: { type: 'string' },
      out: { type: 'string' },
      'release-version': { type: 'string' },
    });
    if (values.help) {
      console.log(
        [
          `Usage: eve-qual install ${this.usage}`,
          '',
          'Installs the release on the box described by the profile: verifies the installer (sha256), writes the',
          "harness's CONFIG (SSH key, serial console, installer options), boots the installer, watches it on the",
          'console, boots the installed system and checks its version on the console and over SSH.',
          '',
          '  --profile FILE          the box profile (hardware-profiles/*.yaml)',
          '  --release SRC           a local release folder (amd64.kvm.generic.installer.raw + sha256sums), a URL',
          '                          base laid out like an EVE GitHub release (downloaded, resumed, cached; through',
          '                          https_proxy/http_proxy unless no_proxy says not), or docker:TAG; see release --help',
          '  --out DIR               the run directory (default runs/<time>-<box>)',
          '  --release-version V     the version, when the folder name and a version file do not tell',
        ].join('\n'),
      );
      return ExitCode.ok;
    }
    const r = await runInstall({
      profileFile: requireOption('install', values.profile, 'profile'),
      releaseSrc: requireOption('install', values.release, 'release'),
      ...(values.out ? { out: values.out } : {}),
      ...(values['release-version'] ? { releaseVersion: values['release-version'] } : {}),
      progress: (line) => console.log(line),
      prompt: stdinPrompt(),
    }).catch((e: Error & { runDir?: { root: string } }) => {
      if (e.runDir) console.error(`eve-qual: run directory: ${e.runDir.root}`);
      throw e;
    });
    try {
      console.log(`\n${r.release.expectedEveRelease} installed on ${r.loaded.profile.box.name} (disk ${r.outcome.installDisk})`);
      console.log('Step timings:');
      for (const l of r.steps.timings()) console.log(`  ${l}`);
      console.log(`Run directory: ${r.runDir.root}`);
    } finally {
      await r.scope.close();
    }
    return ExitCode.ok;
  },
};
