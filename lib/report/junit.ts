// junit.xml of a run, in the dialect Jenkins (junit and xunit plugins), GitLab and the GitHub reporters read, valid
// against schemas/junit-10.xsd (Jenkins xunit's, which is surefire's):
//   - one <testsuite> per capability, with properties naming the level, profile, release, sample, box and program;
//   - a <testcase> per test: classname = capability, name = the check; <failure type="box"> for a box failure,
//     <error type="lab|bug|config"> when the lab or the harness could not check, <skipped message="reason: ...">;
//   - a retried test stays one testcase: earlier attempts are <flakyFailure>/<flakyError> when it passed in the
//     end, <rerunFailure>/<rerunError> when it did not (surefire's convention; the XSD allows all four);
//   - console excerpts sanitized (sanitize.ts) in CDATA, full logs referenced as [[ATTACHMENT|relative/path]];
//   - steps that did not end ok, and a run that did not finish, are testcases of a `run` suite, so a run that
//     stopped before its tests never reads as green.
// xml2js builds the document. Text goes in as placeholders that are swapped for CDATA sections afterwards:
// xml2js's own CDATA mode splits only the first `]]>` of a text (String.replace with a string), which breaks the
// XML on the second one.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import xml2js from 'xml2js';
import { CAPABILITIES, type Attachment, type Attempt, type RunResults, type StepResult, type TestResult } from './results.ts';
import { cdata, cleanText, sanitizeExcerpt, sanitizeLine, type ExcerptLimits } from './sanitize.ts';

export interface JUnitOptions {
  /** The program named in the properties (default: the run's own `program`, else "EVE-OS hardware qualification"). */
  program?: string;
  /** Prefixed to attachment paths (which are relative to the run directory), for a CI that resolves them from its
   * workspace: e.g. `runs/20260101T000000Z-box/`. */
  attachmentPrefix?: string;
  limits?: Partial<ExcerptLimits>;
}

export const DEFAULT_PROGRAM_NAME = 'EVE-OS hardware qualification';

type XmlNode = Record<string, unknown>;

