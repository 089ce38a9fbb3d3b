import { rootCertificates } from 'node:tls';
import { DnsClient } from '../dns/resolver.js';
import { isIP } from '../ip.js';
import { isTcpTarget, type DnsCheckAction, type DnsCheckSpec, type Step } from '../scenario/types.js';
import type { Reply } from '../smtp/types.js';
import type { CheckOutcome } from './results.js';
import type { StepContext } from './step-context.js';
import { plural } from '../words.js';

/**
 * Runs a DNS check step: the check of src/dns/checks/ with the run's resolver, on what the session knows
 * (the address connected to, the greeting, the TLS chain) or what the target names (its mail domain).
 * The step's timeout bounds the whole check. Sends nothing to the SMTP server; the verdict decides the
 * step: pass and warn pass, fail fails, error (the check could not decide) errs.
 */

/** What the step did, as every action says it (it reads no reply from the SMTP server). */
export interface CheckStepOutcome {
  replies: Reply[];
  sentAt: number;
  failure?: string;
  check: CheckOutcome;
}

export async function runCheckStep(action: DnsCheckAction, step: Step, ctx: StepContext): Promise<CheckStepOutcome> {
  const sentAt = performance.now();
  const expired = AbortSignal.timeout(step.timeoutMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, expired]) : expired;
  const dns = new DnsClient({ ...(ctx.dnsServer ? { server: ctx.dnsServer } : {}), timeoutMs: step.timeoutMs, signal });
  const ran = await runCheck(action.spec, ctx, dns, step.timeoutMs, signal);
  const check = ran.verdict === 'error' && expired.aborted && !ctx.signal?.aborted ? timedOut(ran, step.timeoutMs) : ran;
  const verdictLine = `check ${check.check}: ${check.verdict}${check.reasons.length > 0 ? `: ${check.reasons.join('; ')}` : ''}`;
  ctx.transcript?.note(verdictLine);
  const failure = check.verdict === 'fail' || check.verdict === 'error' ? check.reasons.join('; ') || `the ${check.check} check failed` : undefined;
  return { replies: [], sentAt, check, ...(failure !== undefined ? { failure } : {}) };
}

function runCheck(spec: DnsCheckSpec, ctx: StepContext, dns: DnsClient, timeoutMs: number, signal: AbortSignal): Promise<CheckOutcome> {
  switch (spec.check) {
    case 'fcrdns': {
      const address = ctx.conn?.remoteAddress;
      if (address === undefined) {
        return Promise.resolve({ check: 'fcrdns', facts: { address: '', ptrNames: [], forward: [], confirmedNames: [] }, ...cannot('the address connected to is unknown: fcrdns needs a session over TCP') });
      }
      return import('../dns/checks/fcrdns.js').then(({ fcrdns }) => fcrdns(address, greetingNames(ctx), dns));
    }
    case 'dane':
      return dane(ctx, dns);
    case 'mta-sts': {
      const domain = spec.domain ?? mailDomainOf(ctx);
      if (domain === undefined) return Promise.resolve({ check: 'mta-sts', facts: { domain: '', policyUrl: '', mx: [] }, ...cannot(NO_DOMAIN) });
      const ca = ctx.scenario.tls.files?.ca;
      const options = { timeoutMs, signal, ...(spec.policyPort !== undefined ? { port: spec.policyPort } : {}), ...(ca && ca.length > 0 ? { ca: [...rootCertificates, ...ca] } : {}) };
      return import('../dns/checks/mta-sts.js').then(({ mtaSts }) => mtaSts(domain, dns, options));
    }
    case 'tls-rpt': {
      const domain = spec.domain ?? mailDomainOf(ctx);
      if (domain === undefined) return Promise.resolve({ check: 'tls-rpt', facts: { domain: '', recordName: '', records: [], rua: [] }, ...cannot(NO_DOMAIN) });
      return import('../dns/checks/tls-rpt.js').then(({ tlsRpt }) => tlsRpt(domain, dns));
    }
    case 'dnsbl': {
      const address = spec.address ?? ctx.conn?.remoteAddress;
      if (address === undefined) {
        return Promise.resolve({ check: 'dnsbl', facts: { address: '', lists: [], listedOn: [] }, ...cannot('the address connected to is unknown: give the step an address, or run it in a session over TCP') });
      }
      return import('../dns/checks/dnsbl.js').then(({ dnsbl }) => dnsbl(address, spec.lists, dns));
    }
  }
}

async function dane(ctx: StepContext, dns: DnsClient): Promise<CheckOutcome> {
  const target = ctx.target;
  const host = isTcpTarget(target) ? target.host : undefined;
  const port = isTcpTarget(target) ? target.port : 0;
  const facts = { host: host ?? '', port, recordName: '', authenticated: false, records: [], chainLength: 0, matched: false };
  if (host === undefined || isIP(host) !== 0) return { check: 'dane', facts, ...cannot("DANE needs the server's host name (TLSA records are published under it), and the target has none") };
  const conn = ctx.conn;
  if (!conn?.tls) return { check: 'dane', verdict: 'fail', reasons: ['there is no TLS session to match: put the dane step after a starttls step'], facts: { ...facts, recordName: `_${port}._tcp.${host}` } };
  const { dane: check } = await import('../dns/checks/dane.js');
  return check(host, port, conn.peerChain(), dns);
}

/** The names the server gave itself: the first word of its greeting and of its EHLO reply (RFC 5321 §4.3.1, §4.1.1.1). */
function greetingNames(ctx: StepContext): string | undefined {
  const first = (line: string | undefined): string | undefined => line?.trim().split(/\s+/)[0] || undefined;
  const names = [first(ctx.state.greeting), first(ctx.state.ehloLines?.[0])].filter((name): name is string => name !== undefined);
  return names.length === 0 ? undefined : [...new Set(names)].join(' ');
}

const NO_DOMAIN = 'the target names no mail domain: give the step a domain';

/** The mail domain of the target: the domain an MX host was found for, else the host's own name (not an address). */
function mailDomainOf(ctx: StepContext): string | undefined {
  const target = ctx.target;
  if (!isTcpTarget(target)) return undefined;
  const domain = target.mx?.domain ?? target.host;
  return isIP(domain) === 0 ? domain : undefined;
}

/** The verdict of a check that cannot be made here, and why. */
function cannot(reason: string): Pick<CheckOutcome, 'verdict' | 'reasons' | 'error'> {
  return { verdict: 'error', reasons: [reason], error: { phase: 'setup', kind: 'unavailable', message: reason } };
}

function timedOut(check: CheckOutcome, timeoutMs: number): CheckOutcome {
  const message = `the ${check.check} check did not finish within the step's ${plural(Math.round(timeoutMs / 1000), 'second')}`;
  return { ...check, reasons: [message], error: { phase: check.error?.phase ?? 'lookup', kind: 'timeout', message } };
}
