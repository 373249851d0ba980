// Load and validate a profile: YAML → zod, every problem reported at once as `file:line:col: path.to.field: message`
// (positions from the YAML source, so an engineer jumps straight to the line). Rules that span fields (a virtual
// box needs virtual power and media; a real box needs an SSH host) are checked here too.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors.ts';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { DataFileError, parseYamlFile, type DataFileProblem, type DataPath } from '../util/yaml-file.ts';
import { EVE_SECURETTY } from './eve-securetty.ts';
import { profileSchema, type Profile } from './schema.ts';

export type ProfileProblem = DataFileProblem;

export class ProfileError extends DataFileError {}

export function formatProblem(p: ProfileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path || '(top level)'}: ${p.message}`;
}

export interface LoadedProfile {
  file: string;
  /** The folder relative secret files and images are resolved from. */
  dir: string;
  profile: Profile;
  /** sha256 of the file's bytes: recorded in results so a verdict names the exact profile. */
  source: string;
  /** What is valid but will not work as the profile's author likely expects on EVE (formatted by formatWarning). */
  warnings: ProfileProblem[];
}

export function formatWarning(p: ProfileProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path}: warning: ${p.message}`;
}

/** The source position of the value at `keys` (the file start when it is not in the text, e.g. a default). */
function valuePosition(text: string, keys: string[]): { line: number; col: number } {
  const lc = new LineCounter();
  const node = parseDocument(text, { lineCounter: lc }).getIn(keys, true);
  return isNode(node) && node.range ? lc.linePos(node.range[0]) : { line: 1, col: 1 };
}

/** Valid profiles that EVE will not serve as written: a console tty root cannot log in on. */
export function profileWarnings(p: Profile, text: string, file: string): ProfileProblem[] {
  const out: ProfileProblem[] = [];
  const tty = p.console.device;
  if (!EVE_SECURETTY.includes(tty)) {
    out.push({
      file,
      ...valuePosition(text, ['console', 'device']),
      path: 'console.device',
      message: `${tty} is not in EVE's /etc/securetty, so EVE's getty gives root no login there and eve-qual gets no console shell (EVE's /etc/securetty lists only ${EVE_SECURETTY.join(', ')}); use the box's port under one of those names if it has one`,
    });
  }
  return out;
}

/** Parse and validate profile text. Throws ProfileError listing every problem. */
export function parseProfile(text: string, file: string): Profile {
  try {
    return parseYamlFile(text, file, profileSchema, crossFieldProblems, 'profile');
  } catch (e) {
    if (e instanceof DataFileError) throw new ProfileError(e.problems);
    throw e;
  }
}

function crossFieldProblems(p: Profile): Array<{ path: DataPath; message: string }> {
  const out: Array<{ path: DataPath; message: string }> = [];
  const virtual = p.box.kind === 'virtual';
  const pairs: Array<[DataPath, string]> = [
    [['console', 'link', 'type'], p.console.link.type],
    [['power', 'type'], p.power.type],
    [['media', 'type'], p.media.type],
  ];
  for (const [where, type] of pairs) {
    // A virtual amd64 box may also netboot its installer through QEMU's iPXE (media ipxe-http).
    if (virtual && where[0] === 'media' && type === 'ipxe-http') {
      if (p.box.arch !== 'amd64') out.push({ path: where, message: "ipxe-http on a virtual box is amd64 only (QEMU's iPXE option ROMs are x86 EFI)" });
      continue;
    }
    if (virtual && type !== 'virtual') out.push({ path: where, message: `a virtual box (box.kind: virtual) needs type: virtual here, not ${type}` });
    if (!virtual && type === 'virtual') out.push({ path: where, message: 'type virtual is only for virtual boxes (box.kind: virtual)' });
  }
  if (virtual && !p.virtual) out.push({ path: ['box', 'kind'], message: 'a virtual box needs a virtual: section (memory, target disk, defects)' });
  if (!virtual && p.virtual) out.push({ path: ['virtual'], message: 'only virtual boxes (box.kind: virtual) have a virtual: section' });
  if (!virtual && !p.ssh.host) out.push({ path: ['ssh'], message: 'a real box needs ssh.host (its address on the lab network)' });
  if (!virtual && !p.ssh.hostKey) out.push({ path: ['ssh'], message: 'a real box needs ssh.hostKey: {fingerprint: SHA256:...} or {recordTo: FILE}' });
  const declared = new Set<string>([
    ...p.hardware.ethernet.map((e) => `ethernet.${e.name}`),
    ...p.hardware.usb.map((u) => `usb.${u.name}`),
    ...p.hardware.storage.map((s) => `storage.${s.name}`),
    ...(p.hardware.watchdog ? ['watchdog'] : []),
    ...(p.hardware.tpm ? ['tpm'] : []),
  ]);
  p.virtual?.defects.forEach((d, i) => {
    const item = 'omit' in d ? d.omit : 'unplug' in d ? d.unplug : 'plug' in d ? d.plug : 'watchdog';
    if (!declared.has(item)) out.push({ path: ['virtual', 'defects', i], message: `${item} is not declared under hardware:, so it cannot be seeded as a defect` });
  });
  const seen = new Set<string>();
  for (const [kind, list] of [['ethernet', p.hardware.ethernet], ['usb', p.hardware.usb], ['cellular', p.hardware.cellular], ['storage', p.hardware.storage]] as const) {
    list.forEach((item, i) => {
      const k = `${kind}.${item.name}`;
      if (seen.has(k)) out.push({ path: ['hardware', kind, i, 'name'], message: `duplicate name ${item.name}` });
      seen.add(k);
    });
  }
  return out;
}

export function loadProfile(file: string): LoadedProfile {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new ConfigError(`cannot read profile ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, { where: file });
  }
  const text = bytes.toString('utf8');
  const profile = parseProfile(text, file);
  return {
    file,
    dir: path.dirname(path.resolve(file)),
    profile,
    source: createHash('sha256').update(bytes).digest('hex'),
    warnings: profileWarnings(profile, text, file),
  };
}
