import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ResultsWriter } from '../../lib/report/results-writer.ts';
import { RESULTS_SCHEMA_VERSION } from '../../lib/report/results.ts';
import { resultsJsonSchemaFile, resultsJsonSchemaText } from '../../lib/report/results-schema.ts';
import os from 'node:os';
import { repoRoot } from '../helpers/fixture-release.ts';
import { GOLDEN_CASE_NAMES, goldenDir, goldenRun, withOutcome } from '../golden/golden.ts';

describe('report: results.json schema', () => {
  const published = () => JSON.parse(fs.readFileSync(resultsJsonSchemaFile, 'utf8')) as Record<string, unknown>;

  it('schemas/results.schema.json is current (regenerate: npx tsx lib/report/results-schema.ts --write)', () => {
    expect(fs.readFileSync(resultsJsonSchemaFile, 'utf8')).to.equal(resultsJsonSchemaText());
  });

  it('the published JSON Schema accepts what ResultsWriter writes, and rejects broken results', () => {
    const validate = z.fromJSONSchema(published() as Parameters<typeof z.fromJSONSchema>[0]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-schema-'));
    try {
      const { schemaVersion: _v, status: _s, steps, tests, end: _e, ...header } = withOutcome(goldenRun('amd64-defects'), 'ethernet/eth0/carrier', 'error');
      const w = new ResultsWriter(dir, header);
      for (const s of steps) w.addStep(s);
      for (const t of tests) w.addTest(t);
      w.finish('finished');
      const written = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8')) as unknown;
      const ok = validate.safeParse(written);
      expect(ok.success, JSON.stringify(ok.error?.issues)).to.equal(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const bad = goldenRun('amd64-level2') as unknown as { tests: Array<Record<string, unknown>>; attachments: Array<Record<string, unknown>>; start: string };
    bad.tests[0]!.outcome = 'passed';
    bad.attachments[0]!.path = '../outside.log';
    bad.start = 'yesterday';
    const r = validate.safeParse(bad);
    expect(r.success).to.equal(false);
    const where = new Set(r.error!.issues.map((i) => i.path.join('.')));
    expect([...where]).to.include.members(['tests.0.outcome', 'attachments.0.path', 'start']);
  });

  it('the golden runs validate against the published schema', function () {
    const validate = z.fromJSONSchema(published() as Parameters<typeof z.fromJSONSchema>[0]);
    for (const name of GOLDEN_CASE_NAMES) {
      if (!fs.existsSync(path.join(repoRoot, 'test', 'golden', name, 'results.json'))) continue; // arm64 is optional
      const r = validate.safeParse(JSON.parse(fs.readFileSync(path.join(goldenDir(name), 'results.json'), 'utf8')));
      expect(r.success, `${name}: ${JSON.stringify(r.error?.issues.slice(0, 5))}`).to.equal(true);
    }
  });

  it('real runs found in runs/ validate against the published schema', function () {
    const runs = path.join(repoRoot, 'runs');
    const files = fs.existsSync(runs) ? fs.readdirSync(runs).map((d) => path.join(runs, d, 'results.json')).filter((f) => fs.existsSync(f) && (JSON.parse(fs.readFileSync(f, 'utf8')) as { schemaVersion: number }).schemaVersion === RESULTS_SCHEMA_VERSION) : [];
    if (!files.length) this.skip();
    const validate = z.fromJSONSchema(published() as Parameters<typeof z.fromJSONSchema>[0]);
    for (const f of files) {
      const r = validate.safeParse(JSON.parse(fs.readFileSync(f, 'utf8')));
      expect(r.success, `${f}: ${JSON.stringify(r.error?.issues.slice(0, 5))}`).to.equal(true);
    }
  });
});
