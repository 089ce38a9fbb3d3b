import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as DnsPacketModule from 'dns-packet';
import type { DnsFailureKind, DnsRecordType, DnsServer } from './types.js';
import { isIPv6 } from '../ip.js';

/**
 * One DNS exchange with one server: the query over UDP with EDNS0 and the DO bit (so a validating
 * resolver sets AD), sent again while no answer came, and over TCP when the UDP answer is truncated.
 * dns-packet encodes and decodes; it is loaded on the first query, never at start-up.
 */

export type DnsPacket = typeof DnsPacketModule;
export type DecodedPacket = DnsPacketModule.DecodedPacket;

export function loadDnsPacket(): DnsPacket {
  return createRequire(import.meta.url)('dns-packet') as DnsPacket;
}

export type ExchangeResult =
  | { ok: true; packet: DecodedPacket; transport: 'udp' | 'tcp' }
  | { ok: false; kind: DnsFailureKind; message: string };

/** The EDNS0 UDP payload size advertised (the DNS flag day 2020 figure). */
const UDP_PAYLOAD = 1232;
/** UDP sends within one deadline: the first and this many again, evenly spread. */
const UDP_RESENDS = 2;
const TCP_MAX = 65_535;

export interface ExchangeOptions {
  server: DnsServer;
  name: string;
  type: DnsRecordType;
  /** Aborted at the query's deadline or by the caller; its reason says which. */
  signal: AbortSignal;
  timeoutMs: number;
}

export async function exchange(options: ExchangeOptions): Promise<ExchangeResult> {
  const packet = loadDnsPacket();
  const id = randomInt(0, 65_536);
  const query = packet.encode({
    type: 'query',
    id,
    flags: packet.RECURSION_DESIRED | packet.AUTHENTIC_DATA,
    questions: [{ type: options.type, name: options.name, class: 'IN' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: packet.DNSSEC_OK, flag_do: true, options: [] }],
  });
  const accepts = (answer: DecodedPacket): boolean =>
    answer.id === id &&
    answer.type === 'response' &&
    (answer.questions ?? []).some((q) => q.type === options.type && q.name.toLowerCase() === options.name.toLowerCase().replace(/\.$/, ''));
  const udp = await overUdp(options, query, packet, accepts);
  if (!udp.ok || !udp.packet.flag_tc) return udp;
  return overTcp(options, query, packet, accepts);
}

function aborted(signal: AbortSignal): ExchangeResult {
  return signal.reason === 'timeout'
    ? { ok: false, kind: 'timeout', message: 'no answer before the deadline' }
    : { ok: false, kind: 'aborted', message: 'the query was aborted' };
}

function decodeOrFail(packet: DnsPacket, bytes: Buffer): DecodedPacket | undefined {
  try {
    return packet.decode(bytes);
  } catch {
    return undefined;
  }
}

function overUdp(options: ExchangeOptions, query: Buffer, packet: DnsPacket, accepts: (answer: DecodedPacket) => boolean): Promise<ExchangeResult> {
  const { server, signal } = options;
  if (signal.aborted) return Promise.resolve(aborted(signal));
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(server.host) ? 'udp6' : 'udp4');
    let resends = 0;
    let done = false;
    const send = (): void => socket.send(query, server.port, server.host);
    const timer = setInterval(() => {
      if (resends++ < UDP_RESENDS) send();
    }, Math.max(1, Math.floor(options.timeoutMs / (UDP_RESENDS + 1))));
    const finish = (result: ExchangeResult): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('message');
      socket.on('error', () => undefined);
      socket.close();
      resolve(result);
    };
    const onAbort = (): void => finish(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, kind: 'unreachable', message: `the query could not be sent over UDP (${error.code ?? 'error'})` }),
    );
    socket.on('message', (bytes: Buffer, peer) => {
      if (peer.port !== server.port) return;
      const answer = decodeOrFail(packet, bytes);
      if (answer === undefined) {
        // From the server's address and port, with the query's id: the server's answer, broken.
        if (bytes.length >= 2 && bytes.readUInt16BE(0) === query.readUInt16BE(0)) {
          finish({ ok: false, kind: 'malformed', message: 'the server answered with a packet that could not be decoded' });
        }
        return;
      }
      if (accepts(answer)) finish({ ok: true, packet: answer, transport: 'udp' });
    });
    socket.connect(server.port, server.host, () => {
      socket.removeAllListeners('error');
      socket.on('error', (error: NodeJS.ErrnoException) =>
        finish({ ok: false, kind: 'unreachable', message: `the server could not be reached over UDP (${error.code ?? 'error'})` }),
      );
      send();
    });
  });
}

function overTcp(options: ExchangeOptions, query: Buffer, packet: DnsPacket, accepts: (answer: DecodedPacket) => boolean): Promise<ExchangeResult> {
  const { server, signal } = options;
  if (signal.aborted) return Promise.resolve(aborted(signal));
  return new Promise((resolve) => {
    const socket = connect({ host: server.host, port: server.port });
    let received = Buffer.alloc(0);
    let done = false;
    const finish = (result: ExchangeResult): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = (): void => finish(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(query.length, 0);
      socket.write(Buffer.concat([length, query]));
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, kind: 'unreachable', message: `the server could not be reached over TCP (${error.code ?? 'error'})` }),
    );
    socket.on('end', () => finish({ ok: false, kind: 'malformed', message: 'the server closed the TCP connection before a whole answer' }));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length > TCP_MAX + 2) return finish({ ok: false, kind: 'malformed', message: 'the TCP answer is longer than its length prefix allows' });
      if (received.length < 2) return;
      const length = received.readUInt16BE(0);
      if (received.length < 2 + length) return;
      const answer = decodeOrFail(packet, received.subarray(2, 2 + length));
      if (answer === undefined) return finish({ ok: false, kind: 'malformed', message: 'the server answered over TCP with a packet that could not be decoded' });
      if (!accepts(answer)) return finish({ ok: false, kind: 'malformed', message: 'the TCP answer does not answer the question asked' });
      finish({ ok: true, packet: answer, transport: 'tcp' });
    });
  });
}
