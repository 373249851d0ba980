// Patterns the console waits for: a literal string or a regular expression.

export type Pattern = string | RegExp;

export interface PatternHit {
  /** Index of the pattern in the list that matched first in stream order. */
  index: number;
  start: number;
  end: number;
  match: RegExpExecArray | null;
  text: string;
}

/** Compiled form: literal strings use indexOf (fast), regexes a global clone so lastIndex can start anywhere. */
export class CompiledPatterns {
  readonly sources: readonly Pattern[];
  private readonly regexes: (RegExp | null)[];

  constructor(patterns: readonly Pattern[]) {
    this.sources = patterns;
    this.regexes = patterns.map((p) => {
      if (typeof p === 'string') return null;
      const flags = p.flags.includes('g') ? p.flags.replace('y', '') : p.flags.replace('y', '') + 'g';
      return new RegExp(p.source, flags);
    });
  }

  get length(): number {
    return this.sources.length;
  }

  /** The first hit (lowest start; ties go to the earlier pattern) in text[from..]. */
  search(text: string, from: number): PatternHit | null {
    let best: PatternHit | null = null;
    for (let i = 0; i < this.sources.length; i++) {
      const src = this.sources[i]!;
      const re = this.regexes[i];
      if (re === null || re === undefined) {
        const lit = src as string;
        const at = text.indexOf(lit, from);
        if (at >= 0 && (best === null || at < best.start)) best = { index: i, start: at, end: at + lit.length, match: null, text: lit };
      } else {
        re.lastIndex = from;
        const m = re.exec(text);
        // An empty match would match forever; treat it as no progress.
        if (m && m[0].length > 0 && (best === null || m.index < best.start)) {
          best = { index: i, start: m.index, end: m.index + m[0].length, match: m, text: m[0] };
        }
      }
    }
    return best;
  }

  describe(): string {
    return this.sources.map((p) => (typeof p === 'string' ? JSON.stringify(p) : String(p))).join(' or ');
  }
}
