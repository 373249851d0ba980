// A runner for the SIGTERM test: starts a box with a TPM inside a Scope (as `eve-qual run` does), reports the
// QEMU and swtpm pids, then waits to be killed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QemuBox } from '../../lib/box/qemu-box.ts';
import { Scope } from '../../lib/util/scope.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-runner-'));
const scope = new Scope('runner');
const box = new QemuBox({ name: 'sigterm-box', arch: 'amd64', stateDir: dir, tpm: true, memoryMb: 256 });
scope.defer('box', () => box.close());
scope.defer('state', () => fs.rmSync(dir, { recursive: true, force: true }));
await box.powerOn();
const pids = (name: string) =>
  fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
    } catch {
      return false;
    }
  });
process.stdout.write(`READY qemu=${pids('qemu-system-x86')[0] ?? 0} swtpm=${pids('swtpm')[0] ?? 0}\n`);
setInterval(() => undefined, 1 << 30);
