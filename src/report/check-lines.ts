import type { CaseResult, CheckOutcome, StepResult } from '../engine/results.js';

/**
 * What a DNS check step decided and found, in a few lines for every report (like a mailbox step's delivery lines):
 * the verdict, the reasons behind it, and the facts an operator reads — the PTR and forward names, the TLSA records
 * and what each matched, the MTA-STS record, policy and MX patterns, the TLS-RPT addresses, each block list's answer.
 */

type CheckOf<Name extends CheckOutcome['check']> = Extract<CheckOutcome, { check: Name }>;

export interface CheckLineOptions {
  /** `short` (default): hex data longer than 16 digits is cut to its first 16 and `…`; `whole`: as found. */
  hex?: 'short' | 'whole';
}

const SHORT_HEX_DIGITS = 16;

/** `dane: fail`, then each reason, then the facts; an error adds what the check was doing and why it stopped. */
export function checkLines(outcome: CheckOutcome, options: CheckLineOptions = {}): string[] {
  const error = outcome.verdict === 'error' && outcome.error ? ` (${outcome.error.phase}: ${outcome.error.kind})` : '';
  return [`${outcome.check}: ${outcome.verdict}${error}`, ...outcome.reasons, ...factLines(outcome, options)];
}

function factLines(outcome: CheckOutcome, options: CheckLineOptions): string[] {
  switch (outcome.check) {
    case 'fcrdns':
      return fcrdnsLines(outcome);
    case 'dane':
      return daneLines(outcome, options);
    case 'mta-sts':
      return mtaStsLines(outcome);
    case 'tls-rpt':
      return tlsRptLines(outcome);
    case 'dnsbl':
      return dnsblLines(outcome);
    default:
      return unknownCheck(outcome);
  }
}

/** A check added to CheckOutcome and not described here fails the build here. */
function unknownCheck(outcome: never): string[] {
  return [`facts of ${(outcome as { check: string }).check} are not described`];
}

/** `address 127.0.0.1 → PTR mx.example.test → A 127.0.0.1 (confirmed)` per PTR name, then what the greeting named. */
function fcrdnsLines({ verdict, facts }: CheckOf<'fcrdns'>): string[] {
  const lines: string[] = [];
  const type = facts.address.includes(':') ? 'AAAA' : 'A';
  if (facts.ptrNames.length === 0 && verdict !== 'error') lines.push(`address ${facts.address} → no PTR name`);
  for (const name of facts.ptrNames) {
    const forward = facts.forward.find((entry) => entry.name === name);
    const addresses = !forward ? 'not asked' : forward.failure !== undefined ? `none (${forward.failure})` : forward.addresses.join(', ') || 'none';
    const confirmed = facts.confirmedNames.includes(name) ? 'confirmed' : 'not confirmed';
    lines.push(`address ${facts.address} → PTR ${name} → ${type} ${addresses} (${confirmed})`);
  }
  if (facts.matchedName !== undefined) lines.push(`greeting names ${facts.matchedName}`);
  else if (facts.greetingName !== undefined && facts.confirmedNames.length > 0) lines.push(`greeting "${facts.greetingName}" names none of the confirmed names`);
  return lines;
}

/** `TLSA _25._tcp.mx.example.test (DNSSEC-authenticated): 3 1 1 ab12… matched the server certificate (depth 0)` per record. */
function daneLines({ verdict, facts }: CheckOf<'dane'>, options: CheckLineOptions): string[] {
  if (verdict === 'error' && facts.records.length === 0) return [];
  const head = `TLSA ${facts.recordName} (${facts.authenticated ? 'DNSSEC-authenticated' : 'NOT authenticated'})`;
  if (facts.records.length === 0) return [`${head}: no record`];
  return facts.records.map((record) => {
    const data = options.hex === 'whole' ? record.data : shortHex(record.data);
    return `${head}: ${record.usage} ${record.selector} ${record.matchingType} ${data} ${recordOutcome(record, facts.chainLength)}`;
  });
}

