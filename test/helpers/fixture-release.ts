// The fixture EVE release for tests (built by `npm run fixtures` from Debian packages, cached in .cache/fixtures),
// and profile variants written to a temp folder for the bad-input cases.
import { execa } from 'execa';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configPartitionOf } from '../../lib/media/gpt.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let built: Promise<string> | undefined;

/** The release directory, building the fixture release first if it is missing or stale. */
export function fixtureRelease(): Promise<string> {
  built ??= execa(path.join(repoRoot, 'node_modules', '.bin', 'tsx'), [path.join(repoRoot, 'tools', 'fixtures.ts')], {
    cwd: repoRoot,
    timeout: 1_500_000,
    stderr: 'inherit',
  }).then((r) => r.stdout.trim().split('\n').pop()!.trim());
  return built;
}

let variantsDir: string | undefined;

/** Remove the profile variants written by this test process (the root after hook calls it). */
export function removeProfileVariants(): void {
  if (variantsDir) fs.rmSync(variantsDir, { recursive: true, force: true });
  variantsDir = undefined;
}

/** Write a copy of a profile with text replacements; returns its path. */
export function profileVariant(base: string, name: string, edits: Array<[string | RegExp, string]>): string {
  let text = fs.readFileSync(path.join(repoRoot, 'hardware-profiles', base), 'utf8');
  for (const [from, to] of edits) {
    const before = text;
    text = text.replace(from, to);
    if (text === before) throw new Error(`profile edit ${String(from)} changed nothing in ${base}`);
  }
  variantsDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'eq-profiles-'));
  const file = path.join(fs.mkdtempSync(path.join(variantsDir, `${name}-`)), `${name}.yaml`);
  fs.writeFileSync(file, text);
  return file;
}

/** Run the CLI as a user would; never throws on a non-zero exit. */
export function eveQual(args: string[], opts: { timeout?: number } = {}) {
  return execa(path.join(repoRoot, 'bin', 'eve-qual'), args, { cwd: repoRoot, reject: false, all: true, timeout: opts.timeout ?? 900_000 });
}

const FIXTURE_AMD64_INSTALLER = 'amd64.kvm.generic.installer.raw';

/** A copy of the fixture release whose installer carries `files` in its CONFIG partition (as installer_raw -v dir:/in). */
export async function releaseWithConfig(fixture: string, dir: string, files: Record<string, string>): Promise<string> {
  const rel = path.join(dir, path.basename(fixture));
  fs.mkdirSync(rel, { recursive: true });
  const image = path.join(rel, FIXTURE_AMD64_INSTALLER);
  fs.copyFileSync(path.join(fixture, FIXTURE_AMD64_INSTALLER), image);
  const target = `${image}@@${configPartitionOf(image).offset}`;
  const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
  for (const [name, content] of Object.entries(files)) {
    const src = path.join(dir, path.basename(name));
    fs.writeFileSync(src, content);
    const parts = name.split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) await execa('mmd', ['-D', 's', '-i', target, `::/${parts.slice(0, i).join('/')}`], { env, reject: false });
    await execa('mcopy', ['-o', '-i', target, src, `::/${name}`], { env });
  }
  const { stdout } = await execa('sha256sum', [FIXTURE_AMD64_INSTALLER], { cwd: rel });
  fs.writeFileSync(path.join(rel, 'amd64.kvm.generic.sha256sums'), `${stdout.trim()}\n`);
  return rel;
}
