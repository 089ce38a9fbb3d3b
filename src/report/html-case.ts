import { formatPos } from '../errors.js';
import type { CaseResult, ReplyData, StepResult, TlsFacts, TranscriptEntry } from '../engine/results.js';
import { daysUntilExpiry, describeChain } from '../tls-facts.js';
import { badge, caseAnchor, cellStatus, esc } from './html-escape.js';
import { deliveryLines, describeKind, formatDuration, formatTarget, replyLines, transcriptLine } from './format.js';
import { checkLines, checkWarnings } from './check-lines.js';

/** The per-case parts of the HTML report: failure summaries and the details of every case. */

/** `case name @ target`, the title of a case wherever it is shown. */
export function caseTitle(item: CaseResult): string {
  return `${item.caseName} @ ${formatTarget(item.target)}`;
}

/** The step the case's failure names, if it is among the steps. */
function failingStep(item: CaseResult): StepResult | undefined {
  const failure = item.failure;
  return failure ? item.steps.find((s) => s.index === failure.stepIndex) : undefined;
}

function replyText(reply: ReplyData): string {
  return replyLines(reply).map(esc).join('\n');
}

function fact(name: string, value: string | undefined, raw = false): string {
  if (value === undefined || value === '') return '';
  return `<dt>${esc(name)}</dt><dd>${raw ? value : esc(value)}</dd>`;
}

function mono(text: string): string {
  return `<code>${esc(text)}</code>`;
}

/** What the failing step sent, expected and got, and where it is written. */
function failureFacts(item: CaseResult, step: StepResult | undefined): string {
  const failure = item.failure;
  const got = step?.replies && step.replies.length > 1 ? step.replies : step?.reply ? [step.reply] : [];
  const gotHtml = got.length > 0 ? `<pre>${got.map(replyText).join('\n')}</pre>` : undefined;
  return [
    '<dl class="facts">',
    fact('step', step ? `${step.index + 1}. ${step.label}` : undefined),
    fact('at', mono(formatPos(failure?.pos ?? step?.pos ?? item.pos)), true),
    fact('cause', failure ? describeKind(failure.kind) : undefined),
    fact('sent', step?.sent !== undefined ? mono(step.sent) : undefined, true),
    fact('expected', step?.expected !== undefined ? mono(step.expected) : undefined, true),
    fact('got', gotHtml, true),
    '</dl>',
  ].join('');
}

/** A failed or errored case, summarised for the failures section, with a link to its details. */
export function renderFailure(item: CaseResult, index: number): string {
  const message = item.failure?.message ?? `case ${item.status}`;
  return [
    `<section class="failure ${item.status}">`,
    `<h3>${badge(cellStatus(item))} <a href="#${caseAnchor(index)}" data-case="${caseAnchor(index)}">${esc(caseTitle(item))}</a></h3>`,
    `<p class="msg">${esc(message)}</p>`,
    failureFacts(item, failingStep(item)),
    '</section>',
  ].join('\n');
}

function stepRow(step: StepResult): string {
  const replies = step.replies && step.replies.length > 1 ? step.replies : step.reply ? [step.reply] : [];
  const notes = [
    step.message ?? '',
    ...Object.entries(step.captures ?? {}).map(([name, value]) => `captured ${name} = ${value}`),
    ...(step.delivery ? deliveryLines(step.delivery) : []),
    ...(step.check ? checkLines(step.check) : []),
  ].filter((note) => note !== '');
  return [
    '<tr>',
    `<td>${step.index + 1}</td>`,
    `<td>${esc(step.label)}<br><code>${esc(formatPos(step.pos))}</code></td>`,
    `<td>${badge(step.status)}</td>`,
    `<td>${step.expected !== undefined ? mono(step.expected) : ''}</td>`,
    `<td>${replies.length > 0 ? `<pre>${replies.map(replyText).join('\n')}</pre>` : ''}</td>`,
    `<td>${step.latencyMs !== undefined ? esc(formatDuration(step.latencyMs)) : ''}</td>`,
    `<td>${notes.map(esc).join('<br>')}</td>`,
    '</tr>',
  ].join('');
}

