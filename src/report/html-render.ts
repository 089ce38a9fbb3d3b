import type { CaseResult, RunResult } from '../engine/results.js';
import { REPORT_CSP, REPORT_CSS, REPORT_JS } from './html-assets.js';
import { caseTitle, renderCaseDetails, renderFailure } from './html-case.js';
import { STATUS_SYMBOL, STATUS_WORD, badge, caseAnchor, cellStatus, esc, type CellStatus } from './html-escape.js';
import { formatDuration, formatTarget } from './format.js';
import { plural } from '../words.js';

export interface HtmlOptions {
  /** The page title and heading. Default `smtpspec report`. */
  title?: string;
}

/** What a merge produces and a run returns: the cases with their results, the start and the duration. */
export type HtmlRun = Pick<RunResult, 'startedAt' | 'durationMs' | 'cases'>;

/** A row of the matrix: one case of one scenario file, with its result per target. */
interface Row {
  key: string;
  name: string;
  byTarget: Map<string, number>;
}

interface Group {
  file: string;
  scenarioName: string;
  rows: Row[];
}

interface Matrix {
  targets: string[];
  groups: Group[];
}

/** Files, cases and targets in the order they first appear; each (case, target) points at its result. */
function buildMatrix(cases: CaseResult[]): Matrix {
  const targets = new Set<string>();
  const groups = new Map<string, Group>();
  const rows = new Map<string, Row>();
  cases.forEach((item, index) => {
    const target = formatTarget(item.target);
    targets.add(target);
    let group = groups.get(item.file);
    if (!group) groups.set(item.file, (group = { file: item.file, scenarioName: item.scenarioName, rows: [] }));
    const key = `${item.file}#${item.caseIndex}`;
    let row = rows.get(key);
    if (!row) {
      rows.set(key, (row = { key, name: item.caseName, byTarget: new Map() }));
      group.rows.push(row);
    }
    if (!row.byTarget.has(target)) row.byTarget.set(target, index);
  });
  return { targets: [...targets], groups: [...groups.values()] };
}

function cell(cases: CaseResult[], row: Row, target: string): string {
  const index = row.byTarget.get(target);
  if (index === undefined) {
    return `<td class="cell none" title="not run against this target">${STATUS_SYMBOL.none} ${STATUS_WORD.none}</td>`;
  }
  const item = cases[index]!;
  const status = cellStatus(item);
  const label = `${caseTitle(item)}: ${STATUS_WORD[status]}, open details`;
  const anchor = caseAnchor(index);
  return (
    `<td class="cell ${status}"><a href="#${anchor}" data-case="${anchor}" aria-label="${esc(label)}">` +
    `${STATUS_SYMBOL[status]} ${STATUS_WORD[status]}</a></td>`
  );
}

function isProblemRow(cases: CaseResult[], row: Row): boolean {
  return [...row.byTarget.values()].some((i) => cellStatus(cases[i]!) !== 'passed');
}

function renderMatrix(cases: CaseResult[], matrix: Matrix): string {
  const columns = matrix.targets.length + 1;
  const head = matrix.targets.map((t) => `<th scope="col">${esc(t)}</th>`).join('');
  const bodies = matrix.groups.map((group) => {
    const title = `<tr class="group"><th scope="rowgroup" colspan="${columns}">${esc(group.scenarioName)}<span class="file">${esc(group.file)}</span></th></tr>`;
    const rows = group.rows.map((row) => {
      const cells = matrix.targets.map((t) => cell(cases, row, t)).join('');
      return `<tr class="${isProblemRow(cases, row) ? 'problem' : 'ok'}"><th scope="row">${esc(row.name)}</th>${cells}</tr>`;
    });
    return `<tbody>${title}\n${rows.join('\n')}</tbody>`;
  });
  return [
    '<div class="scroll"><table class="matrix">',
    `<caption class="sr">Result of each case (rows, grouped by scenario file) against each target (columns)</caption>`,
    `<thead><tr><th scope="col">case</th>${head}</tr></thead>`,
    ...bodies,
    '</table></div>',
  ].join('\n');
}

interface Totals {
  passed: number;
  failed: number;
  error: number;
  skipped: number;
  flaky: number;
}

