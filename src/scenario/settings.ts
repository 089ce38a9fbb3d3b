import { isIP } from '../ip.js';
import { isAbsolute } from 'node:path';
import { targetKeys } from './as-written.js';
import { isRecord, presentKeys, type NormalizeContext, type Scope } from './context.js';
import { isValidHost, parsePort, parseTarget } from './target.js';
import { DEFAULT_PORT, type ProxySettings, type ServerTarget, type TlsSettings } from './types.js';

/** The file-level connection settings: target, TLS and PROXY header. */

const TARGET_KINDS = ['host', 'socket', 'exec'] as const;

export function normalizeTarget(ctx: NormalizeContext, written: unknown, scope: Scope): ServerTarget | undefined {
  const path = ['target'];
  if (typeof written === 'string') {
    const text = ctx.expand(scope, written, path, { label: 'target' });
    if (text === undefined) return undefined;
    const target = parseTarget(text, DEFAULT_PORT);
    if (!target) ctx.error(ctx.at(path), targetMessage(written, text));
    return target;
  }
  if (!isRecord(written)) return undefined;
  const kinds = presentKeys(written, TARGET_KINDS);
  if (kinds.length > 1) {
    ctx.error(ctx.laterKey(path, kinds), `target has both "${kinds[0]}" and "${kinds[1]}": a target is one of host, socket or exec`);
    return undefined;
  }
  const [kind] = kinds;
  if (kind === undefined) {
    if (Object.keys(written).every((key) => key in targetKeys)) ctx.error(ctx.at(path), 'target needs "host", "socket" or "exec"');
    return undefined;
  }
  if (kind !== 'host' && written['port'] !== undefined) {
    ctx.error(ctx.keyAt(path, 'port'), `"port" goes only with "host": a ${kind} target has no port`);
  }
  if (kind === 'host') return hostTarget(ctx, written, scope);
  return kind === 'socket' ? socketTarget(ctx, written['socket'], scope) : execTarget(ctx, written['exec'], scope);
}

function hostTarget(ctx: NormalizeContext, written: Record<string, unknown>, scope: Scope): ServerTarget | undefined {
  const path = ['target', 'host'];
  if (typeof written['host'] !== 'string') return undefined;
  const host = ctx.expand(scope, written['host'], path, { label: 'target host' })?.replace(/^\[(.*)\]$/, '$1');
  if (host === undefined) return undefined;
  if (!isValidHost(host)) {
    const shown = host === written['host'] ? `"${host}"` : `"${written['host']}" (once its variables are replaced)`;
    ctx.error(ctx.at(path), `host ${shown} is not a host name or an IP address`);
    return undefined;
  }
  const port = written['port'];
  return { host, port: typeof port === 'number' ? port : DEFAULT_PORT };
}

function socketTarget(ctx: NormalizeContext, written: unknown, scope: Scope): ServerTarget | undefined {
  if (typeof written !== 'string') return undefined;
  const path = ctx.expand(scope, written, ['target', 'socket'], { label: 'target socket' });
  return path === undefined ? undefined : { kind: 'unix', path: ctx.resolvePath(path) };
}

function execTarget(ctx: NormalizeContext, written: unknown, scope: Scope): ServerTarget | undefined {
  if (!Array.isArray(written) || written.length === 0 || !written.every((arg) => typeof arg === 'string')) return undefined;
  const argv = written.map((arg: string, index) => ctx.expand(scope, arg, ['target', 'exec', index], { label: 'exec' }));
  if (!argv.every((arg) => arg !== undefined)) return undefined;
  const [program = '', ...args] = argv;
  if (program === '') {
    ctx.error(ctx.at(['target', 'exec', 0]), 'exec must start with the program to run');
    return undefined;
  }
  // A path such as ./fake-mta is the scenario's neighbour; a bare name is found on PATH when run.
  const resolved = program.includes('/') && !isAbsolute(program) ? ctx.resolvePath(program) : program;
  return { kind: 'exec', argv: [resolved, ...args] };
}

