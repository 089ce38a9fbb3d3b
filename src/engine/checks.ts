import { checkCapability, describeSpec, parseEhloReply } from '../smtp/capabilities.js';
import type { Reply, TlsFacts } from '../smtp/types.js';
import type { CapabilityCheck, Step, TextPattern, TlsAssertions } from '../scenario/types.js';
import { matchReply, replyText } from './match.js';
import { compareTlsVersions, daysUntilExpiry } from '../tls-facts.js';
import { plural } from '../words.js';

/**
 * The checks a step makes on its reply beyond the reply code: capabilities, captures,
 * latency. Each returns a failure reason, or undefined when it holds.
 */

export function checkCapabilities(check: CapabilityCheck, reply: Reply): string | undefined {
  const caps = parseEhloReply(reply.lines);
  const missing = check.has.filter((spec) => !checkCapability(caps, spec)).map(describeSpec);
  const present = check.lacks.filter((spec) => checkCapability(caps, spec)).map(describeSpec);
  const problems = [
    ...(missing.length > 0 ? [`not advertised: ${missing.join(', ')}`] : []),
    ...(present.length > 0 ? [`advertised but should not be: ${present.join(', ')}`] : []),
  ];
  return problems.length > 0 ? `capabilities: ${problems.join('; ')}` : undefined;
}

export type CaptureResult = { values: Record<string, string> } | { error: string };

/** Group 1 of each pattern (or the whole match when it has no group) becomes the variable's value. */
export function captureValues(captures: { name: string; pattern: TextPattern }[], reply: Reply): CaptureResult {
  const values: Record<string, string> = {};
  const text = replyText(reply);
  for (const { name, pattern } of captures) {
    const match = new RegExp(pattern.source, pattern.flags).exec(text);
    if (!match) return { error: `capture ${name}: ${pattern.written} did not match the reply` };
    values[name] = match[1] ?? match[0];
  }
  return { values };
}

export function checkLatency(latencyMs: number, withinMs: number): string | undefined {
  if (latencyMs <= withinMs) return undefined;
  return `the reply took ${latencyMs} ms, more than the ${withinMs} ms allowed`;
}

/** The reply code/text expectation, then the capability assertions, in that order. */
export function checkReply(step: Step, reply: Reply): string | undefined {
  const match = matchReply(step.expect, reply);
  if (!match.ok) return match.reason;
  return step.capabilities ? checkCapabilities(step.capabilities, reply) : undefined;
}

export interface TlsCheckContext {
  facts: TlsFacts | undefined;
  /** Why the certificate is not valid for the name, or undefined when it is. */
  nameMismatch(name: string): string | undefined;
  now: number;
}

export function checkTls(assertions: TlsAssertions, context: TlsCheckContext): string | undefined {
  const facts = context.facts;
  if (!facts) return 'TLS: the session is not encrypted';
  const problems: string[] = [];
  if (assertions.minVersion && compareTlsVersions(facts.protocol, assertions.minVersion) < 0) {
    problems.push(`protocol ${facts.protocol} is older than ${assertions.minVersion}`);
  }
  if (assertions.hostname) {
    const mismatch = context.nameMismatch(assertions.hostname);
    if (mismatch) problems.push(mismatch);
  }
  if (assertions.validForDays !== undefined) {
    const days = daysUntilExpiry(facts.validTo, context.now);
    if (days < assertions.validForDays) {
      problems.push(
        days < 0
          ? `the certificate expired on ${facts.validTo.slice(0, 10)}`
          : `the certificate expires in ${plural(days, 'day')} (${facts.validTo.slice(0, 10)}), fewer than ${assertions.validForDays}`,
      );
    }
  }
  for (const [field, pattern] of [['issuer', assertions.issuer], ['subject', assertions.subject]] as const) {
    if (pattern && !new RegExp(pattern.source, pattern.flags).test(facts[field])) {
      problems.push(`${field} "${facts[field]}" does not match ${pattern.written}`);
    }
  }
  return problems.length > 0 ? `TLS: ${problems.join('; ')}` : undefined;
}
