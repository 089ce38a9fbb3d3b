import { basename, extname } from 'node:path';
import type { Reporter } from '../engine/events.js';
import type { CaseResult, RunCounts, RunResult, StepResult, TlsFacts } from '../engine/results.js';
import { formatTarget, isTcpTarget } from '../engine/target-label.js';
import { daysUntilExpiry } from '../tls-facts.js';
import { alignColumns, summaryLine } from './console.js';
import { printable } from './format.js';
import { jsonText } from './json.js';
import { checkWarnings } from './check-lines.js';
import type { Sink } from './sink.js';

/**
 * The table of `smtpspec mx`: one row per MX host, built from the results of the checks run on it
 * (a pure function of the results and the clock), for the console and for `--json`.
 */

/** A check's verdict on one host: `FAIL` stands out in a column of `pass`; `warn`: passed, with a DNS check's warning. */
export type MxVerdict = 'pass' | 'warn' | 'FAIL' | 'error' | 'skip';

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
  /** The row of a domain none of whose MX hosts has a row: only the checks that ask DNS of the whole domain ran (host is the domain). */
  wholeDomain?: true;
}

/** The longest greeting shown in the table (the JSON keeps the whole first line). */
const GREETING_CHARS = 40;

/** The check a case belongs to: its file's base name (`greeting` for scenarios/checks/greeting.yaml). */
export function checkNameOf(file: string): string {
  return basename(file, extname(file));
}

/**
 * The rows, one per MX host in the order the results name them; `now` (ms since the epoch) dates the certificates.
 * A case run once for the whole domain (MTA-STS policy, TLS-RPT record) has no host: its verdict fills its check's column
 * in every row of its domain, or a row of its own when the domain has no other.
 */
export function mxRows(cases: readonly CaseResult[], now: number): MxRow[] {
  const groups = new Map<string, { domain?: string; cases: CaseResult[] }>();
  for (const result of cases) {
    const target = result.target;
    const domain = isTcpTarget(target) && target.mx?.wholeDomain ? target.mx.domain : undefined;
    const key = domain !== undefined ? `domain ${domain}` : `host ${formatTarget(target)}`;
    const group = groups.get(key);
    if (group) group.cases.push(result);
    else groups.set(key, { ...(domain !== undefined && { domain }), cases: [result] });
  }
  const hostRows = [...groups.values()].flatMap((group) => (group.domain === undefined ? [rowOf(group.cases, now)] : []));
  const rows: MxRow[] = [];
  let next = 0;
  for (const group of groups.values()) {
    if (group.domain === undefined) {
      rows.push(hostRows[next++]!);
      continue;
    }
    const checks = verdicts(group.cases);
    const ofDomain = hostRows.filter((row) => row.domain === group.domain);
    for (const row of ofDomain) row.checks = combine(row.checks, checks);
    if (ofDomain.length === 0) rows.push(domainRow(group.domain, group.cases, checks));
  }
  return rows;
}

/** A domain's row when only the cases run for the whole domain name it. */
function domainRow(domain: string, cases: CaseResult[], checks: Record<string, MxVerdict>): MxRow {
  const target = cases[0]!.target;
  return { domain, host: domain, port: isTcpTarget(target) ? target.port : 0, checks, wholeDomain: true };
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

/** From the worst down: a failed expectation, a session that broke, a pass with a DNS check's warning, a pass, not run. */
const VERDICT_RANK: Record<MxVerdict, number> = { FAIL: 4, error: 3, warn: 2, pass: 1, skip: 0 };

function worse(a: MxVerdict | undefined, b: MxVerdict): MxVerdict {
  return a !== undefined && VERDICT_RANK[a] >= VERDICT_RANK[b] ? a : b;
}

function caseVerdict(result: CaseResult): MxVerdict {
  switch (result.status) {
    case 'failed':
      return 'FAIL';
    case 'error':
      return 'error';
    case 'passed':
      return checkWarnings(result).length > 0 ? 'warn' : 'pass';
    case 'skipped':
      return 'skip';
  }
}

/** Per check (the file's base name), the worst of its cases; skipped when none ran. */
function verdicts(cases: CaseResult[]): Record<string, MxVerdict> {
  const found: Record<string, MxVerdict> = {};
  for (const result of cases) {
    const name = checkNameOf(result.file);
    found[name] = worse(found[name], caseVerdict(result));
  }
  return found;
}

/** A host's verdicts with the whole domain's added, the worse of the two where both ran the same check. */
function combine(host: Record<string, MxVerdict>, domain: Record<string, MxVerdict>): Record<string, MxVerdict> {
  const combined = { ...host };
  for (const [name, verdict] of Object.entries(domain)) combined[name] = worse(combined[name], verdict);
  return combined;
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

/** The check columns: every check any row has, by name (as `smtpspec checks` lists them), whatever order they ran in. */
function checkColumns(rows: readonly MxRow[]): string[] {
  const names = new Set<string>();
  for (const row of rows) for (const name of Object.keys(row.checks)) names.add(name);
  return [...names].sort();
}

/** The table as lines of text, columns aligned; then one line per row that could not be looked up, saying why. */
export function mxTableLines(rows: readonly MxRow[]): string[] {
  const checks = checkColumns(rows);
  const header = ['domain', 'pref', 'mx host', 'address', 'greeting', 'starttls', 'cert days', ...checks];
  const shown = (value: string | number | undefined): string => (value === undefined ? '-' : printable(String(value)));
  const cells = rows.map((row) => [
    shown(row.domain),
    row.implicit ? 'implicit' : shown(row.preference),
    shown(row.wholeDomain ? undefined : row.host),
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
