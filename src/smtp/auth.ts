import { createHmac } from 'node:crypto';
import type { Transcript } from './transcript.js';
import { maskReply } from './secrets.js';
import { SmtpError, type Reply } from './types.js';

/**
 * SMTP AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195) and XOAUTH2.
 * The exchange follows the server's 334 challenges and stops at the first other reply,
 * which is the outcome; judging it is the caller's business.
 */

export type AuthMechanism = 'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2';

/** One AUTH exchange to run: the mechanism, the credentials and how to start or cancel it. */
export interface AuthRequest {
  mechanism: AuthMechanism;
  username: string;
  /** PLAIN, LOGIN, CRAM-MD5. */
  password?: string;
  /** XOAUTH2 bearer token. */
  token?: string;
  /** PLAIN only: the authorization identity. */
  authzid?: string;
  /** Send the first response with the AUTH command (RFC 4954 §4). */
  initialResponse: boolean;
  /** Answer the first 334 challenge with `*` to cancel (the server must reply 501). */
  cancel: boolean;
}

/** What authenticate needs of a session; SmtpConnection satisfies it. */
export interface AuthSession {
  sendLine(line: string): Promise<void>;
  readReply(timeoutMs: number): Promise<Reply>;
  readonly transcript: Transcript;
}

export interface AuthOutcome {
  /** The first reply that is not a 334: 235 on success, 535, 501, 504, 538… otherwise. */
  reply: Reply;
  /** Every reply read, 334 challenges included, in order. */
  replies: Reply[];
}

/** The client's side of one mechanism. */
interface Exchange {
  /** Sent with the AUTH command (RFC 4954 §4); undefined when the client waits for a challenge. */
  initial?: string;
  /** The answer to a 334 challenge (its decoded bytes), or undefined when the client has nothing left to say. */
  respond(challenge: Buffer): string | undefined;
}

const CONTINUE = 334;
const CANCEL = '*';

/**
 * Runs one AUTH exchange. Every secret is registered with the transcript before anything is sent,
 * and the replies in the outcome are masked the way the transcript is.
 */
export async function authenticate(session: AuthSession, request: AuthRequest, timeoutMs: number): Promise<AuthOutcome> {
  const transcript = session.transcript;
  for (const secret of secretsOf(request)) transcript.addSecret(secret);
  const exchange = exchangeFor(request);
  const replies: Reply[] = [];
  const read = async (): Promise<Reply> => {
    const reply = await session.readReply(timeoutMs);
    replies.push(maskReply(reply, transcript.secrets));
    return reply;
  };
  const outcome = (): AuthOutcome => ({ reply: replies[replies.length - 1] as Reply, replies });
  try {
    // A cancelled exchange sends no credentials at all, not even an initial response.
    const initial = request.cancel ? undefined : exchange.initial;
    let sent = 0;
    if (initial !== undefined) for (const secret of responseSecrets(request.mechanism, initial, sent++)) transcript.addSecret(secret);
    await session.sendLine(authCommand(request.mechanism, initial));
    let reply = await read();
    while (reply.code === CONTINUE) {
      const response = request.cancel ? undefined : exchange.respond(decodeChallenge(reply));
      if (response === undefined) {
        await session.sendLine(CANCEL);
        // Whatever follows a cancel ends the exchange, so a server that keeps challenging cannot loop it.
        await read();
        return outcome();
      }
      for (const secret of responseSecrets(request.mechanism, response, sent++)) transcript.addSecret(secret);
      await session.sendLine(response);
      reply = await read();
    }
    return outcome();
  } catch (error) {
    throw error instanceof SmtpError ? maskError(error, transcript) : error;
  }
}

/**
 * Every value that must never appear in output: the password or token and each form sent for it on the wire.
 * The user name is not secret (unless it comes from a secret variable): it shows, as in `auth PLAIN as alice`.
 */
export function secretsOf(request: AuthRequest): string[] {
  const { username, password, token } = request;
  const secrets = [password, token];
  switch (request.mechanism) {
    case 'PLAIN':
      if (password !== undefined) secrets.push(plainResponse(request.authzid, username, password));
      break;
    case 'LOGIN':
      if (password !== undefined) secrets.push(base64(password));
      break;
    case 'XOAUTH2':
      if (token !== undefined) secrets.push(xoauth2Response(username, token));
      break;
    case 'CRAM-MD5':
      // The response depends on the server's challenge; authenticate registers it when it is computed.
      break;
  }
  return secrets.filter((secret): secret is string => secret !== undefined && secret !== '');
}