function stepsTable(steps: StepResult[]): string {
  if (steps.length === 0) return '';
  const head = ['#', 'step', 'result', 'expected', 'reply', 'latency', 'notes'].map((h) => `<th scope="col">${h}</th>`).join('');
  return `<h3>Steps</h3><table class="steps"><thead><tr>${head}</tr></thead><tbody>${steps.map(stepRow).join('\n')}</tbody></table>`;
}

/** `2026-03-01T00:00:00.000Z (in 45 days)`, counted from the run's start so the report does not change with the day it is read. */
function expiry(validTo: string, runStartMs: number): string {
  const days = daysUntilExpiry(validTo, runStartMs);
  if (!Number.isFinite(days)) return validTo;
  return days >= 0 ? `${validTo} (${days} days after the run)` : `${validTo} (expired ${-days} days before the run)`;
}

export function tlsFacts(tls: TlsFacts, runStartMs: number): string {
  const verification = tls.verified
    ? 'verified'
    : `<span class="warn">⚠ not verified${tls.authorizationError ? `: ${esc(tls.authorizationError)}` : ''}</span>`;
  return [
    '<h3>TLS</h3><dl class="facts">',
    fact('protocol', tls.protocol),
    fact('cipher', tls.cipher),
    fact('certificate', verification, true),
    fact('subject', tls.subject),
    fact('issuer', tls.issuer),
    fact('names', tls.subjectAltName),
    fact('valid from', tls.validFrom),
    fact('valid until', expiry(tls.validTo, runStartMs)),
    fact('SHA-256', tls.fingerprint256 !== '' ? mono(tls.fingerprint256) : undefined, true),
    fact('chain', describeChain(tls)),
    '</dl>',
  ].join('');
}

function transcriptEntry(entry: TranscriptEntry): string {
  const kind = entry.dir === 'C' ? 't-c' : entry.dir === 'S' ? 't-s' : 't-note';
  return `<span class="${kind}">${esc(transcriptLine(entry))}</span>`;
}

function transcript(entries: TranscriptEntry[]): string {
  if (entries.length === 0) return '<h3>Transcript</h3><p class="sub">No transcript: the case did not connect.</p>';
  return `<h3>Transcript</h3><pre class="transcript">${entries.map(transcriptEntry).join('\n')}</pre>`;
}

function caseFacts(item: CaseResult): string {
  return [
    '<dl class="facts">',
    fact('scenario', `${item.scenarioName} (${formatPos(item.pos)})`),
    fact('target', formatTarget(item.target)),
    fact('started', item.startedAt),
    fact('duration', formatDuration(item.durationMs)),
    fact('attempts', item.attempts !== undefined ? String(item.attempts) : undefined),
    ...(item.earlierAttempts ?? []).map((attempt, i) => fact(`attempt ${i + 1}`, `${attempt.failure.message} (${formatDuration(attempt.durationMs)})`)),
    fact('skipped', item.skipReason),
    '</dl>',
  ].join('');
}

/**
 * A case as a `<details>` element: readable without JavaScript, and the source the dialog copies
 * its `.case-body` from (which therefore carries no ids). Failed and errored cases start open:
 * browsers do not open a closed `<details>` that a link points at.
 */
export function renderCaseDetails(item: CaseResult, index: number, runStartMs: number): string {
  const warnings = [...(item.warnings ?? []), ...checkWarnings(item)].map((w) => `<p class="warn">⚠ ${esc(w)}</p>`).join('');
  const failure = item.failure
    ? `<div class="failure ${item.status}"><p class="msg">${esc(item.failure.message)}</p>${failureFacts(item, failingStep(item))}</div>`
    : '';
  return [
    `<details class="case" id="${caseAnchor(index)}"${item.failure ? ' open' : ''} data-title="${esc(caseTitle(item))}">`,
    `<summary>${badge(cellStatus(item))} ${esc(caseTitle(item))} <span class="sub">${esc(formatDuration(item.durationMs))}</span></summary>`,
    '<div class="case-body">',
    caseFacts(item),
    warnings,
    failure,
    transcript(item.transcript),
    item.tls ? tlsFacts(item.tls, runStartMs) : '',
    stepsTable(item.steps),
    '</div></details>',
  ].join('\n');
}
