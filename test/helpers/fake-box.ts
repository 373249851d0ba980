// A box made of a folder, for fast tests of what a suite concludes from what a box shows: the suite's commands run
// in busybox sh (as in EVE's debug container: busybox applets only, so no GNU dd byte line and no date +%N) with the
// box's absolute paths (/sys, /proc, /dev, /config, /persist, /tmp) moved under the folder; the commands that would
// read the runner itself (dmesg, uname, ip, ifconfig, lspci: busybox prefers its applets to PATH) print the folder's
// .out/<name> and fail when it is absent. Disks are regular files on the runner's disk, so dd with iflag/oflag=direct really runs (and
// is really refused where the file system has no O_DIRECT, such as tmpfs).
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Box } from '../../lib/box/box.ts';
import type { Console } from '../../lib/console/console.ts';
import { loadProfile } from '../../lib/profile/load.ts';
import type { Profile } from '../../lib/profile/schema.ts';
import type { TestResult } from '../../lib/report/results.ts';
import type { RunResult, Shell } from '../../lib/shell/shell.ts';
import { runSuites } from '../../lib/suite-runtime/run-suites.ts';
import type { SuiteModule } from '../../lib/suite-runtime/suite-context.ts';
import { repoRoot } from './fixture-release.ts';

const OWN_OUTPUT = ['dmesg', 'uname', 'ip', 'ifconfig', 'lspci', 'lsusb'];
const BOX_PATHS = /(^|[\s=:'"(<>|;&`])\/(sys|proc|dev|config|persist|tmp)(?=[/\s'";|&)`]|$)/g;

export class FakeBox {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-fakebox-'));
  private readonly bin = path.join(this.root, '.bin');
  /** Every command the suite ran, as the suite wrote it. */
  readonly commands: string[] = [];
  private readonly functions: string;

  constructor() {
    fs.mkdirSync(this.bin);
    const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && !OWN_OUTPUT.includes(a));
    for (const a of applets) fs.symlinkSync('/bin/busybox', path.join(this.bin, a));
    this.functions = OWN_OUTPUT.map((c) => `${c}() { [ -f ${this.root}/.out/${c} ] || return 127; cat ${this.root}/.out/${c}; }; `).join('');
    for (const d of ['sys', 'proc', 'dev', 'config', 'persist', 'tmp']) fs.mkdirSync(path.join(this.root, d));
    for (const n of ['null', 'zero', 'urandom']) this.link(`/dev/${n}`, `/dev/${n}`, true);
    this.link('/proc/uptime', '/proc/uptime', true);
  }

  private at(p: string): string {
    return path.join(this.root, p);
  }

  /** What `command` (dmesg, uname, ip, ifconfig, lspci, lsusb) prints on this box. */
  output(command: string, text: string): this {
    return this.file(`/.out/${command}`, text);
  }

  /** A file on the box. */
  file(p: string, content: string | Buffer, mode?: number): this {
    fs.mkdirSync(path.dirname(this.at(p)), { recursive: true });
    fs.writeFileSync(this.at(p), content, mode === undefined ? undefined : { mode });
    return this;
  }

  /** A symlink on the box to another box path (or, with `outside`, to a path of the runner). */
  link(p: string, target: string, outside = false): this {
    fs.mkdirSync(path.dirname(this.at(p)), { recursive: true });
    fs.symlinkSync(outside ? target : this.at(target), this.at(p));
    return this;
  }

  dir(p: string): this {
    fs.mkdirSync(this.at(p), { recursive: true });
    return this;
  }

  /** A sparse disk image of `mib` MiB at box path `p` (on the runner's disk, or where `hostDir` says). */
  disk(p: string, mib: number, hostDir?: string): this {
    const file = hostDir ? path.join(fs.mkdtempSync(path.join(hostDir, 'eq-fakedisk-')), 'disk') : this.at(p);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    fs.truncateSync(file, mib * 1024 * 1024);
    if (hostDir) this.link(p, file, true);
    return this;
  }

  exists(p: string): boolean {
    return fs.existsSync(this.at(p));
  }

  shell(): Shell {
    return {
      where: `fake:${this.root}`,
      run: (cmd) => this.run(cmd),
      put: () => Promise.reject(new Error('fake box: no put')),
      get: () => Promise.reject(new Error('fake box: no get')),
      close: () => Promise.resolve(),
    };
  }

  private async run(cmd: string): Promise<RunResult> {
    this.commands.push(cmd);
    const local = this.functions + cmd.replace(BOX_PATHS, (_m, pre: string, top: string) => `${pre}${this.root}/${top}`);
    const t0 = Date.now();
    const r = await execa('/bin/busybox', ['sh', '-c', local], { env: { PATH: this.bin, HOME: this.at('tmp') }, extendEnv: false, reject: false, timeout: 120_000 });
    const strip = (s: string) => s.split(this.root).join('');
    return { stdout: strip(r.stdout), stderr: strip(r.stderr), code: r.exitCode ?? 1, durationMs: Date.now() - t0 };
  }

  close(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

/** A profile of the repository with its hardware (and box fields) replaced. */
export function profileWith(base: 'qemu-amd64.yaml' | 'qemu-arm64.yaml', hardware: Partial<Profile['hardware']>): Profile {
  const p = loadProfile(path.join(repoRoot, 'hardware-profiles', base)).profile;
  return { ...p, hardware: { ethernet: [], usb: [], cellular: [], storage: [], ...hardware } };
}

/** Run one suite module on the fake box; its results by id. */
export async function runOn(box: FakeBox, module: SuiteModule, profile: Profile): Promise<Record<string, TestResult>> {
  const console = { excerpt: () => ({ stop: () => '' }) } as unknown as Console;
  const results = await runSuites({
    ctx: { profile, box: { name: profile.box.name } as Box, shell: box.shell(), console, runDir: path.join(box.root, '.run'), reconnect: () => Promise.resolve() },
    modules: [module],
    onTest: () => undefined,
  });
  return Object.fromEntries(results.map((r) => [r.id, r]));
}