/** Expanded values are left out: they may come from the environment and be secret. */
function targetMessage(written: string, expanded: string): string {
  const after = written === expanded ? '' : ' once its variables are replaced';
  return `target "${written}" is not "host", "host:port" or "[ipv6]:port" with a port from 1 to 65535${after}`;
}

const VERIFY_OFF = 'certificate verification is off: every report will say so';

/** TLS settings with defaults; paths absolute, `extraCa` (from the command line) appended; `daneAuthenticates`: see writtenUsesDane. */
export function normalizeTls(ctx: NormalizeContext, written: unknown, scope: Scope, extraCa: readonly string[], daneAuthenticates = false): TlsSettings {
  const settings: TlsSettings = { implicit: written === 'implicit', verify: true, ca: [] };
  if (isRecord(written)) {
    settings.implicit = written['implicit'] === true;
    if (written['verify'] === false) {
      settings.verify = false;
      // A file with a dane step authenticates the certificate by DNSSEC instead, on purpose.
      if (!daneAuthenticates) ctx.warn(ctx.keyAt(['tls'], 'verify'), VERIFY_OFF);
    }
    const ca = written['ca'];
    settings.ca = paths(ca).map((path, i) => ctx.filePath(path, Array.isArray(ca) ? ['tls', 'ca', i] : ['tls', 'ca'], 'CA certificate'));
    const servername = written['servername'];
    if (typeof servername === 'string') {
      const name = ctx.expand(scope, servername, ['tls', 'servername'], { label: 'tls servername', oneLine: true });
      if (name !== undefined) settings.servername = name;
    }
    if (typeof written['cert'] === 'string') settings.cert = ctx.filePath(written['cert'], ['tls', 'cert'], 'client certificate');
    if (typeof written['key'] === 'string') settings.key = ctx.filePath(written['key'], ['tls', 'key'], 'client key');
  }
  settings.ca.push(...extraCa);
  return settings;
}

function paths(written: unknown): string[] {
  if (typeof written === 'string') return [written];
  return Array.isArray(written) ? written.filter((path): path is string => typeof path === 'string') : [];
}

/** The PROXY header settings; only a TCP target can take one. */
export function normalizeProxy(ctx: NormalizeContext, written: unknown, target: ServerTarget | undefined): ProxySettings | undefined {
  if (!isRecord(written)) return undefined;
  const source = proxyAddress(ctx, written['source'], 'source');
  const destination = written['destination'] === undefined ? undefined : proxyAddress(ctx, written['destination'], 'destination');
  if (target?.kind === 'unix' || target?.kind === 'exec') {
    const over = target.kind === 'unix' ? 'to a UNIX socket' : 'to a program run with exec';
    ctx.error(ctx.keyAt([], 'proxy'), `proxy needs a TCP target: a PROXY header cannot be sent ${over}`);
    return undefined;
  }
  if (!source || (written['destination'] !== undefined && !destination)) return undefined;
  if (destination && isIP(source.host) !== isIP(destination.host)) {
    ctx.error(ctx.at(['proxy', 'destination']), 'proxy source and destination must both be IPv4 or both be IPv6 addresses');
    return undefined;
  }
  return { version: written['version'] === 2 ? 2 : 1, source, ...(destination ? { destination } : {}) };
}

const BRACKETED = /^\[([^\]]*)\]:(.*)$/;

function proxyAddress(ctx: NormalizeContext, written: unknown, key: 'source' | 'destination') {
  if (typeof written !== 'string') return undefined;
  const bracketed = BRACKETED.exec(written);
  const colon = written.lastIndexOf(':');
  const [host, portText] = bracketed ? [bracketed[1] ?? '', bracketed[2] ?? ''] : [written.slice(0, colon), written.slice(colon + 1)];
  const port = parsePort(portText);
  const family = isIP(host);
  if (colon < 0 || port === undefined || family === 0 || (family === 6 && !bracketed)) {
    ctx.error(
      ctx.at(['proxy', key]),
      `proxy ${key} "${written}" must be an IP address and a port, such as 203.0.113.7:40000 or [2001:db8::7]:40000`,
    );
    return undefined;
  }
  return { host, port };
}
