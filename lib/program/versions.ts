// Order EVE release versions (13.4.0, 14.5.1-lts, 14.0.0-rc1, 0.0.0-fixture): the numeric core compared number by
// number, then a version without a suffix after one with a suffix of the same core (14.0.0 > 14.0.0-rc1), then the
// suffixes part by part (numbers as numbers). "current" in the program is the highest version among the runs.

function split(v: string): { core: number[]; suffix: string[] } {
  const m = /^v?(\d+(?:\.\d+)*)(.*)$/.exec(v.trim());
  if (!m) return { core: [], suffix: v.split(/[.-]/) };
  const rest = m[2]!.replace(/^[-+.]/, '');
  // rc10 → rc, 10: so rc2 < rc10.
  const suffix = rest ? rest.split(/[.+-]/).flatMap((p) => p.split(/(\d+)/).filter(Boolean)) : [];
  return { core: m[1]!.split('.').map(Number), suffix };
}

function comparePart(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return Number(a) - Number(b);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareVersions(a: string, b: string): number {
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.max(x.core.length, y.core.length); i++) {
    const d = (x.core[i] ?? 0) - (y.core[i] ?? 0);
    if (d) return Math.sign(d);
  }
  if (!x.suffix.length || !y.suffix.length) return Math.sign(y.suffix.length - x.suffix.length);
  for (let i = 0; i < Math.max(x.suffix.length, y.suffix.length); i++) {
    const pa = x.suffix[i];
    const pb = y.suffix[i];
    if (pa === undefined) return -1;
    if (pb === undefined) return 1;
    const d = comparePart(pa, pb);
    if (d) return Math.sign(d);
  }
  return 0;
}

export function newestVersion(versions: Iterable<string>): string | null {
  let best: string | null = null;
  for (const v of versions) if (best === null || compareVersions(v, best) > 0) best = v;
  return best;
}