function recordOutcome(record: CheckOf<'dane'>['facts']['records'][number], chainLength: number): string {
  if (!record.usable) return `unusable: ${record.unusable ?? 'not for SMTP'}`;
  if (record.matchedDepth === undefined) return `matched no certificate of the chain (${chainLength} ${chainLength === 1 ? 'certificate' : 'certificates'})`;
  const which = record.matchedDepth === 0 ? 'the server certificate' : 'a certificate above the server certificate';
  const matched = `matched ${which} (depth ${record.matchedDepth})`;
  return record.rejected !== undefined ? `${matched}, rejected: ${record.rejected}` : matched;
}

/** The record's id, the policy (where it was, its mode, max_age and patterns), and the pattern each MX host matched. */
function mtaStsLines({ facts }: CheckOf<'mta-sts'>): string[] {
  const lines: string[] = [];
  if (facts.id !== undefined) lines.push(`record id=${facts.id}`);
  else if (facts.record !== undefined) lines.push(`record "${facts.record}"`);
  const policy = facts.policy;
  if (policy) {
    const from = facts.policyAddress !== undefined ? ` (${facts.policyAddress})` : '';
    lines.push(`policy ${facts.policyUrl}${from} mode ${policy.mode}, max_age ${policy.maxAgeSeconds}, mx ${policy.mx.join(', ') || 'none'}`);
  } else if (facts.policyAddress !== undefined) {
    lines.push(`policy ${facts.policyUrl} (${facts.policyAddress}): not read`);
  }
  for (const mx of facts.mx) lines.push(mx.pattern !== undefined ? `mx ${mx.host} matches ${mx.pattern}` : `mx ${mx.host} matches no pattern`);
  return lines;
}

/** `rua mailto:tlsrpt@example.test`, or the records found when none could be read. */
function tlsRptLines({ facts }: CheckOf<'tls-rpt'>): string[] {
  if (facts.rua.length > 0) return [`${facts.recordName}: rua ${facts.rua.join(', ')}`];
  return facts.records.map((record) => `${facts.recordName}: "${record}"`);
}

/** `zen.spamhaus.org: listed (127.0.0.2): reason`, `not listed`, or `no usable answer (timeout)` per list. */
function dnsblLines({ facts }: CheckOf<'dnsbl'>): string[] {
  if (facts.lists.length === 0) return [];
  return [
    `address ${facts.address}`,
    ...facts.lists.map((entry) => {
      switch (entry.status) {
        case 'listed':
          return `${entry.list}: listed (${entry.codes.join(', ')})${entry.reason !== undefined ? `: ${entry.reason}` : ''}`;
        case 'not-listed':
          return `${entry.list}: not listed`;
        case 'error':
          return `${entry.list}: no usable answer (${entry.errorKind ?? 'error'})`;
      }
    }),
  ];
}

/** Hex data cut to its first 16 digits and `…`, when longer. */
export function shortHex(hex: string): string {
  return hex.length <= SHORT_HEX_DIGITS ? hex : `${hex.slice(0, SHORT_HEX_DIGITS)}…`;
}

/** A step's check lines, or none. */
export function stepCheckLines(step: StepResult, options: CheckLineOptions = {}): string[] {
  return step.check ? checkLines(step.check, options) : [];
}

/**
 * The warnings of a case's checks: `dane: reason` for each reason of a check whose verdict is `warn`. The step passed,
 * so no failure shows them: every report shows these beside the case's own warnings.
 */
export function checkWarnings(result: Pick<CaseResult, 'steps'>): string[] {
  return result.steps.flatMap((step) => (step.check?.verdict === 'warn' ? warningsOf(step.check) : []));
}

function warningsOf(outcome: CheckOutcome): string[] {
  return outcome.reasons.length > 0 ? outcome.reasons.map((reason) => `${outcome.check}: ${reason}`) : [`${outcome.check}: warn`];
}
