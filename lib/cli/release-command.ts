// eve-qual release verify SRC --arch ARCH: locate a release's installer for an arch and check it against the
// release's sha256sums, before anything touches a box. (fetch from a URL base or docker: is not available yet.)
import { ConfigError, ExitCode } from '../errors.ts';
import { locateLocalRelease, verifyRelease } from '../release/local-release.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import type { Command } from './main.ts';

export const releaseCommand: Command = {
  name: 'release',
  summary: "verify a release's installer for an arch against its sha256sums",
  usage: 'verify SRC --arch amd64|arm64 [--release-version V]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('release', argv, { arch: { type: 'string' }, 'release-version': { type: 'string' }, dir: { type: 'string' } }, true);
    const [sub, src] = positionals;
    if (values.help || !sub) {
      console.log(`Usage: eve-qual release ${this.usage}\n\nSRC is a local release folder (amd64.kvm.generic.installer.raw[.zst] + amd64.kvm.generic.sha256sums, or the older amd64.installer.img).\nExit 0 when the installer verifies, 2 when it is missing, for another arch, truncated or corrupt.`);
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (sub === 'fetch') throw new ConfigError('eve-qual release fetch (URL base, docker:) is not available in this version yet; download the assets into a folder and use verify');
    if (sub !== 'verify') throw new ConfigError(`eve-qual release: unknown subcommand '${sub}' (verify)`);
    const arch = requireOption('release', values.arch, 'arch');
    if (arch !== 'amd64' && arch !== 'arm64') throw new ConfigError(`eve-qual release: --arch is amd64 or arm64 (got ${arch})`);
    if (!src) throw new ConfigError('eve-qual release verify: name the release folder');
    if (/^https?:\/\//.test(src) || src.startsWith('docker:')) throw new ConfigError(`release ${src}: only local release folders are supported in this version`);
    const r = locateLocalRelease(src, arch, values['release-version'] ? { version: values['release-version'] } : {});
    const digest = await verifyRelease(r);
    console.log(`${r.installer.file}: ok (sha256 ${digest}${r.installer.sums ? `, matches ${r.installer.sums}` : ', no checksum file in this naming scheme'})`);
    console.log(`release ${r.version}: the installed box must report ${r.expectedEveRelease}`);
    return ExitCode.ok;
  },
};
