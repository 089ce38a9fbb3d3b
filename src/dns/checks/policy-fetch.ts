import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { CheckError } from './result.js';

/**
 * The HTTPS GET of an MTA-STS policy (RFC 8461 §3.3): the host's certificate verified against the
 * given CA (the system's roots by default) and the policy host's name, no redirect followed, the body
 * held to a size limit, the whole exchange held to a deadline. The connection goes to an address the
 * caller resolved, so the lookup uses the run's resolver; the TLS name and Host header stay the host's.
 */

export interface PolicyFetchOptions {
  /** Trusted CA certificates in PEM; the system's roots when absent. */
  ca?: string | Buffer | (string | Buffer)[];
  timeoutMs: number;
  /** 443 unless a test serves the policy elsewhere. */
  port?: number;
  signal?: AbortSignal;
}

export type PolicyFetchResult =
  | { ok: true; status: number; contentType: string | undefined; body: string }
  | { ok: false; status?: number; location?: string; error: CheckError };

/** RFC 8461 §3.3 lets senders limit the policy's size; 64 KiB is the limit it suggests. */
export const POLICY_SIZE_LIMIT = 64 * 1024;
export const POLICY_PATH = '/.well-known/mta-sts.txt';

export function fetchPolicy(host: string, address: string, options: PolicyFetchOptions): Promise<PolicyFetchResult> {
  const agent = new Agent({ ca: options.ca, keepAlive: false, maxCachedSessions: 0 });
  return new Promise<PolicyFetchResult>((resolve) => {
    let done = false;
    let phase: 'connect' | 'tls' | 'http' = 'connect';
    const finish = (result: PolicyFetchResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      agent.destroy();
      resolve(result);
    };
    const fail = (kind: CheckError['kind'], message: string, extra: { status?: number; location?: string } = {}): void =>
      finish({ ok: false, ...extra, error: { phase: 'policy-fetch', kind, message } });
    const req = request({
      host: address,
      port: options.port ?? 443,
      servername: host,
      path: POLICY_PATH,
      method: 'GET',
      headers: { host: options.port === undefined || options.port === 443 ? host : `${host}:${options.port}`, accept: 'text/plain' },
      agent,
    });
    const timer = setTimeout(() => fail('timeout', `no policy from ${host} before the deadline`), options.timeoutMs);
    const onAbort = (): void => fail('aborted', 'the policy fetch was aborted');
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('socket', (socket) => {
      socket.once('connect', () => (phase = 'tls'));
      socket.once('secureConnect', () => (phase = 'http'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? 'error';
      if (phase === 'tls') fail('certificate', `the TLS handshake with ${host} failed certificate verification or negotiation (${code})`);
      else if (phase === 'connect') fail('network', `${host} (${address}) could not be reached (${code})`);
      else fail('http', `the HTTPS exchange with ${host} failed (${code})`);
    });
    req.on('response', (response: IncomingMessage) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) {
        const location = response.headers.location;
        return fail('http', `${host} answered ${status}, a redirect, which MTA-STS forbids following`, { status, ...(location ? { location } : {}) });
      }
      if (status !== 200) return fail('http', `${host} answered ${status} for ${POLICY_PATH}`, { status });
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > POLICY_SIZE_LIMIT) return fail('too-large', `the policy is ${declared} bytes, over the ${POLICY_SIZE_LIMIT}-byte limit`, { status });
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > POLICY_SIZE_LIMIT) return fail('too-large', `the policy is over the ${POLICY_SIZE_LIMIT}-byte limit`, { status });
        chunks.push(chunk);
      });
      response.on('error', (error: NodeJS.ErrnoException) => fail('http', `the policy body from ${host} was cut off (${error.code ?? 'error'})`, { status }));
      response.on('end', () =>
        finish({ ok: true, status, contentType: response.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.end();
  });
}
