// The last lines of normalised console text, for error messages ("show the last console lines").

export class ConsoleTail {
  private recent = '';
  constructor(private readonly keepChars = 16_384) {}

  push(s: string): void {
    this.recent = s.length >= this.keepChars ? s.slice(-this.keepChars) : (this.recent + s).slice(-this.keepChars);
  }

  /** The last `n` lines (an unfinished last line included), each cut to 500 characters. */
  lines(n = 20): string[] {
    const all = this.recent.split('\n');
    if (all.length > 0 && all[all.length - 1] === '') all.pop();
    return all.slice(-n).map((l) => (l.length > 500 ? l.slice(0, 500) + '…' : l));
  }
}
