// eve-qual release fetch|verify SRC --arch ARCH: get a release's installer for an arch (a local folder, a URL base
// laid out like an EVE GitHub release, or docker:<tag>) and check it against the release's sha256sums, before
// anything touches a box. Progress and steps go to stderr; the result lines to stdout.
import path from 'node:path';
import { ConfigError, ExitCode } from '../errors.ts';
import { formatBytes, progressSteps } from '../release/download.ts';
import { defaultCacheDir, parseReleaseSource, resolveRelease, type ReleaseProgress } from '../release/resolve-release.ts';
import { parseCommandArgs, requireOption } from './args.ts';
import type { Command } from './main.ts';

const HELP = `
SRC is one of:
  a local folder        amd64.kvm.generic.installer.raw[.zst] + amd64.kvm.generic.sha256sums, or the older
                        amd64.installer.img, with a 'version' file or named after the version;
  a URL base            https://github.com/lf-edge/eve/releases/download/14.5.1/ (or any http(s) folder laid out
                        the same way): the installer for the arch and its sha256sums are downloaded (resumed after
                        a dropped connection, retried on network errors);
  docker:TAG            docker run lfedge/eve:TAG installer_raw (TAG like 14.5.1-kvm-amd64, 17.3.0-k-amd64,
                        17.3.0-nvidia-jp6-kvm-arm64; 14.5.1 means 14.5.1-kvm-<arch>); needs docker on PATH.
  A folder or URL base gives its kvm/generic installer first; name the installer (a path or URL ending in e.g.
  17.3.0/arm64.kvm.nvidia-jp6.installer.raw.zst) for another hypervisor or platform.

  fetch    download (or run docker) into --dir, verify, print the folder; a folder that already holds the
           verified installer is not downloaded again. A local SRC is only verified.
  verify   the same for a URL or docker: SRC (fetching first); a local folder is checked where it is.

  --arch amd64|arm64        the box's arch
  --dir DIR                 where a URL or docker: release goes (default .cache/releases/<name>/ in eve-qual's folder)
  --release-version V       the version, when the URL's last part (or the folder name, or a version file) does not tell

Downloads go through https_proxy / http_proxy / all_proxy, except hosts in no_proxy (as curl reads them; a proxy
that re-signs TLS needs its CA in NODE_EXTRA_CA_CERTS). Runs fetching into the same folder take turns (a lock
beside it); the ones that wait say for whom, then use the verified download.

The folder fetched is a local release folder: give it to --release of run and install.
Exit 0 when the installer verifies; 2 when it is missing (404), for another arch, truncated, corrupt, or the host
is unreachable after retries, or the proxy refuses the credentials; 130 when interrupted (a partial download is kept and resumed next time).`;

export const releaseCommand: Command = {
  name: 'release',
  summary: "fetch a release (folder, URL base, docker:TAG) and verify its installer for an arch against its sha256sums",
  usage: 'fetch|verify SRC --arch amd64|arm64 [--dir DIR] [--release-version V]',
  async run(argv) {
    const { values, positionals } = parseCommandArgs('release', argv, { arch: { type: 'string' }, 'release-version': { type: 'string' }, dir: { type: 'string' } }, true);
    const [sub, src, ...extra] = positionals;
    if (values.help || !sub) {
      console.log(`Usage: eve-qual release ${this.usage}\n${HELP}`);
      return values.help ? ExitCode.ok : ExitCode.usage;
    }
    if (sub !== 'verify' && sub !== 'fetch') throw new ConfigError(`eve-qual release: unknown subcommand '${sub}' (fetch, verify)`);
    const arch = requireOption('release', values.arch, 'arch');
    if (arch !== 'amd64' && arch !== 'arm64') throw new ConfigError(`eve-qual release: --arch is amd64 or arm64 (got ${arch})`);
    if (!src) throw new ConfigError(`eve-qual release ${sub}: name the release (a folder, a URL base or docker:TAG)`);
    if (extra.length) throw new ConfigError(`eve-qual release ${sub}: one release at a time (also got ${extra.join(' ')})`);
    const local = parseReleaseSource(src).kind === 'local';
    if (local && values.dir) throw new ConfigError(`eve-qual release ${sub}: --dir is for a URL or docker: release; a local folder is used where it is`);

    const out = progressPrinter(process.stderr);
    const ac = new AbortController();
    // Ctrl-C stops the download cleanly (the .part stays for a resume) instead of killing us mid-write.
    const onSigint = () => (ac.signal.aborted ? process.exit(130) : ac.abort(new Error('interrupted')));
    process.on('SIGINT', onSigint);
    try {
      const r = await resolveRelease(src, arch, {
        ...(values.dir ? { cacheDir: values.dir } : {}),
        ...(values['release-version'] ? { version: values['release-version'] } : {}),
        onProgress: out.progress,
        log: out.log,
        signal: ac.signal,
      });
      out.done();
      console.log(`${r.installer.file}: ok (sha256 ${r.sha256}${r.installer.sums ? `, matches ${r.installer.sums}` : ', no checksum file in this naming scheme'})`);
      console.log(`release ${r.version}: the installed box must report ${r.expectedEveRelease}`);
      if (sub === 'fetch' || !local) console.log(`release folder: ${path.resolve(r.dir)}`);
      return ExitCode.ok;
    } catch (e) {
      out.done();
      if (ac.signal.aborted) {
        const dir = values.dir ?? defaultCacheDir(src, arch);
        console.error(`eve-qual: interrupted${dir ? `; what was downloaded stays in ${dir} and the next fetch resumes it` : ''}`);
        return 130;
      }
      throw e;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

/**
 * Progress for a person at a terminal (one line rewritten in place, at most ten times a second) or for a log (a
 * line at every 10%); step lines never land in the middle of a progress line.
 */
function progressPrinter(stream: NodeJS.WriteStream): { progress: ReleaseProgress; log: (line: string) => void; done: () => void } {
  const tty = stream.isTTY === true;
  let label = '';
  let open = false;
  let lastDraw = 0;
  let steps: ReturnType<typeof progressSteps> | undefined;
  const endLine = () => {
    if (open) stream.write('\n');
    open = false;
  };
  return {
    progress(bytes, total, l) {
      if (l !== label) {
        endLine();
        label = l;
        lastDraw = 0;
        steps = progressSteps((line) => stream.write(`${label}: ${line}\n`));
      }
      if (!tty) return steps!(bytes, total);
      const now = Date.now();
      if (now - lastDraw < 100 && bytes !== total) return;
      lastDraw = now;
      const amount = total ? `${Math.floor((bytes / total) * 100)}% (${formatBytes(bytes)} of ${formatBytes(total)})` : formatBytes(bytes);
      stream.write(`\r\x1b[K${label}: ${amount}`);
      open = true;
    },
    log(line) {
      endLine();
      stream.write(`${line}\n`);
    },
    done: endLine,
  };
}
