// A resumed run on a virtual box boots the installed disk the first run left, but the first run's SSH key was
// removed with it (a run's private key never outlives its process: lib/run/run-key.ts). So the installed disk's
// CONFIG partition gets this run's public key, where EVE reads it at boot (authorized_keys, and GlobalConfig's
// debug.enable.ssh when the release carries one), before the box is powered on.
import fs from 'node:fs';
import path from 'node:path';
import { configPartitionOf } from '../media/gpt.ts';
import { fatFile, mtools } from '../media/mtools.ts';
import { addKeyToGlobalConfig } from '../media/prepare-installer.ts';
import { LabError } from '../errors.ts';

export async function rekeyInstalledDisk(disk: string, publicKey: string, workDir: string): Promise<void> {
  if (!fs.existsSync(disk)) throw new LabError(`${disk}: the installed disk of the run is gone; the run cannot be resumed without a new install`, { where: disk });
  const config = configPartitionOf(disk);
  const target = `${disk}@@${config.offset}`;
  if ((await fatFile(target, '::/authorized_keys')) === undefined) {
    throw new LabError(`${disk}: its CONFIG partition holds no authorized_keys: the install did not finish`, { where: disk });
  }
  fs.mkdirSync(workDir, { recursive: true });
  const keyFile = path.join(workDir, 'authorized_keys');
  fs.writeFileSync(keyFile, publicKey.trim() + '\n');
  await mtools('mcopy', ['-o', '-i', target, keyFile, '::/authorized_keys']);
  await addKeyToGlobalConfig(target, workDir, publicKey, `${disk}: CONFIG`);
}
