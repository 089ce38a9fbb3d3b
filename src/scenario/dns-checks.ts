import { isIP } from '../ip.js';
import { isRecord, type NormalizeContext, type Scope } from './context.js';
import type { DataPath } from './positions.js';
import { isValidHost } from './target.js';
import type { DnsCheckAction, DnsCheckSpec } from './types.js';

/**
 * The DNS check steps as written (`fcrdns: true`, `dane: true`, `mta_sts: true | {domain, policy_port}`,
 * `tls_rpt: true | {domain}`, `dnsbl: {lists, address}`) made into their action; the schema has already
 * said what is wrong with a shape, so a value it refuses gives undefined here without a second message.
 */

export type DnsCheckKey = 'fcrdns' | 'dane' | 'mta_sts' | 'tls_rpt' | 'dnsbl';

export function dnsCheckAction(ctx: NormalizeContext, scope: Scope, key: DnsCheckKey, written: unknown, path: DataPath): DnsCheckAction | undefined {
  const spec = checkSpec(ctx, scope, key, written, path);
  return spec && { type: 'dns', spec };
}

function checkSpec(ctx: NormalizeContext, scope: Scope, key: DnsCheckKey, written: unknown, path: DataPath): DnsCheckSpec | undefined {
  switch (key) {
    case 'fcrdns':
      return { check: 'fcrdns' };
    case 'dane':
      return { check: 'dane' };
    case 'mta_sts': {
      if (!isRecord(written)) return { check: 'mta-sts' };
      const domain = domainOf(ctx, scope, written['domain'], [...path, 'domain']);
      const policyPort = portOf(ctx, scope, written['policy_port'], [...path, 'policy_port']);
      if (domain === null || policyPort === null) return undefined;
      return { check: 'mta-sts', ...(domain !== undefined ? { domain } : {}), ...(policyPort !== undefined ? { policyPort } : {}) };
    }
    case 'tls_rpt': {
      if (!isRecord(written)) return { check: 'tls-rpt' };
      const domain = domainOf(ctx, scope, written['domain'], [...path, 'domain']);
      if (domain === null) return undefined;
      return { check: 'tls-rpt', ...(domain !== undefined ? { domain } : {}) };
    }
    case 'dnsbl': {
      if (!isRecord(written)) return undefined;
      const lists = listsOf(ctx, scope, written['lists'], [...path, 'lists']);
      const address = addressOf(ctx, scope, written['address'], [...path, 'address']);
      if (lists === undefined || address === null) return undefined;
      return { check: 'dnsbl', lists, ...(address !== undefined ? { address } : {}) };
    }
  }
}

/** A domain name with its variables expanded; undefined when not written, null when unusable (the problem recorded). */
function domainOf(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): string | undefined | null {
  if (typeof written !== 'string') return undefined;
  const text = ctx.expand(scope, written, path, { label: 'domain', oneLine: true });
  if (text === undefined) return null;
  const domain = text.trim().replace(/\.$/, '');
  if (!isValidHost(domain) || isIP(domain) !== 0 || !domain.includes('.')) {
    ctx.error(ctx.at(path), `domain must be a mail domain such as example.com, got "${text}"`);
    return null;
  }
  return domain.toLowerCase();
}

function portOf(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): number | undefined | null {
  if (typeof written === 'number') return written;
  if (typeof written !== 'string' || !written.includes('${')) return undefined;
  const text = ctx.expand(scope, written, path, { label: 'policy_port', oneLine: true });
  if (text === undefined) return null;
  const port = /^\s*[0-9]{1,5}\s*$/.test(text) ? Number(text) : NaN;
  if (port >= 1 && port <= 65_535) return port;
  ctx.error(ctx.at(path), `policy_port must be a port from 1 to 65535, got "${text}"`);
  return null;
}

/** The lists' zones: written as a list, or as one string of names separated by commas or spaces (what a variable holds). */
function listsOf(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): string[] | undefined {
  const items = typeof written === 'string' ? [{ text: written, path }] : Array.isArray(written) ? written.map((text, index) => ({ text, path: [...path, index] })) : [];
  const lists: string[] = [];
  for (const item of items) {
    if (typeof item.text !== 'string') return undefined;
    const text = ctx.expand(scope, item.text, item.path, { label: 'lists', oneLine: true });
    if (text === undefined) return undefined;
    for (const name of text.split(/[\s,]+/).filter((part) => part !== '')) {
      const zone = name.replace(/\.$/, '').toLowerCase();
      if (!isValidHost(zone) || isIP(zone) !== 0 || !zone.includes('.')) {
        ctx.error(ctx.at(item.path), `a block list is a DNS zone such as zen.spamhaus.org, got "${name}"`);
        return undefined;
      }
      if (!lists.includes(zone)) lists.push(zone);
    }
  }
  if (lists.length === 0) {
    if (items.length > 0) ctx.error(ctx.at(path), 'lists names no block list');
    return undefined;
  }
  return lists;
}

function addressOf(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): string | undefined | null {
  if (typeof written !== 'string') return undefined;
  const text = ctx.expand(scope, written, path, { label: 'address', oneLine: true });
  if (text === undefined) return null;
  const address = text.trim().replace(/^\[|\]$/g, '');
  if (isIP(address) === 0) {
    ctx.error(ctx.at(path), `address must be an IPv4 or IPv6 address, got "${text}"`);
    return null;
  }
  return address;
}

const DNS_CHECK_KEYS: ReadonlySet<string> = new Set<DnsCheckKey>(['fcrdns', 'dane', 'mta_sts', 'tls_rpt', 'dnsbl']);

export function isDnsCheckKey(key: string): key is DnsCheckKey {
  return DNS_CHECK_KEYS.has(key);
}

/**
 * Whether a step of the written cases is a `dane` step: such a file authenticates the server's certificate
 * by its TLSA records (RFC 7672), so its `tls: { verify: false }` is deliberate and worth no warning.
 */
export function writtenUsesDane(cases: unknown): boolean {
  if (!Array.isArray(cases)) return false;
  return cases.some((kase) => isRecord(kase) && Array.isArray(kase['steps']) && kase['steps'].some((step) => isRecord(step) && step['dane'] !== undefined));
}
