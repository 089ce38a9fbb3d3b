import type { CaseResult, RunResult } from '../engine/results.js';
import type { Reporter } from '../engine/events.js';
import type { Sink } from './sink.js';
import { formatTarget, printable } from './format.js';
import { sessionTimings } from './session-timings.js';
import { daysUntilExpiry } from '../tls-facts.js';
import { groupBy } from '../group-by.js';
import { checkWarnings } from './check-lines.js';

/**
 * A Nagios / Icinga plugin's output: one line `SMTPSPEC STATUS: text | perfdata`, perfdata as
 * `'label'=value[UOM];[warn];[crit];[min];[max]` separated by spaces. With `--reporter nagios` the
 * exit code follows the plugin guidelines (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) instead of smtpspec's own.
 *
 * CRITICAL: a case failed or erred (a DNS check that failed or could not decide among them: its reasons are the
 * failure's message), or a certificate has fewer days left than the critical threshold. WARNING: every case passed,
 * but a DNS check's verdict was `warn` (a policy served with the wrong media type, a short max_age: the service works,
 * and someone should look), or a certificate has fewer days left than the warning threshold. UNKNOWN: no case ran.
 */

export type NagiosStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export const DEFAULT_WARN_DAYS = 30;
export const DEFAULT_CRIT_DAYS = 14;

export interface NagiosOptions {
  /** A certificate with fewer days left than this makes the status WARNING. Default 30. */
  warnDays?: number;
  /** A certificate with fewer days left than this makes the status CRITICAL. Default 14. */
  critDays?: number;
  /** The clock certificate days are counted from, in ms since the epoch. */
  now?: () => number;
}

export interface NagiosCheckResult {
  status: NagiosStatus;
  /** The status line's text, one line, without the `|`. */
  text: string;
  perfdata: string[];
}

/** The plugin guidelines' exit code of a status. */
export function nagiosExitCode(status: NagiosStatus): number {
  switch (status) {
    case 'OK':
      return 0;
    case 'WARNING':
      return 1;
    case 'CRITICAL':
      return 2;
    case 'UNKNOWN':
      return 3;
  }
}

export class NagiosReporter implements Reporter {
  /** The status of the line written, once the run has ended. */
  status: NagiosStatus | undefined;

  constructor(
    private readonly sink: Sink,
    private readonly options: NagiosOptions = {},
  ) {}

  async onEnd(result: RunResult): Promise<void> {
    const check = nagiosCheck(result, this.options);
    this.status = check.status;
    this.sink.write(formatNagiosLine(check));
    await this.sink.close();
  }
}

/** The line of a status with a text alone, for a run that never reached a result (unusable input, a fault). */
export function nagiosUnknownLine(text: string): string {
  return formatNagiosLine({ status: 'UNKNOWN', text, perfdata: [] });
}

export function formatNagiosLine(check: NagiosCheckResult): string {
  const text = `SMTPSPEC ${check.status}: ${oneLine(check.text)}`;
  return (check.perfdata.length > 0 ? `${text} | ${check.perfdata.join(' ')}` : text) + '\n';
}

/** The whole output for a run: one line ending with a newline. */
export function buildNagios(result: RunResult, options: NagiosOptions = {}): string {
  return formatNagiosLine(nagiosCheck(result, options));
}

