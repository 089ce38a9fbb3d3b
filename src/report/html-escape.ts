import type { CaseResult } from '../engine/results.js';
import { printable } from './format.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for element content and attribute values alike. Controls, lone surrogates and bidi
 * controls become visible escapes first (server replies are untrusted), then markup is escaped.
 */
export function esc(text: string | number): string {
  return printable(String(text)).replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);
}

/** What a matrix cell shows: `flaky` is a passed case that needed a retry; `none` was not run against that target. */
export type CellStatus = 'passed' | 'failed' | 'error' | 'skipped' | 'flaky' | 'none';

export const STATUS_SYMBOL: Record<CellStatus, string> = {
  passed: '✓',
  failed: '✗',
  error: '!',
  skipped: '–',
  flaky: '↻',
  none: '·',
};

export const STATUS_WORD: Record<CellStatus, string> = {
  passed: 'passed',
  failed: 'failed',
  error: 'error',
  skipped: 'skipped',
  flaky: 'flaky',
  none: 'not run',
};

export function cellStatus(item: CaseResult): CellStatus {
  return item.status === 'passed' && item.flaky === true ? 'flaky' : item.status;
}

/** `<span class="badge failed">✗ failed</span>`: colour and words, never colour alone. */
export function badge(status: CellStatus): string {
  return `<span class="badge ${status}">${STATUS_SYMBOL[status]} ${STATUS_WORD[status]}</span>`;
}

/** `case-3`: ids come from positions, never from names, so nothing a server or file says reaches an attribute name. */
export function caseAnchor(index: number): string {
  return `case-${index + 1}`;
}
