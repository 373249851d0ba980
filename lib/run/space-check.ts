// Free space, checked before any box is touched: a run that fills its disk halfway through an overnight install
// has wasted the night. What a run writes: the prepared installer (a copy of the release's image), a virtual box's
// installed disk (sparse, about as much again), the console log and results (a margin).
import fs from 'node:fs';
import { LabError } from '../errors.ts';
import { freeSpace, mib } from '../util/disk-fault.ts';

/** Console log, steps, inventory, results and their reserve: a long run's worth. */
const LOG_MARGIN = 64 << 20;

export function checkFreeSpace(out: string, installerPath: string, o: { virtual: boolean; noInstall: boolean }): void {
  const image = o.noInstall ? 0 : fs.statSync(installerPath).size;
  const need = image + (o.virtual ? image : 0) + LOG_MARGIN;
  const s = freeSpace(out);
  if (!s || s.free >= need) return;
  const parts = [...(image ? [`installer media ${mib(image)}`] : []), ...(o.virtual ? [`the virtual box's disk ${mib(image)}`] : []), `logs and results ${mib(LOG_MARGIN)}`];
  throw new LabError(`not enough free space for the run in ${out}: ${mib(s.free)} free on the file system of ${s.dir}, ${mib(need)} needed (${parts.join(', ')})`, { where: s.dir });
}
