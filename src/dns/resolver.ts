import { getServers } from 'node:dns';
import type * as DnsPacketModule from 'dns-packet';
import { exchange, type DecodedPacket } from './transport.js';
import { reverseName } from './reverse.js';
import type { DnsFailure, DnsLookup, DnsRecordType, DnsResult, DnsServer, MxRecord, TlsaRecord } from './types.js';

/**
 * One resolver for every lookup of a run: the configured server (`--dns-server`) or, without one, the
 * system's first name server (as node:dns reports it from /etc/resolv.conf). Both are asked the same way,
 * with dns-packet over UDP/TCP, because node:dns reads neither TLSA records nor the AD flag: one code path
 * gives every check the same records, the same failure kinds and the authenticated-data flag.
 */

export interface DnsClientOptions {
  /** The server to ask; the system's first name server when absent. */
  server?: DnsServer;
  /** The deadline of each query, UDP resends and a TCP retry included. */
  timeoutMs: number;
  /** Aborts every query in flight and every later one. */
  signal?: AbortSignal;
}

const RCODE_NAMES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED' };

type AnyAnswer = DnsPacketModule.Answer;

export class DnsClient implements DnsLookup {
  readonly #options: DnsClientOptions;

  constructor(options: DnsClientOptions) {
    this.#options = options;
  }

  /** The server queries go to, or undefined when the system names none. */
  server(): DnsServer | undefined {
    return this.#options.server ?? systemServer();
  }

  mx(name: string): Promise<DnsResult<MxRecord>> {
    return this.#query(name, 'MX', (answer) => {
      if (answer.type !== 'MX') return undefined;
      return { preference: answer.data.preference ?? 0, exchange: answer.data.exchange };
    });
  }

  a(name: string): Promise<DnsResult<string>> {
    return this.#query(name, 'A', (answer) => (answer.type === 'A' ? answer.data : undefined));
  }

  aaaa(name: string): Promise<DnsResult<string>> {
    return this.#query(name, 'AAAA', (answer) => (answer.type === 'AAAA' ? answer.data : undefined));
  }

  /** The PTR names of an IP address (its reverse name is built here). */
  ptr(address: string): Promise<DnsResult<string>> {
    const name = reverseName(address);
    if (name === undefined) {
      return Promise.resolve({ ok: false, name: address, type: 'PTR', kind: 'unavailable', authenticated: false, message: `${address} is not an IP address` });
    }
    return this.#query(name, 'PTR', (answer) => (answer.type === 'PTR' ? answer.data : undefined));
  }

  txt(name: string): Promise<DnsResult<string>> {
    return this.#query(name, 'TXT', (answer) => {
      if (answer.type !== 'TXT') return undefined;
      const parts = Array.isArray(answer.data) ? answer.data : [answer.data];
      return parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
    });
  }

  tlsa(name: string): Promise<DnsResult<TlsaRecord>> {
    return this.#query(name, 'TLSA', (answer) => {
      if (answer.type !== 'TLSA') return undefined;
      const { usage, selector, matchingType, certificate } = answer.data;
      return { usage, selector, matchingType, data: certificate };
    });
  }

  async #query<T>(rawName: string, type: DnsRecordType, read: (answer: AnyAnswer) => T | undefined): Promise<DnsResult<T>> {
    const name = rawName.replace(/\.$/, '');
    const server = this.server();
    const failure = (fields: Omit<DnsFailure, 'ok' | 'name' | 'type' | 'authenticated'> & { authenticated?: boolean }): DnsFailure => ({
      ok: false,
      name,
      type,
      authenticated: false,
      ...fields,
    });
    if (server === undefined) return failure({ kind: 'unreachable', message: 'no DNS server is configured and the system names none' });
    const where = `${server.host.includes(':') ? `[${server.host}]` : server.host}:${server.port}`;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort('timeout'), this.#options.timeoutMs);
    const outer = this.#options.signal;
    const onAbort = (): void => deadline.abort('aborted');
    if (outer?.aborted) onAbort();
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await exchange({ server, name, type, signal: deadline.signal, timeoutMs: this.#options.timeoutMs });
      if (!result.ok) return failure({ kind: result.kind, message: result.message, server: where });
      return readAnswer(result.packet, name, type, where, result.transport, read);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }
}

function readAnswer<T>(
  packet: DecodedPacket,
  name: string,
  type: DnsRecordType,
  server: string,
  transport: 'udp' | 'tcp',
  read: (answer: AnyAnswer) => T | undefined,
): DnsResult<T> {
  const authenticated = packet.flag_ad;
  const code = (packet.flags ?? 0) & 0x0f;
  const rcode = RCODE_NAMES[code] ?? `RCODE${code}`;
  const base = { ok: false as const, name, type, authenticated, server };
  if (code === 3) return { ...base, kind: 'nxdomain', rcode, message: `${name} does not exist` };
  if (code === 5) return { ...base, kind: 'refused', rcode, message: `the server refused the query for ${type} ${name}` };
  if (code === 1) return { ...base, kind: 'malformed', rcode, message: `the server could not read the query for ${type} ${name}` };
  if (code !== 0) return { ...base, kind: 'servfail', rcode, message: `the server failed to answer ${type} ${name} (${rcode})` };
  const records: T[] = [];
  for (const answer of packet.answers ?? []) {
    let record: T | undefined;
    try {
      record = read(answer);
    } catch {
      return { ...base, kind: 'malformed', message: `a ${type} record for ${name} could not be read` };
    }
    if (record !== undefined) records.push(record);
  }
  if (records.length === 0) return { ...base, kind: 'nodata', rcode, message: `${name} has no ${type} record` };
  return { ok: true, name, type, records, authenticated, server, transport };
}

/** The system's first name server, from node:dns (`[::1]:5353`, `127.0.0.53`). */
function systemServer(): DnsServer | undefined {
  const first = getServers()[0];
  if (first === undefined) return undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(first);
  if (bracketed) return { host: bracketed[1] as string, port: bracketed[2] ? Number(bracketed[2]) : 53 };
  const hostPort = /^([^:]+):(\d+)$/.exec(first);
  if (hostPort) return { host: hostPort[1] as string, port: Number(hostPort[2]) };
  return { host: first, port: 53 };
}
