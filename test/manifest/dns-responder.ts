import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';

/** The records of one name; a name that is not in the table gets NXDOMAIN. */
export interface ZoneEntry {
  mx?: [preference: number, exchange: string][];
  a?: string[];
  aaaa?: string[];
}

export interface DnsResponder {
  host: string;
  port: number;
  /** Every question received, as "TYPE name". */
  queries: string[];
  close(): Promise<void>;
}

const TYPES: Record<number, keyof ZoneEntry> = { 1: 'a', 15: 'mx', 28: 'aaaa' };
const TYPE_NAMES: Record<number, string> = { 1: 'A', 15: 'MX', 28: 'AAAA' };
const NXDOMAIN = 3;

/** A UDP DNS server on 127.0.0.1 that answers A, MX and AAAA from a table; with `silent` it never answers. */
export async function startDnsResponder(zone: Record<string, ZoneEntry>, options: { silent?: boolean } = {}): Promise<DnsResponder> {
  const socket: Socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (query: Buffer, peer: RemoteInfo) => {
    const question = readQuestion(query);
    if (!question) return;
    queries.push(`${TYPE_NAMES[question.type] ?? String(question.type)} ${question.name}`);
    if (!options.silent) socket.send(answer(query, question, zone), peer.port, peer.address);
  });
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return {
    host: '127.0.0.1',
    port: socket.address().port,
    queries,
    close: () => new Promise<void>((done) => socket.close(() => done())),
  };
}

interface Question {
  name: string;
  type: number;
  /** Offset just past the question (name, type, class). */
  end: number;
}

function readQuestion(query: Buffer): Question | undefined {
  if (query.length < 12 || query.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let offset = 12;
  while (offset < query.length && query[offset] !== 0) {
    const length = query[offset]!;
    labels.push(query.subarray(offset + 1, offset + 1 + length).toString('ascii'));
    offset += 1 + length;
  }
  if (offset + 5 > query.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: query.readUInt16BE(offset + 1), end: offset + 5 };
}

function answer(query: Buffer, question: Question, zone: Record<string, ZoneEntry>): Buffer {
  const entry = zone[question.name];
  const kind = TYPES[question.type];
  const records = entry && kind ? rdataOf(entry, kind) : [];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0); // the query's id
  const recursionDesired = query[2]! & 0x01;
  header[2] = 0x84 | recursionDesired; // response, authoritative
  header[3] = 0x80 | (entry ? 0 : NXDOMAIN); // recursion available, rcode
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  const answers = records.map((rdata) => resourceRecord(question.type, rdata));
  return Buffer.concat([header, query.subarray(12, question.end), ...answers]);
}

function rdataOf(entry: ZoneEntry, kind: keyof ZoneEntry): Buffer[] {
  if (kind === 'mx') return (entry.mx ?? []).map(([preference, exchange]) => Buffer.concat([u16(preference), encodeName(exchange)]));
  if (kind === 'a') return (entry.a ?? []).map((address) => Buffer.from(address.split('.').map(Number)));
  return (entry.aaaa ?? []).map(ipv6Bytes);
}

/** An answer whose owner name points back at the question's name (compression pointer to offset 12). */
function resourceRecord(type: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2); // class IN
  fixed.writeUInt32BE(300, 4); // TTL
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([Buffer.from([0xc0, 0x0c]), fixed, rdata]);
}

/** A name as labels; "." is the root (the exchange of a null MX). */
function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((label) => label !== '');
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return Buffer.concat(groups.map((group) => u16(parseInt(group, 16))));
}

function u16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16BE(value, 0);
  return bytes;
}
