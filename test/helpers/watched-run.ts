// `eve-qual` started as a process whose output a test waits on (to harm the box, or eve-qual itself, at a known
// moment): `printed(re)` resolves, with the time, once everything printed so far matches `re`.
import { execa } from 'execa';
import path from 'node:path';
import { repoRoot } from './fixture-release.ts';

export function startEveQual(args: string[]) {
  const child = execa(path.join(repoRoot, 'bin', 'eve-qual'), args, { cwd: repoRoot, reject: false, all: true, forceKillAfterDelay: false });
  let seen = '';
  const waiters = new Set<() => void>();
  child.all.on('data', (d: Buffer) => {
    seen += d.toString();
    for (const w of [...waiters]) w();
  });
  const printed = (re: RegExp, timeoutMs = 900_000) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        if (!re.test(seen)) return;
        waiters.delete(check);
        clearTimeout(t);
        resolve(Date.now());
      };
      const t = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`eve-qual never printed ${re}:\n${seen.slice(-2000)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, printed };
}