export function nagiosCheck(result: RunResult, options: NagiosOptions = {}): NagiosCheckResult {
  const warnDays = options.warnDays ?? DEFAULT_WARN_DAYS;
  const critDays = options.critDays ?? DEFAULT_CRIT_DAYS;
  const nowMs = (options.now ?? Date.now)();
  const ran = result.cases.filter((item) => item.status !== 'skipped');
  const perfdata = perfdataOf(ran, nowMs, warnDays, critDays);
  if (ran.length === 0) return { status: 'UNKNOWN', text: 'no case ran', perfdata };
  const notPassed = ran.filter((item) => item.status === 'failed' || item.status === 'error');
  if (notPassed.length > 0) {
    const first = notPassed[0]!;
    const why = first.failure?.message ?? `case ${first.status}`;
    const text = `${notPassed.length} of ${ran.length} ${plural(ran.length, 'case')} did not pass; ${first.caseName} @ ${formatTarget(first.target)}: ${why}`;
    return { status: 'CRITICAL', text, perfdata };
  }
  const passed = `${ran.length} ${plural(ran.length, 'case')} passed`;
  const warned = firstCheckWarning(ran);
  const certificate = soonestCertificate(ran, nowMs);
  const expiry = certificate && `the certificate of ${formatTarget(certificate.item.target)} expires in ${certificate.days} ${plural(certificate.days, 'day')}`;
  const certificateStatus: NagiosStatus = !certificate ? 'OK' : certificate.days < critDays ? 'CRITICAL' : certificate.days < warnDays ? 'WARNING' : 'OK';
  const status: NagiosStatus = certificateStatus === 'CRITICAL' ? 'CRITICAL' : certificateStatus === 'WARNING' || warned !== undefined ? 'WARNING' : 'OK';
  const concerns = [certificateStatus !== 'OK' ? expiry : undefined, warned].filter((concern): concern is string => concern !== undefined);
  const but = concerns.length > 0 ? `, but ${concerns.join('; ')}` : '';
  const soon = expiry !== undefined && certificateStatus === 'OK' ? `; ${expiry}` : '';
  return { status, text: `${passed}${but}${soon}`, perfdata };
}

/** The first warning of a DNS check step (its step passed), and how many more there are. */
function firstCheckWarning(cases: CaseResult[]): string | undefined {
  const warnings = cases.flatMap((item) => checkWarnings(item).map((warning) => `${item.caseName} @ ${formatTarget(item.target)}: ${warning}`));
  if (warnings.length === 0) return undefined;
  const more = warnings.length - 1;
  return more > 0 ? `${warnings[0]} (and ${more} more ${plural(more, 'warning')})` : warnings[0];
}

function soonestCertificate(cases: CaseResult[], nowMs: number): { item: CaseResult; days: number } | undefined {
  let soonest: { item: CaseResult; days: number } | undefined;
  for (const item of cases) {
    if (!item.tls) continue;
    const days = daysUntilExpiry(item.tls.validTo, nowMs);
    if (Number.isNaN(days)) continue;
    if (!soonest || days < soonest.days) soonest = { item, days };
  }
  return soonest;
}

/**
 * Per target (and per case when a target ran several): connect, greeting, TLS and transaction times in
 * seconds, and per target the fewest days a certificate it showed has left, with the thresholds as ranges.
 */
function perfdataOf(cases: CaseResult[], nowMs: number, warnDays: number, critDays: number): string[] {
  const byTarget = [...groupBy(cases, (item) => formatTarget(item.target)).entries()];
  const single = byTarget.length === 1;
  const out: string[] = [];
  for (const [target, items] of byTarget) {
    for (const item of items) {
      const prefix = [single ? '' : target, items.length > 1 ? item.caseName : ''].filter((part) => part !== '').join(' ');
      const timings = sessionTimings(item);
      const time = (name: string, ms: number | undefined): void => {
        if (ms !== undefined) out.push(`${label(prefix, name)}=${seconds(ms)}s;;;0`);
      };
      time('connect', timings.connectMs);
      time('greeting', timings.greetingMs);
      time('tls', timings.tlsMs);
      time('transaction', timings.transactionMs);
    }
    const days = soonestCertificate(items, nowMs)?.days;
    if (days !== undefined) out.push(`${label(single ? '' : target, 'cert_days_left')}=${days};${warnDays}:;${critDays}:;;`);
  }
  return out;
}

/** Always quoted; the guidelines allow neither `'` nor `=` inside a label, nor a line break. */
function label(prefix: string, name: string): string {
  const text = prefix === '' ? name : `${prefix} ${name}`;
  return `'${oneLine(text).replace(/['=]/g, '_')}'`;
}

function seconds(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/** The status text is one line, and a `|` would start the perfdata. */
function oneLine(text: string): string {
  return printable(text).replace(/\|/g, '/');
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
