import { basename, extname } from 'node:path';
import type { Reporter } from '../engine/events.js';
import type { CaseResult, RunCounts, RunResult, Status, StepResult, TlsFacts } from '../engine/results.js';
import { formatTarget, isTcpTarget } from '../engine/target-label.js';
import { daysUntilExpiry } from '../tls-facts.js';
import { alignColumns, summaryLine } from './console.js';
import { printable } from './format.js';
import { jsonText } from './json.js';
import type { Sink } from './sink.js';

/**
 * The table of `smtpspec mx`: one row per MX host, built from the results of the checks run on it
 * (a pure function of the results and the clock), for the console and for `--json`.
 */

/** A check's verdict on one host: `FAIL` stands out in a column of `pass`. */
export type MxVerdict = 'pass' | 'FAIL' | 'error' | 'skip';

export interface MxRow {
  domain: string;
  /** The MX record's preference; absent for the implicit MX and for a domain that did not resolve. */
  preference?: number;
  /** The domain has no MX record and its own address stands in (RFC 5321 §5.1). */
  implicit?: true;
  /** The MX host (the domain itself for the implicit MX, and for a domain that did not resolve). */
  host: string;
  port: number;
  /** The address connected to, as the sessions saw it. */
  address?: string;
  /** The first line of the greeting, code included. */
  greeting?: string;
  /** Whether the EHLO reply offered STARTTLS (or a session upgraded with it). */
  starttls?: boolean;
  /** Whole days until the certificate presented after STARTTLS expires; negative once it has. */
  certificateDaysLeft?: number;
  /** Each check's verdict, by the check's name, in the order the checks ran. */
  checks: Record<string, MxVerdict>;
  /** Why the domain or the host could not be looked up: nothing was connected to. */
  error?: string;
}

/** The longest greeting shown in the table (the JSON keeps the whole first line). */
const GREETING_CHARS = 40;

/** The check a case belongs to: its file's base name (`greeting` for scenarios/checks/greeting.yaml). */
export function checkNameOf(file: string): string {
  return basename(file, extname(file));
}

/** The rows, one per MX host in the order the results name them; `now` (ms since the epoch) dates the certificates. */
export function mxRows(cases: readonly CaseResult[], now: number): MxRow[] {
  const hosts = new Map<string, CaseResult[]>();
  for (const result of cases) {
    const key = formatTarget(result.target);
    const group = hosts.get(key);
    if (group) group.push(result);
    else hosts.set(key, [result]);
  }
  return [...hosts.values()].map((group) => rowOf(group, now));
}

function rowOf(cases: CaseResult[], now: number): MxRow {
  const target = cases[0]!.target;
  const tcp = isTcpTarget(target) ? target : undefined;
  const host = tcp?.host ?? formatTarget(target);
  const row: MxRow = { domain: tcp?.mx?.domain ?? host, host, port: tcp?.port ?? 0, checks: verdicts(cases) };
  if (tcp?.mx?.preference !== undefined) row.preference = tcp.mx.preference;
  if (tcp?.mx?.implicit) row.implicit = true;
  if (tcp?.resolveError !== undefined) return { ...row, error: tcp.resolveError };
  const address = connectedAddress(cases) ?? tcp?.addresses?.[0];
  if (address !== undefined) row.address = address;
  const greeting = greetingOf(cases);
  if (greeting !== undefined) row.greeting = greeting;
  const starttls = starttlsOf(cases);
  if (starttls !== undefined) row.starttls = starttls;
  const tls = tlsOf(cases);
  if (tls) {
    const days = daysUntilExpiry(tls.validTo, now);
    if (Number.isFinite(days)) row.certificateDaysLeft = days;
  }
  return row;
}

/** Per check, the worst of its cases: a failed expectation, else a session that broke, else a pass; skipped when none ran. */
function verdicts(cases: CaseResult[]): Record<string, MxVerdict> {
  const statuses = new Map<string, Set<Status>>();
  for (const result of cases) {
    const name = checkNameOf(result.file);
    const seen = statuses.get(name) ?? new Set<Status>();
    seen.add(result.status);
    statuses.set(name, seen);
  }
  const verdict = (seen: Set<Status>): MxVerdict => (seen.has('failed') ? 'FAIL' : seen.has('error') ? 'error' : seen.has('passed') ? 'pass' : 'skip');
  return Object.fromEntries([...statuses].map(([name, seen]) => [name, verdict(seen)]));
}

/** The address the first session that connected to the host connected to. */
function connectedAddress(cases: CaseResult[]): string | undefined {
  return cases.find((result) => result.remoteAddress !== undefined)?.remoteAddress;
}

