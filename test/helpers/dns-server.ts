import { createSocket, type RemoteInfo, type Socket as DgramSocket } from 'node:dgram';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type * as DnsPacketModule from 'dns-packet';

/**
 * A DNS server for tests on 127.0.0.1, UDP and TCP on one port, answering from a zone table with
 * dns-packet: MX, A, AAAA, PTR, TXT and TLSA records, NXDOMAIN for a name not in the table, NODATA for a
 * type a name lacks, an error RCODE, the AD flag, truncated UDP answers that send the client to TCP,
 * undecodable answers, and silence.
 */

type DnsPacket = typeof DnsPacketModule;
const dnsPacket = createRequire(import.meta.url)('dns-packet') as DnsPacket;

export interface ZoneTlsa {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

export interface ZoneEntry {
  mx?: [preference: number, exchange: string][];
  a?: string[];
  aaaa?: string[];
  ptr?: string[];
  /** Each record as one string or as its character-strings. */
  txt?: (string | string[])[];
  tlsa?: ZoneTlsa[];
  /** Answer every question for this name with this error code. */
  rcode?: 'SERVFAIL' | 'REFUSED';
  /** The AD flag for answers about this name; the server's `authenticated` option otherwise. */
  authenticated?: boolean;
  /** Over UDP, answer with TC set and no records, so the client asks again over TCP. */
  truncate?: boolean;
  /** Answer with bytes that are not a DNS packet (the query's id, then garbage). */
  garbage?: boolean;
  /** Never answer questions about this name. */
  silent?: boolean;
}

export interface DnsServerOptions {
  /** The AD flag of every answer unless an entry says otherwise. */
  authenticated?: boolean;
  /** Never answer anything. */
  silent?: boolean;
}

export interface DnsQueryRecord {
  transport: 'udp' | 'tcp';
  type: string;
  name: string;
  /** The query asked for DNSSEC records (EDNS0 with the DO bit). */
  dnssecOk: boolean;
}

export interface TestDnsServer {
  host: string;
  port: number;
  /** The table answered from; tests may change it between queries. */
  zone: Record<string, ZoneEntry>;
  /** Every question received, in order. */
  queries: DnsQueryRecord[];
  close(): Promise<void>;
}

const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

export async function startDnsServer(zone: Record<string, ZoneEntry>, options: DnsServerOptions = {}): Promise<TestDnsServer> {
  const queries: DnsQueryRecord[] = [];
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        const length = received.readUInt16BE(0);
        const reply = respond(received.subarray(2, 2 + length), 'tcp', zone, options, queries);
        received = received.subarray(2 + length);
        if (reply) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length, 0);
          socket.write(Buffer.concat([prefix, reply]));
        }
      }
    });
  });
  const { udp, port } = await listenOnOnePort(tcp, (udp) => {
    udp.on('message', (bytes: Buffer, peer: RemoteInfo) => {
      const reply = respond(bytes, 'udp', zone, options, queries);
      if (reply) udp.send(reply, peer.port, peer.address);
    });
  });
  return {
    host: '127.0.0.1',
    port,
    zone,
    queries,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise<void>((done) => udp.close(() => done())), new Promise<void>((done) => tcp.close(() => done()))]);
    },
  };
}

/** How many free UDP ports are tried before giving up on finding one whose TCP twin is free too. */
const PORT_TRIES = 20;

/**
 * UDP and TCP on one port, as DNS is served: a free UDP port from the system, then TCP on the same number.
 * That TCP port may be taken (by another listener, or a connection's local end, when tests run side by
 * side): then both are let go and another UDP port is tried. A socket that is not kept is closed, so a
 * failed start leaves nothing that would keep the process alive.
 */
async function listenOnOnePort(tcp: Server, onUdp: (udp: DgramSocket) => void): Promise<{ udp: DgramSocket; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const udp = createSocket('udp4');
    udp.bind(0, '127.0.0.1');
    await once(udp, 'listening');
    const port = udp.address().port;
    try {
      tcp.listen(port, '127.0.0.1');
      await once(tcp, 'listening');
      onUdp(udp);
      return { udp, port };
    } catch (error) {
      await new Promise<void>((done) => udp.close(() => done()));
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= PORT_TRIES) throw error;
    }
  }
}

function respond(
  bytes: Buffer,
  transport: 'udp' | 'tcp',
  zone: Record<string, ZoneEntry>,
  options: DnsServerOptions,
  queries: DnsQueryRecord[],
): Buffer | undefined {
  let query: DnsPacketModule.DecodedPacket;
  try {
    query = dnsPacket.decode(bytes);
  } catch {
    return undefined;
  }
  const question = query.questions?.[0];
  if (!question) return undefined;
  const name = question.name.toLowerCase();
  const opt = (query.additionals ?? []).find((record) => record.type === 'OPT');
  const dnssecOk = opt !== undefined && opt.type === 'OPT' && (opt.flags & dnsPacket.DNSSEC_OK) !== 0;
  queries.push({ transport, type: question.type, name, dnssecOk });
  const entry = zone[name];
  if (options.silent || entry?.silent) return undefined;
  if (entry?.garbage) return Buffer.concat([bytes.subarray(0, 2), Buffer.from([0x81, 0x80, 0xff, 0xff, 0xff])]);
  const authenticated = entry?.authenticated ?? options.authenticated ?? false;
  const truncated = transport === 'udp' && entry?.truncate === true;
  const rcode = entry === undefined ? RCODE.NXDOMAIN : entry.rcode ? RCODE[entry.rcode] : RCODE.NOERROR;
  const flags =
    dnsPacket.AUTHORITATIVE_ANSWER |
    dnsPacket.RECURSION_AVAILABLE |
    (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) |
    (authenticated ? dnsPacket.AUTHENTIC_DATA : 0) |
    (truncated ? dnsPacket.TRUNCATED_RESPONSE : 0) |
    rcode;
  const answers = entry && rcode === RCODE.NOERROR && !truncated ? answersFor(question.name, question.type, entry) : [];
  return dnsPacket.encode({ type: 'response', id: query.id, flags, questions: [question], answers });
}

function answersFor(name: string, type: string, entry: ZoneEntry): DnsPacketModule.Answer[] {
  const base = { name, ttl: 300, class: 'IN' as const };
  switch (type) {
    case 'MX':
      return (entry.mx ?? []).map(([preference, exchange]) => ({ ...base, type: 'MX' as const, data: { preference, exchange } }));
    case 'A':
      return (entry.a ?? []).map((data) => ({ ...base, type: 'A' as const, data }));
    case 'AAAA':
      return (entry.aaaa ?? []).map((data) => ({ ...base, type: 'AAAA' as const, data }));
    case 'PTR':
      return (entry.ptr ?? []).map((data) => ({ ...base, type: 'PTR' as const, data }));
    case 'TXT':
      return (entry.txt ?? []).map((data) => ({ ...base, type: 'TXT' as const, data }));
    case 'TLSA':
      return (entry.tlsa ?? []).map(({ usage, selector, matchingType, data }) => ({
        ...base,
        type: 'TLSA' as const,
        data: { usage, selector, matchingType, certificate: data },
      }));
    default:
      return [];
  }
}
