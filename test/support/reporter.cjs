// Mocha's spec output plus one plain closing line, `mocha: N passed, N failed, N skipped`, that CI reads, and before
// it the slowest test files by wall time (written by test/support/root-hooks.ts in each --parallel worker): what to
// look at first when `npm test` grows past its time.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

const SLOWEST = 12;

function slowestFiles(file) {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
    fs.rmSync(file, { force: true });
  } catch {
    return '';
  }
  const rows = text.split('\n').filter(Boolean).map((l) => l.split('\t')).sort((a, b) => Number(b[0]) - Number(a[0]));
  if (rows.length === 0) return '';
  const total = rows.reduce((s, r) => s + Number(r[0]), 0);
  const top = rows.slice(0, SLOWEST).map(([s, f]) => `  ${String(s).padStart(5)} s  ${path.relative(process.cwd(), f)}`);
  return `\nslowest test files (wall time; ${rows.length} files, ${total} s in all over the workers):\n${top.join('\n')}\n`;
}

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const times = path.join(os.tmpdir(), `eq-test-times-${process.pid}.tsv`);
    process.env.EQ_TEST_TIMES = times;
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats;
      process.stdout.write(slowestFiles(times));
      process.stdout.write(`\nmocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped\n`);
    });
  }
}
module.exports = SpecWithSummary;
