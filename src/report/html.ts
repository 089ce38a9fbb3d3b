import type { RunResult } from '../engine/results.js';
import { renderHtmlParts, type HtmlOptions } from './html-render.js';
import type { Reporter } from '../engine/events.js';
import type { Sink } from './sink.js';

export { renderHtml, type HtmlOptions, type HtmlRun } from './html-render.js';

/**
 * One self-contained HTML page, written once at the end: a matrix of cases × targets, the
 * totals, every failure with its step, and each case's steps, TLS facts and transcript.
 */
export class HtmlReporter implements Reporter {
  constructor(
    private readonly sink: Sink,
    private readonly options: HtmlOptions = {},
  ) {}

  async onEnd(result: RunResult): Promise<void> {
    for (const part of renderHtmlParts(result, this.options)) this.sink.write(part);
    await this.sink.close();
  }
}
