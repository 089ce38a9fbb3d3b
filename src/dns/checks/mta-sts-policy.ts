import { canonicalName } from '../reverse.js';

/**
 * The MTA-STS policy file (RFC 8461 §3.2) and the matching of MX host names against its `mx`
 * patterns (§4.1): a pattern is a host name, or `*.` and a domain, standing for exactly one more label.
 */

export type StsMode = 'enforce' | 'testing' | 'none';

export interface StsPolicy {
  version: string;
  mode: StsMode;
  maxAgeSeconds: number;
  mx: string[];
}

export type PolicyParseResult = { ok: true; policy: StsPolicy } | { ok: false; problems: string[] };

/** The largest max_age the RFC allows: 31557600 seconds, about a year. */
export const MAX_AGE_LIMIT = 31_557_600;

export function parsePolicy(text: string): PolicyParseResult {
  const problems: string[] = [];
  const values = new Map<string, string[]>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line === '') return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push(`line ${index + 1} is not "key: value"`);
      return;
    }
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    values.set(key, [...(values.get(key) ?? []), value]);
  });
  const single = (key: string): string | undefined => {
    const found = values.get(key);
    if (found === undefined) problems.push(`the policy has no ${key}`);
    else if (found.length > 1 && key !== 'mx') problems.push(`the policy has ${found.length} ${key} lines`);
    return found?.[0];
  };
  const version = single('version');
  if (version !== undefined && version !== 'STSv1') problems.push(`version is "${version}", not STSv1`);
  const mode = single('mode');
  if (mode !== undefined && mode !== 'enforce' && mode !== 'testing' && mode !== 'none') problems.push(`mode is "${mode}", not enforce, testing or none`);
  const maxAge = single('max_age');
  const maxAgeSeconds = maxAge !== undefined && /^\d{1,10}$/.test(maxAge) ? Number(maxAge) : undefined;
  if (maxAge !== undefined && (maxAgeSeconds === undefined || maxAgeSeconds > MAX_AGE_LIMIT)) {
    problems.push(`max_age is "${maxAge}", not a whole number of seconds up to ${MAX_AGE_LIMIT}`);
  }
  const mx = values.get('mx') ?? [];
  if (mx.length === 0 && mode !== 'none') problems.push('the policy has no mx pattern');
  for (const pattern of mx) if (!isPattern(pattern)) problems.push(`"${pattern}" is not an mx pattern (a host name or *. and a domain)`);
  if (problems.length > 0 || version === undefined || maxAgeSeconds === undefined) return { ok: false, problems };
  return { ok: true, policy: { version, mode: mode as StsMode, maxAgeSeconds, mx } };
}

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

function isPattern(pattern: string): boolean {
  const name = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  const labels = canonicalName(name).split('.');
  return labels.length >= 1 && labels.every((label) => LABEL.test(label));
}

/** Whether an MX host name matches a policy pattern: exactly, or `*.` standing for one leftmost label. */
export function mxMatches(host: string, pattern: string): boolean {
  const name = canonicalName(host);
  const wanted = canonicalName(pattern);
  if (!wanted.startsWith('*.')) return name === wanted;
  const suffix = wanted.slice(1);
  if (!name.endsWith(suffix)) return false;
  const first = name.slice(0, name.length - suffix.length);
  return first !== '' && !first.includes('.');
}
