import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small HTTP server on port 0 for exact or hostile answers: each request is recorded (method, URL,
 * headers, body) and then handed to the test's handler, which may answer, answer in part, or never.
 *
 *   const fake = await httpFake((request, response) => response.end('{}'));
 *   … fetch(`${fake.url}/api`) …
 *   await fake.close();
 */

export interface RecordedRequest {
  method: string;
  /** The path and query, as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface HttpFake {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request so far, in order of arrival. */
  requests: RecordedRequest[];
  /** Resolves once this many requests have arrived. */
  requestsReached(count: number): Promise<void>;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

export type HttpHandler = (request: RecordedRequest, response: ServerResponse, raw: IncomingMessage) => unknown;

export async function httpFake(handler: HttpHandler): Promise<HttpFake> {
  const requests: RecordedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const server = http.createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on('data', (chunk: Buffer) => chunks.push(chunk));
    raw.on('end', () => {
      const request: RecordedRequest = { method: raw.method ?? '', url: raw.url ?? '', headers: raw.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(request);
      for (const waiter of waiters.filter((candidate) => requests.length >= candidate.count)) waiter.resolve();
      Promise.resolve(handler(request, response, raw)).catch((error: unknown) => {
        response.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsReached: (count) => (requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON with a 200 (or the given status). */
export function sendJson(response: ServerResponse, value: unknown, status = 200): void {
  const body = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
