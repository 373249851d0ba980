// `eve-qual report RUN... --html FILE`: one self-contained page (inline CSS, no script, no request: a Content
// Security Policy forbids any), readable offline and attachable to a ticket:
//   - the verdict per vendor and model, with what is missing for the next level;
//   - a matrix of models × samples (one row per run) × capabilities;
//   - per run: its identity (box, release, operator, eve-qual, profile hash), the step timeline, and every test
//     with outcome, duration, attempts and its console excerpt (open for failures and errors).
// Everything from results is escaped; console text goes through the same sanitizer as JUnit. Attachments are
// linked by paths relative to the page (navigation, not a subresource).
import path from 'node:path';
import type { Verdict } from '../program/verdict.ts';
import { factLines } from './fact-text.ts';
import type { LoadedRun } from './read-run.ts';
import { CAPABILITIES, type Capability, type RunResults, type TestResult } from './results.ts';
import { cleanText, sanitizeExcerpt, sanitizeLine } from './sanitize.ts';

export interface HtmlReportInput {
  runs: LoadedRun[];
  verdict: Verdict;
  /** Where the page will be written (attachment links are relative to it). */
  htmlFile: string;
  generatedAt?: Date;
  /** eve-qual version writing the page. */
  evequal?: string;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
/** Escape for HTML text and attribute values (after the sanitizer has removed control characters). */
function h(s: string | number | undefined | null): string {
  return sanitizeLine(String(s ?? ''), 100_000).replace(/[&<>"']/g, (c) => ESC[c]!);
}
/** Escape a block of text (newlines kept). */
function hBlock(s: string): string {
  return cleanText(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function when(iso: string | undefined): string {
  if (!iso) return '—';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z').replace(/Z$/, ' UTC');
}

const GLYPH: Record<TestResult['outcome'], string> = { pass: '✔', fail: '✘', error: '⚠', skip: '–' };

function badge(outcome: string, text = outcome): string {
  return `<span class="badge ${h(outcome)}">${h(text)}</span>`;
}

function cellState(tests: TestResult[]): { cls: string; text: string; title: string } {
  if (!tests.length) return { cls: 'none', text: '·', title: 'no check' };
  const n = (o: TestResult['outcome']) => tests.filter((t) => t.outcome === o).length;
  const titles = tests.map((t) => `${GLYPH[t.outcome]} ${t.name}${t.outcome === 'skip' ? ` (${t.reason ?? 'skip'})` : ''}`).join('\n');
  if (n('fail')) return { cls: 'fail', text: `✘ ${n('fail')} of ${tests.length}`, title: titles };
  if (n('error')) return { cls: 'error', text: `⚠ ${n('error')} error${n('error') > 1 ? 's' : ''}`, title: titles };
  if (n('pass')) return { cls: 'pass', text: `✔ ${n('pass')}${n('skip') ? ` (${n('skip')} skipped)` : ''}`, title: titles };
  // Skipped only: a dash (the reason is in the tooltip and the run's table), so the matrix stays narrow.
  return { cls: 'skip', text: '–', title: titles };
}

function href(htmlFile: string, runDir: string, rel: string): string {
  const target = path.relative(path.dirname(path.resolve(htmlFile)), path.join(runDir, rel));
  return target.split(path.sep).map(encodeURIComponent).join('/');
}

function counts(r: RunResults): string {
  const n = (o: TestResult['outcome']) => r.tests.filter((t) => t.outcome === o).length;
  return (['pass', 'fail', 'error', 'skip'] as const).map((o) => badge(n(o) ? o : 'zero', `${n(o)} ${o}`)).join(' ');
}

function verdictSection(v: Verdict): string {
  const vendors = v.vendors
    .map((x) => {
      const pills = x.levels.map((l) => `<span class="pill ${l.met ? 'met' : 'unmet'}" title="${h(l.name)}">${l.met ? '✔' : '✘'} level ${l.level}</span>`).join('');
      const models = x.models
        .map(
          (m) =>
            `<tr><td>${h(m.model)}${m.listed || x.modelsFrom === 'runs' ? '' : ' <small>(not listed)</small>'}</td><td>${m.level ? `level ${m.level} <small>${h(m.levelName)}</small>` : 'none'}</td><td>${h(m.samples.join(', ') || 'no runs')}</td><td>${h(m.releases.join(', '))}</td></tr>`,
        )
        .join('');
      const missing = x.next
        ? `<h4>Missing for level ${x.next.level} (${h(x.next.name)})</h4><ul class="missing">${x.next.missing
            .map((m) => `<li>${h(m.line)}${m.details.length ? `<ul>${m.details.map((d) => `<li>${h(d)}</li>`).join('')}</ul>` : ''}</li>`)
            .join('')}</ul>`
        : '<p class="allmet">Every level of the program is met.</p>';
      const waivers = (title: string, cls: string, uses: Verdict['vendors'][number]['waived']) =>
        uses.length
          ? `<h4>${title}</h4><ul class="${cls}">${uses.map((u) => `<li>${h(u.what)} on ${h(u.sample)} (${h(u.release)}): ${h(u.waiver.reason)}; by ${h(u.waiver.by)}, until ${h(u.waiver.until)}</li>`).join('')}</ul>`
          : '';
      return `<article class="vendor">
<h3>${h(x.vendor)}: <span class="level l${x.level}">${x.level ? `level ${x.level} · ${h(x.levelName)}` : 'no level met'}</span></h3>
<div class="pills">${pills}</div>
<table class="models"><thead><tr><th>Model</th><th>Level</th><th>Samples</th><th>Releases</th></tr></thead><tbody>${models}</tbody></table>
${x.modelsFrom === 'runs' ? `<p class="note">The program lists no models for ${h(x.vendor)}: “every model” means the models of these runs.</p>` : ''}
${missing}
${waivers('Waived', 'waived', x.waived)}${waivers('Expired waivers (not counted)', 'expired', x.expiredWaivers)}
</article>`;
    })
    .join('\n');
  return `<section id="verdict"><h2>Verdict</h2>
<p class="meta">${h(v.program)}${v.revision ? ` (revision ${h(v.revision)})` : ''} · ${v.runs} run${v.runs === 1 ? '' : 's'} · current release ${h(v.currentRelease ?? 'none')} · judged ${h(when(v.at))}</p>
${vendors}</section>`;
}

function matrixSection(runs: LoadedRun[], order: number[]): string {
  const caps = CAPABILITIES.filter((c) => runs.some((r) => r.results.tests.some((t) => t.capability === c)));
  const rows = order
    .map((i) => {
      const r = runs[i]!.results;
      const cells = caps
        .map((c) => {
          const s = cellState(r.tests.filter((t) => t.capability === c));
          const link = s.cls === 'none' ? h(s.text) : `<a href="#run-${i}-${c}">${h(s.text)}</a>`;
          return `<td class="cell ${s.cls}" data-capability="${c}" title="${hBlock(s.title)}">${link}</td>`;
        })
        .join('');
      return `<tr data-run="${i}"><th scope="row"><a href="#run-${i}">${h(r.box.vendor)} ${h(r.box.model)}</a></th><td>${h(r.box.sample)}</td><td>${h(r.release.version)}</td><td>${h(r.operator.role)}</td>${cells}</tr>`;
    })
    .join('\n');
  return `<section id="matrix"><h2>Models × samples × capabilities</h2>
<div class="scroll"><table class="matrix"><thead><tr><th>Model</th><th>Sample</th><th>Release</th><th>Run by</th>${caps.map((c) => `<th>${h(c).replace('virtualization', 'virtual&shy;ization').replace('inventory', 'inven&shy;tory')}</th>`).join('')}</tr></thead>
<tbody>${rows}</tbody></table></div>
<p class="note legend">✔ n: every check of the capability passed · ✘ k of n: k checks failed (evidence against the box) · ⚠ errors: the lab or harness could not check (not evidence; re-run) · –: skipped (not declared, declined by the operator, or waived) · ·: no check. A cell links to its tests.</p></section>`;
}

function timeline(r: RunResults): string {
  if (!r.steps.length) return '<p class="note">No steps recorded.</p>';
  const t0 = Math.min(...r.steps.map((s) => Date.parse(s.start)));
  const t1 = Math.max(...r.steps.map((s) => Date.parse(s.start) + s.durationMs));
  const span = Math.max(1, t1 - t0);
  const rows = r.steps
    .map((s) => {
      const left = ((Date.parse(s.start) - t0) / span) * 100;
      const width = Math.max(0.4, (s.durationMs / span) * 100);
      return `<div class="step ${s.outcome}"><span class="name" title="${h(s.detail ?? '')}">${h(s.name)}</span><span class="track"><span class="bar" style="left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%"></span></span><span class="dur">${formatDuration(s.durationMs)}</span></div>${
        s.detail ? `<div class="stepdetail">${h(s.detail)}</div>` : ''
      }`;
    })
    .join('');
  return `<div class="timeline" data-steps="${r.steps.length}">${rows}<div class="axis"><span>0 s</span><span>${formatDuration(span)}</span></div></div>`;
}

function testRows(run: LoadedRun, i: number, htmlFile: string): string {
  const r = run.results;
  return CAPABILITIES.filter((c) => r.tests.some((t) => t.capability === c))
    .map((c: Capability) => {
      const tests = r.tests.filter((t) => t.capability === c);
      const rows = tests
        .map((t) => {
          const excerpt = t.consoleExcerpt ? sanitizeExcerpt(t.consoleExcerpt, { maxChars: 32 * 1024, maxLineChars: 2000 }) : '';
          const open = t.outcome === 'fail' || t.outcome === 'error' ? ' open' : '';
          const attempts = t.attempts.length
            ? `<ul class="attempts">${t.attempts.map((a, k) => `<li>attempt ${k + 1}: ${badge(a.outcome)} ${formatDuration(a.durationMs)}${a.message ? ` · ${h(a.message)}` : ''}</li>`).join('')}</ul>`
            : '';
          const atts = t.attachments.map((a) => `<a class="att" href="${hBlock(href(htmlFile, run.dir, a.path))}">${h(a.name)}</a>`).join(' ');
          const facts = t.facts ? `<ul class="facts" title="facts read from the box">${factLines(t).map((f) => `<li>${h(f)}</li>`).join('')}</ul>` : '';
          const waiver = t.waiver ? `<div class="note">waived by ${h(t.waiver.by)} until ${h(t.waiver.until)}: ${h(t.waiver.reason)}</div>` : '';
          return `<tr class="test ${t.outcome}"><td>${h(t.name)}${t.item && !t.name.startsWith(t.item) ? ` <small>${h(t.item)}</small>` : ''}</td><td>${badge(t.outcome)}${t.reason ? ` <small>${h(t.reason)}</small>` : ''}</td><td class="num">${formatDuration(t.durationMs)}</td><td class="num">${t.attempts.length + 1}</td>
<td>${t.message ? `<div class="msg">${h(t.message)}</div>` : ''}${waiver}${facts}${attempts}${excerpt ? `<details class="console"${open}><summary>console excerpt</summary><pre>${hBlock(excerpt)}</pre></details>` : ''}${atts}</td></tr>`;
        })
        .join('\n');
      return `<h4 id="run-${i}-${c}">${h(c)}</h4><table class="tests"><thead><tr><th>Check</th><th>Outcome</th><th>Duration</th><th>Attempts</th><th>Detail</th></tr></thead><tbody>${rows}</tbody></table>`;
    })
    .join('\n');
}

function runSection(run: LoadedRun, i: number, htmlFile: string): string {
  const r = run.results;
  const dur = r.end ? formatDuration(Date.parse(r.end) - Date.parse(r.start)) : '—';
  const atts = r.attachments.map((a) => `<a class="att" href="${hBlock(href(htmlFile, run.dir, a.path))}">${h(a.name)}</a>`).join(' ');
  return `<section class="run" id="run-${i}">
<h3>${h(r.box.vendor)} ${h(r.box.model)} · ${h(r.box.sample)} · ${h(r.release.version)} ${badge(r.status === 'finished' ? 'pass' : 'error', r.status)}</h3>
<dl class="ident">
<dt>Box</dt><dd>${h(r.box.name)} (${h(r.box.arch)}, ${h(r.box.kind)})</dd>
<dt>Release</dt><dd>${h(r.release.eveRelease)} · ${h(r.release.installer)}${r.release.sha256 ? ` <small>sha256 ${h(r.release.sha256.slice(0, 16))}…</small>` : ''}</dd>
<dt>Operator</dt><dd>${h(r.operator.organisation)} (${h(r.operator.role)})</dd>
<dt>Profile</dt><dd>${h(r.profile.file)} <small>sha256 ${h(r.profile.sha256.slice(0, 16))}…</small></dd>
<dt>eve-qual</dt><dd>${h(r.evequal.version)}${r.evequal.revision ? ` (${h(r.evequal.revision)})` : ''}</dd>
<dt>Time</dt><dd>${h(when(r.start))} → ${h(when(r.end))} (${dur})</dd>
<dt>Tests</dt><dd>${counts(r)}</dd>
<dt>Run</dt><dd>${h(r.runId)}${atts ? ` · ${atts}` : ''}</dd>
</dl>
<h4>Step timeline</h4>
${timeline(r)}
${testRows(run, i, htmlFile)}
</section>`;
}

const CSS = `
:root{--pass:#1a7f37;--fail:#cf222e;--error:#9a6700;--skip:#6e7781;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1f2328;margin:0;padding:24px 32px;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid var(--line);padding-bottom:4px;margin-top:32px}
h3{font-size:16px;margin:20px 0 8px}h4{font-size:14px;margin:16px 0 6px}
.meta,.note{color:#59636e}
.facts{margin:2px 0;padding-left:16px;font:12px/1.35 ui-monospace,monospace;color:#1f2328;overflow-wrap:anywhere}.note{font-size:13px}
small{color:#59636e}
table{border-collapse:collapse;margin:4px 0 8px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
thead th{background:var(--bg)}
.scroll{overflow-x:auto}
.vendor{border:1px solid var(--line);border-radius:8px;padding:4px 16px 12px;margin:12px 0}
.level{color:#0969da}.level.l0{color:var(--fail)}
.pills{margin:4px 0 8px}.pill{display:inline-block;border-radius:12px;padding:1px 10px;margin-right:6px;font-size:12px;font-weight:600}
.pill.met{background:#dafbe1;color:var(--pass)}.pill.unmet{background:#ffebe9;color:var(--fail)}
ul.missing>li{font-weight:600}ul.missing ul li{font-weight:400;color:#424a53}
ul.waived li{color:var(--pass)}ul.expired li{color:var(--fail)}
.allmet{color:var(--pass);font-weight:600}
.matrix{font-size:13px}.matrix th,.matrix td{padding:3px 6px}.matrix th[scope=row],.matrix td:nth-child(2),.matrix td:nth-child(3){white-space:nowrap}.matrix td.cell{text-align:center;white-space:nowrap;font-weight:600}
.matrix td.cell a{color:inherit;text-decoration:none}
.cell.pass{background:#dafbe1;color:var(--pass)}.cell.fail{background:#ffebe9;color:var(--fail)}
.cell.error{background:#fff8c5;color:var(--error)}.cell.skip{background:var(--bg);color:var(--skip)}.cell.none{color:#b7bdc4}
.badge{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff;background:var(--skip)}
.badge.zero{background:#eaeef2;color:#8c959f}.badge.pass{background:var(--pass)}.badge.fail{background:var(--fail)}.badge.error{background:var(--error)}
.run{border-top:2px solid var(--line);margin-top:28px}
dl.ident{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0}dl.ident dt{color:#59636e}dl.ident dd{margin:0}
.timeline{border:1px solid var(--line);border-radius:6px;padding:8px 12px;max-width:1100px}
.step{display:grid;grid-template-columns:300px 1fr 90px;align-items:center;gap:8px;font-size:13px;height:22px}
.step .name{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.step .track{position:relative;height:12px;background:var(--bg);border-radius:3px}
.step .bar{position:absolute;top:0;height:12px;border-radius:3px;background:#54aeff}
.step.failed .bar{background:var(--fail)}.step.error .bar{background:var(--error)}
.step .dur{text-align:right;font-variant-numeric:tabular-nums}
.stepdetail{font-size:12px;color:var(--fail);margin:0 0 4px 308px}
.axis{display:flex;justify-content:space-between;margin-left:308px;margin-right:98px;font-size:11px;color:#59636e}
table.tests{width:100%;max-width:1330px;table-layout:fixed}
table.tests th:nth-child(1){width:30%}table.tests th:nth-child(2){width:120px}table.tests th:nth-child(3){width:90px}table.tests th:nth-child(4){width:80px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.test.fail td:first-child{border-left:4px solid var(--fail)}tr.test.error td:first-child{border-left:4px solid var(--error)}
.msg{font-weight:600;overflow-wrap:anywhere}
details.console summary{cursor:pointer;color:#0969da;font-size:12px}
pre{background:#0d1117;color:#e6edf3;padding:8px 10px;border-radius:6px;font:12px/1.4 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre-wrap;overflow-wrap:anywhere;max-height:360px;overflow-y:auto;margin:4px 0}
ul.attempts{margin:4px 0;padding-left:18px;font-size:12px}
a.att{font-size:12px;margin-right:8px}
@media print{details.console{display:none}}
`;

export function renderHtml(input: HtmlReportInput): string {
  const { runs, verdict, htmlFile } = input;
  const order = runs
    .map((_, i) => i)
    .sort((a, b) => {
      const x = runs[a]!.results;
      const y = runs[b]!.results;
      return (
        x.box.vendor.localeCompare(y.box.vendor) ||
        x.box.model.localeCompare(y.box.model) ||
        x.box.sample.localeCompare(y.box.sample, 'en', { numeric: true }) ||
        x.start.localeCompare(y.start)
      );
    });
  const generated = (input.generatedAt ?? new Date()).toISOString();
  const toc = order.map((i) => {
    const r = runs[i]!.results;
    return `<li><a href="#run-${i}">${h(r.box.vendor)} ${h(r.box.model)} · ${h(r.box.sample)} · ${h(r.release.version)} · ${h(r.operator.role)}</a> ${counts(r)}</li>`;
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="eve-qual${input.evequal ? ` ${h(input.evequal)}` : ''}">
<title>eve-qual report: ${h(verdict.program)}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>eve-qual qualification report</h1>
<p class="meta">Generated ${h(when(generated))}${input.evequal ? ` by eve-qual ${h(input.evequal)}` : ''} from ${runs.length} run${runs.length === 1 ? '' : 's'}.</p></header>
${verdictSection(verdict)}
${matrixSection(runs, order)}
<section id="runs"><h2>Runs</h2><ul class="toc">${toc.join('')}</ul>
${order.map((i) => runSection(runs[i]!, i, htmlFile)).join('\n')}
</section>
</body>
</html>
`;
}
