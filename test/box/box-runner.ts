// A runner for the SIGTERM test: starts a box with a TPM inside a Scope (as `eve-qual run` does), reports the
// QEMU and swtpm pids, then waits to be killed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QemuBox } from '../../lib/box/qemu-box.ts';
import { Scope } from '../../lib/util/scope.ts';
import { runningProcesses } from '../helpers/procs.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-runner-'));
const scope = new Scope('runner');
const box = new QemuBox({ name: 'sigterm-box', arch: 'amd64', stateDir: dir, tpm: true, memoryMb: 256 });
scope.defer('box', () => box.close());
scope.defer('state', () => fs.rmSync(dir, { recursive: true, force: true }));
await box.powerOn();
process.stdout.write(`READY qemu=${runningProcesses(/^qemu-system-x86$/, dir)[0] ?? 0} swtpm=${runningProcesses(/^swtpm$/, dir)[0] ?? 0}\n`);
setInterval(() => undefined, 1 << 30);