/** The greeting: the reply to the first step of a session that sent nothing before it, preferring the greeting check's. */
function greetingOf(cases: CaseResult[]): string | undefined {
  const ordered = [...cases.filter((result) => checkNameOf(result.file) === 'greeting'), ...cases];
  for (const result of ordered) {
    const first = result.steps[0];
    if (!first?.reply || first.sent !== undefined) continue;
    return `${first.reply.code} ${first.reply.lines[0] ?? ''}`.trimEnd();
  }
  return undefined;
}

function isEhlo(step: StepResult): boolean {
  return step.sent !== undefined && /^EHLO\b/i.test(step.sent) && step.reply?.code === 250;
}

/** Offered when a session upgraded or an EHLO reply before any upgrade lists STARTTLS; not offered when such replies were read and none did. */
function starttlsOf(cases: CaseResult[]): boolean | undefined {
  let answered = false;
  for (const result of cases) {
    if (result.tls || result.steps.some((step) => step.tls)) return true;
    const ehlo = result.steps.find(isEhlo);
    if (!ehlo?.reply) continue;
    answered = true;
    if (ehlo.reply.lines.some((line) => /^STARTTLS\b/i.test(line))) return true;
  }
  return answered ? false : undefined;
}

/** The certificate the server presented: the starttls check's first, else any session's. */
function tlsOf(cases: CaseResult[]): TlsFacts | undefined {
  const ordered = [...cases.filter((result) => checkNameOf(result.file) === 'starttls'), ...cases];
  for (const result of ordered) {
    const facts = result.tls ?? result.steps.find((step) => step.tls)?.tls;
    if (facts) return facts;
  }
  return undefined;
}

/** The check columns: every check any row has, in the order first met. */
function checkColumns(rows: readonly MxRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.checks)) names.add(name);
  return [...names];
}

/** The table as lines of text, columns aligned; then one line per row that could not be looked up, saying why. */
export function mxTableLines(rows: readonly MxRow[]): string[] {
  const checks = checkColumns(rows);
  const header = ['domain', 'pref', 'mx host', 'address', 'greeting', 'starttls', 'cert days', ...checks];
  const shown = (value: string | number | undefined): string => (value === undefined ? '-' : printable(String(value)));
  const cells = rows.map((row) => [
    shown(row.domain),
    row.implicit ? 'implicit' : shown(row.preference),
    shown(row.host),
    shown(row.address),
    shown(row.greeting === undefined ? undefined : cut(row.greeting, GREETING_CHARS)),
    row.starttls === undefined ? '-' : row.starttls ? 'yes' : 'no',
    shown(row.certificateDaysLeft),
    ...checks.map((name) => row.checks[name] ?? '-'),
  ]);
  const numeric = new Set([1, 6]);
  const lines = alignColumns(header, cells, (column) => numeric.has(column)).map((row) => row.join('  ').trimEnd());
  const errors = rows.filter((row) => row.error !== undefined).map((row) => `${printable(row.host)}: ${printable(row.error!)}`);
  return errors.length > 0 ? [...lines, '', ...errors] : lines;
}

function cut(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

export const MX_TABLE_FORMAT = 'smtpspec-mx';

/** What `smtpspec mx --json` writes. */
export interface MxTableDocument {
  format: typeof MX_TABLE_FORMAT;
  version: 1;
  startedAt: string;
  durationMs: number;
  counts: RunCounts;
  rows: MxRow[];
}

export function buildMxTableJson(result: RunResult, now: number): string {
  const document: MxTableDocument = { format: MX_TABLE_FORMAT, version: 1, startedAt: result.startedAt, durationMs: result.durationMs, counts: result.counts, rows: mxRows(result.cases, now) };
  return jsonText(document);
}

export interface MxTableReporterOptions {
  /** The table as JSON (`--json`) rather than text. */
  json?: boolean;
  /** The clock that dates the certificates; default Date.now. */
  now?: () => number;
}

/** Writes the table once the run is over: as text, ending with the run's counts, or as JSON. */
export class MxTableReporter implements Reporter {
  constructor(
    private readonly sink: Sink,
    private readonly options: MxTableReporterOptions = {},
  ) {}

  async onEnd(result: RunResult): Promise<void> {
    const now = (this.options.now ?? Date.now)();
    if (this.options.json) this.sink.write(buildMxTableJson(result, now));
    else this.sink.write([...mxTableLines(mxRows(result.cases, now)), '', summaryLine(result.counts)].map((line) => `${line}\n`).join(''));
    await this.sink.close();
  }
}