class TextSlots {
  private readonly nonce = randomBytes(6).toString('hex');
  private readonly texts: string[] = [];
  /** A placeholder for `text` (already sanitized), replaced by a CDATA section in `fill`. */
  slot(text: string): string {
    this.texts.push(text);
    return `@@eq-${this.nonce}-${this.texts.length - 1}@@`;
  }
  fill(xml: string): string {
    return xml.replace(new RegExp(`@@eq-${this.nonce}-(\\d+)@@`, 'g'), (_, i: string) => cdata(this.texts[Number(i)]!));
  }
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

function attachmentRef(a: Attachment, runDir: string, prefix: string): string {
  const rel = a.path.split(path.sep).join('/');
  const missing = fs.existsSync(path.join(runDir, a.path)) ? '' : ' (missing from the run directory)';
  return `[[ATTACHMENT|${prefix}${rel}]]${missing}`;
}

export function toJUnit(results: RunResults, runDir: string, opts: JUnitOptions = {}): string {
  const slots = new TextSlots();
  const prefix = opts.attachmentPrefix ? opts.attachmentPrefix.replace(/\/?$/, '/') : '';
  const excerpt = (s: string | undefined) => (s ? sanitizeExcerpt(s, opts.limits) : '');
  const attr = (s: string, max = 300) => sanitizeLine(s, max);
  const runLogs = results.attachments.filter((a) => a.path.startsWith('console/') || a.name.toLowerCase().includes('console'));

  const properties = {
    property: (
      [
        ['level', results.level === undefined ? '' : String(results.level)],
        ['profile', `${results.profile.file} sha256:${results.profile.sha256}`],
        ['release', results.release.version],
        ['sample', results.box.sample],
        ['box', `${results.box.name} (${results.box.vendor} ${results.box.model}, ${results.box.arch}, ${results.box.kind})`],
        ['program', opts.program ?? results.program ?? DEFAULT_PROGRAM_NAME],
        ['vendor', results.box.vendor],
        ['model', results.box.model],
        ['arch', results.box.arch],
        ['operator', `${results.operator.organisation} (${results.operator.role})`],
        ['eve-release', results.release.eveRelease],
        ['installer', `${results.release.installer}${results.release.sha256 ? ` sha256:${results.release.sha256}` : ''}`],
        ['eve-qual', `${results.evequal.version}${results.evequal.revision ? ` (${results.evequal.revision})` : ''}`],
        ['run', results.runId],
        ['status', results.status],
      ] as const
    ).map(([name, value]) => ({ $: { name, value: attr(value, 1000) } })),
  };

  const attemptNode = (a: Attempt): XmlNode => {
    const node: XmlNode = { $: { type: a.outcome === 'fail' ? 'box' : 'lab', message: attr(a.message ?? a.outcome, 1000) } };
    const body = [a.message ?? '', `(attempt of ${seconds(a.durationMs)} s)`].filter(Boolean).join('\n');
    node.stackTrace = slots.slot(excerpt(body));
    if (a.consoleExcerpt) node['system-out'] = slots.slot(excerpt(a.consoleExcerpt));
    return node;
  };

  const testcase = (t: TestResult): XmlNode => {
    const node: XmlNode = { $: { classname: t.capability, name: attr(t.name, 1000), time: seconds(t.durationMs) } };
    const text = excerpt(t.consoleExcerpt);
    const detail = (kind: string) =>
      slots.slot([t.message ? excerpt(t.message) : kind, text ? `\n--- console ---\n${text}` : ''].join('\n').trim());
    if (t.outcome === 'fail') {
      node.failure = { $: { type: t.reason ?? 'box', message: attr(t.message ?? 'failed', 1000) }, _: detail('failed') };
    } else if (t.outcome === 'error') {
      node.error = { $: { type: t.reason ?? 'lab', message: attr(t.message ?? 'could not check', 1000) }, _: detail('could not check') };
    } else if (t.outcome === 'skip') {
      const waiver = t.waiver ? ` (waived by ${t.waiver.by} until ${t.waiver.until}: ${t.waiver.reason})` : '';
      node.skipped = { $: { type: t.reason ?? 'skip', message: attr(`${t.reason ?? 'skipped'}${t.message ? `: ${t.message}` : ''}${waiver}`, 1000) } };
    }
    const earlier = t.attempts.filter((a) => a.outcome === 'fail' || a.outcome === 'error');
    if (earlier.length) {
      const passed = t.outcome === 'pass';
      const fails = earlier.filter((a) => a.outcome === 'fail').map(attemptNode);
      const errors = earlier.filter((a) => a.outcome === 'error').map(attemptNode);
      if (fails.length) node[passed ? 'flakyFailure' : 'rerunFailure'] = fails;
      if (errors.length) node[passed ? 'flakyError' : 'rerunError'] = errors;
    }
    const out: string[] = [];
    if (text && (t.outcome === 'pass' || t.outcome === 'skip')) out.push(text);
    if (t.facts && Object.keys(t.facts).length) out.push(`facts: ${JSON.stringify(t.facts, (_k, v: unknown) => (typeof v === 'string' ? cleanText(v) : v))}`);
    const refs = [...t.attachments, ...(t.outcome === 'fail' || t.outcome === 'error' ? runLogs : [])];
    for (const a of refs) out.push(attachmentRef(a, runDir, prefix));
    if (out.length) node['system-out'] = slots.slot(excerpt(out.join('\n')));
    return node;
  };

  const suite = (name: string, cases: XmlNode[], tests: Array<{ outcome: string; start?: string; durationMs: number }>, id: number): XmlNode => {
    const count = (o: string) => tests.filter((t) => t.outcome === o).length;
    const starts = tests.map((t) => t.start).filter((s): s is string => !!s).sort();
    const node: XmlNode = {
      $: {
        name,
        tests: String(tests.length),
        failures: String(count('fail')),
        errors: String(count('error')),
        skipped: String(count('skip')),
        time: seconds(tests.reduce((s, t) => s + t.durationMs, 0)),
        timestamp: (starts[0] ?? results.start).replace(/\.\d+(?=Z|[+-])/, ''),
        hostname: attr(results.box.name),
        id: String(id),
      },
      properties,
      testcase: cases,
    };
    if (results.attachments.length) node['system-out'] = slots.slot(results.attachments.map((a) => attachmentRef(a, runDir, prefix)).join('\n'));
    return node;
  };

  const suites: XmlNode[] = [];
  for (const cap of CAPABILITIES) {
    const tests = results.tests.filter((t) => t.capability === cap);
    if (tests.length) suites.push(suite(cap, tests.map(testcase), tests, suites.length));
  }

  // The run itself: steps that failed, and a run that did not finish.
  const runCases: Array<{ node: XmlNode; outcome: string; start?: string; durationMs: number }> = [];
  const badSteps = results.steps.filter((s): s is StepResult & { outcome: 'failed' | 'error' } => s.outcome !== 'ok');
  for (const s of badSteps) {
    const kind = s.outcome === 'failed' ? 'failure' : 'error';
    runCases.push({
      outcome: s.outcome === 'failed' ? 'fail' : 'error',
      start: s.start,
      durationMs: s.durationMs,
      node: {
        $: { classname: 'run', name: attr(`step: ${s.name}`, 1000), time: seconds(s.durationMs) },
        [kind]: { $: { type: s.outcome === 'failed' ? 'box' : 'lab', message: attr(s.detail ?? s.outcome, 1000) }, _: slots.slot(excerpt(s.detail ?? s.outcome)) },
        ...(runLogs.length ? { 'system-out': slots.slot(runLogs.map((a) => attachmentRef(a, runDir, prefix)).join('\n')) } : {}),
      },
    });
  }
  if (results.status !== 'finished') {
    const why =
      results.status === 'running'
        ? 'the run has not finished: still running, or stopped without recording its end (killed)'
        : `the run was ${results.status}`;
    const message = `${why}; ${results.tests.length} test${results.tests.length === 1 ? '' : 's'} recorded`;
    runCases.push({
      outcome: 'error',
      durationMs: 0,
      node: { $: { classname: 'run', name: 'the run completes', time: '0.000' }, error: { $: { type: 'lab', message }, _: slots.slot(message) } },
    });
  }
  if (runCases.length) suites.push(suite('run', runCases.map((c) => c.node), runCases, suites.length));

  const all = [...results.tests, ...runCases];
  const doc = {
    testsuites: {
      $: {
        name: attr(`eve-qual ${results.box.name} ${results.release.version} ${results.runId}`),
        tests: String(all.length),
        failures: String(all.filter((t) => t.outcome === 'fail').length),
        errors: String(all.filter((t) => t.outcome === 'error').length),
        time: seconds(all.reduce((s, t) => s + t.durationMs, 0)),
      },
      testsuite: suites,
    },
  };
  const xml = new xml2js.Builder({ xmldec: { version: '1.0', encoding: 'UTF-8' }, renderOpts: { pretty: true, indent: '  ', newline: '\n' } }).buildObject(doc);
  return `${slots.fill(xml)}\n`;
}