/** Counted from the cases, so a merged or hand-made run always agrees with its matrix. */
function countCells(cases: CaseResult[]): Totals {
  const totals: Totals = { passed: 0, failed: 0, error: 0, skipped: 0, flaky: 0 };
  for (const item of cases) {
    totals[item.status === 'error' ? 'error' : item.status]++;
    if (item.flaky === true) totals.flaky++;
  }
  return totals;
}

function renderTotals(cases: CaseResult[]): string {
  const totals = countCells(cases);
  const entry = (key: keyof Totals, word: string, note = ''): string =>
    `<li class="${key}"><span class="n">${totals[key]}</span>${word}${note}</li>`;
  return [
    '<ul class="totals" aria-label="totals">',
    `<li><span class="n">${cases.length}</span>cases</li>`,
    entry('passed', 'passed'),
    entry('failed', 'failed'),
    entry('error', 'errors'),
    entry('skipped', 'skipped'),
    entry('flaky', 'flaky', totals.flaky > 0 ? ' (counted in passed)' : ''),
    '</ul>',
  ].join('\n');
}

const LEGEND: [CellStatus, string][] = [
  ['passed', 'every step held'],
  ['failed', 'a reply did not match, or the server broke the protocol'],
  ['error', 'refused, timed out, reset, DNS'],
  ['skipped', 'not run (condition, --bail, interrupted)'],
  ['flaky', 'passed after a retry'],
  ['none', 'not part of the run for this target'],
];

function renderLegend(): string {
  const items = LEGEND.map(([status, meaning]) => `<li>${badge(status)}${esc(meaning)}</li>`);
  return `<ul class="legend" aria-label="legend">${items.join('')}</ul>`;
}

/** `2025-01-02 03:04:05 UTC`, or the text as given when it is not a date. */
function startText(startedAt: string): string {
  const ms = Date.parse(startedAt);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : startedAt;
}

function renderFailures(cases: CaseResult[]): string {
  const failures = cases.flatMap((item, index) => (item.status === 'failed' || item.status === 'error' ? [renderFailure(item, index)] : []));
  if (failures.length === 0) return '<h2>Failures</h2><p class="sub">None: every case that ran passed.</p>';
  return `<h2>Failures (${failures.length})</h2>\n${failures.join('\n')}`;
}

const DIALOG =
  '<dialog id="case-dialog" aria-labelledby="case-dialog-title"><header><h2 id="case-dialog-title"></h2>' +
  '<button type="button" id="case-dialog-close">Close</button></header><div id="case-dialog-body"></div></dialog>';

/**
 * The whole report as one self-contained HTML document: inline style and script allowed by
 * hash in a Content-Security-Policy that forbids every fetch. Every text from results is escaped.
 */
export function renderHtml(run: HtmlRun, options: HtmlOptions = {}): string {
  return renderHtmlParts(run, options).join('');
}

/** The document of renderHtml in pieces, in order, for a sink to write one by one: a large report is never one string. */
export function renderHtmlParts(run: HtmlRun, options: HtmlOptions = {}): string[] {
  const title = options.title ?? 'smtpspec report';
  const cases = run.cases;
  const matrix = buildMatrix(cases);
  const runStartMs = Date.parse(run.startedAt);
  const summary = `${plural(matrix.targets.length, 'target')}, started ${startText(run.startedAt)}, took ${formatDuration(run.durationMs)}`;
  // Lines of the document; the cases' details are a list of lines of their own.
  const lines: (string | string[])[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="color-scheme" content="light dark">',
    `<title>${esc(title)}</title>`,
    `<style>${REPORT_CSS}</style>`,
    '</head><body>',
    `<header><h1>${esc(title)}</h1><p class="sub">${esc(summary)}</p></header>`,
    '<main>',
    renderTotals(cases),
    '<h2>Results</h2>',
    renderLegend(),
    '<p class="toolbar"><label><input type="checkbox" id="only-problems"> show only cases that did not pass everywhere</label></p>',
    renderMatrix(cases, matrix),
    renderFailures(cases),
    `<h2>Cases</h2>`,
    cases.length > 0 ? cases.map((item, index) => renderCaseDetails(item, index, runStartMs)) : '',
    '</main>',
    `<footer>smtpspec · ${plural(cases.length, 'case')}</footer>`,
    DIALOG,
    `<script>${REPORT_JS}</script>`,
    '</body></html>',
    '',
  ];
  return lines.flat().flatMap((line, i) => (i === 0 ? [line] : ['\n', line]));
}