/**
 * What is secret in one response of an AUTH exchange as it goes on the wire (`index` counts the responses
 * from 0, the initial response included): the response, and the password or token inside it once decoded.
 * LOGIN's first response is the user name, which is not secret. `run` registers these for the responses it
 * computes, and `record` for the responses the user types, so both mask the same values.
 */
export function responseSecrets(mechanism: string, response: string, index: number): string[] {
  const text = response.trim();
  if (text === '' || text === '*' || text === '=') return [];
  const decoded = decodedBase64(text);
  switch (mechanism.toUpperCase()) {
    case 'LOGIN':
      return index === 0 ? [] : [text, ...(decoded === undefined ? [] : [decoded])];
    case 'PLAIN':
      return [text, ...(decoded === undefined ? [] : [decoded.split('\0').at(-1) ?? ''])].filter((value) => value !== '');
    case 'XOAUTH2': {
      const token = decoded === undefined ? undefined : /auth=Bearer ([^\x01]*)/.exec(decoded)?.[1];
      return [text, ...(token ? [token] : [])];
    }
    case 'CRAM-MD5':
      return [text];
    default:
      return [text, ...(decoded === undefined ? [] : [decoded])];
  }
}

/** The text `value` is the base64 of, when it is base64 of UTF-8 text. */
function decodedBase64(value: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return undefined;
  const text = Buffer.from(value, 'base64').toString('utf8');
  return text.includes('\ufffd') || text === '' ? undefined : text;
}

function exchangeFor(request: AuthRequest): Exchange {
  switch (request.mechanism) {
    case 'PLAIN':
      return steps(request.initialResponse, [plainResponse(request.authzid, request.username, required(request, 'password'))]);
    case 'LOGIN':
      return steps(request.initialResponse, [base64(request.username), base64(required(request, 'password'))]);
    case 'CRAM-MD5':
      return cramMd5(request.username, required(request, 'password'));
    case 'XOAUTH2':
      // After the token, a 334 carries a JSON error; the empty line asks for the final 535.
      return steps(request.initialResponse, [xoauth2Response(request.username, required(request, 'token')), '']);
  }
}

/** Client responses sent in order, one per challenge; the first goes with the command when `initial`. */
function steps(initial: boolean, responses: string[]): Exchange {
  const queue = [...responses];
  return { ...(initial ? { initial: queue.shift() } : {}), respond: () => queue.shift() };
}

/** Server-first: the challenge is used once, as bytes, angle brackets included. */
function cramMd5(username: string, password: string): Exchange {
  let answered = false;
  return {
    respond(challenge) {
      if (answered) return undefined;
      answered = true;
      const digest = createHmac('md5', password).update(challenge).digest('hex');
      return base64(`${username} ${digest}`);
    },
  };
}

function plainResponse(authzid: string | undefined, username: string, password: string): string {
  return base64(`${authzid ?? ''}\0${username}\0${password}`);
}

function xoauth2Response(username: string, token: string): string {
  return base64(`user=${username}\x01auth=Bearer ${token}\x01\x01`);
}

/** RFC 4954 §4: a zero-length initial response is sent as `=`. */
function authCommand(mechanism: AuthMechanism, initial: string | undefined): string {
  if (initial === undefined) return `AUTH ${mechanism}`;
  return `AUTH ${mechanism} ${initial === '' ? '=' : initial}`;
}

function required(request: AuthRequest, field: 'password' | 'token'): string {
  const value = request[field];
  if (value === undefined) throw new Error(`AUTH ${request.mechanism} needs a ${field}`);
  return value;
}

function decodeChallenge(reply: Reply): Buffer {
  return Buffer.from((reply.lines[0] ?? '').trim(), 'base64');
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function maskError(error: SmtpError, transcript: Transcript): SmtpError {
  const mask = (text: string): string => transcript.mask(text);
  return new SmtpError(error.kind, error.phase, mask(error.message), error.partialLines.map(mask));
}
