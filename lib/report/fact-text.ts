// Facts (what a check read from the box) as short text for reports and verdicts: `key: value`, values as JSON,
// cleaned and cut to fit a line.
import type { TestResult } from './results.ts';
import { sanitizeLine } from './sanitize.ts';

export function factText(key: string, value: unknown, max = 80): string {
  const v = typeof value === 'string' ? value : JSON.stringify(value);
  return `${key}: ${sanitizeLine(v ?? 'null', max)}`;
}

/** The facts of a test result, one `key: value` line each. */
export function factLines(t: TestResult, max = 400): string[] {
  return Object.entries(t.facts ?? {}).map(([k, v]) => factText(k, v, max));
}
