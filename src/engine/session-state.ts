import { parseEhloReply, type Capabilities } from '../smtp/capabilities.js';
import type { Reply } from '../smtp/types.js';
import type { RuntimeText } from '../scenario/types.js';

/** What the engine knows about a session while it runs; reset as the protocol says. */
export interface SessionState {
  /** The code of the last reply received; 0 before the greeting. */
  lastCode: number;
  /** True after a 354 until the reply to the message data. */
  inDataPhase: boolean;
  /** The first line of the greeting's text (after the code): the name the server greets with comes first (RFC 5321 §4.3.1). */
  greeting?: string;
  /** The lines of the last accepted EHLO/LHLO reply; forgotten at STARTTLS (RFC 3207 §4.2). */
  ehloLines?: readonly string[];
  /** Recipients accepted in the current transaction: LMTP sends one reply per recipient after the final dot. */
  acceptedRecipients: number;
  /** The current transaction was opened with MAIL … SMTPUTF8 (RFC 6531 §3.4): its message may carry UTF-8 headers. */
  smtputf8: boolean;
  /** Variables captured from replies so far. */
  captures: Map<string, string>;
  /** The case's variables, for conditions. */
  vars: Record<string, string>;
  /** The ENVID of the current transaction's MAIL command (RFC 3461 §4.4), decoded, when the server took it. */
  envelopeId?: string;
  /** The message the server accepted last in this session: what a mailbox step looks for by default. */
  sentMessage?: SentMessage;
}

/** A message the server accepted, as a mailbox step needs it. */
export interface SentMessage {
  /** Its header section as sent (at most SENT_HEADER_BYTES), to read its Message-ID. */
  header: Buffer;
  /** The ENVID its transaction was opened with. */
  envelopeId?: string;
  /** performance.now() when the server's acceptance arrived. */
  acceptedAt: number;
}

/** A message's header section is read this far to find its Message-ID. */
export const SENT_HEADER_BYTES = 64 * 1024;

export function newSessionState(vars: Record<string, string>): SessionState {
  return { lastCode: 0, inDataPhase: false, acceptedRecipients: 0, smtputf8: false, captures: new Map(), vars };
}

/** Raised when a step uses a captured variable whose capturing step did not run. */
export class MissingCaptureError extends Error {}

/** The final text of a field that may use variables captured earlier in the session. */
export function resolveText(text: RuntimeText, captures: Map<string, string>): string {
  if (typeof text === 'string') return text;
  return text.parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const value = captures.get(part.capture);
      if (value === undefined) {
        throw new MissingCaptureError(`variable "${part.capture}" was not captured: the step that captures it did not run`);
      }
      return value;
    })
    .join('');
}

/** What the server said it supports in its last EHLO/LHLO reply; parsed only when a condition asks, not for every EHLO. */
export function capabilitiesOf(state: Pick<SessionState, 'ehloLines'>): Capabilities | undefined {
  return state.ehloLines && parseEhloReply(state.ehloLines);
}

/**
 * The command's verb in upper case when it is four letters long, as every verb followed here is
 * (after any leading white space); otherwise ''. Runs for every command sent, so it looks at five characters.
 */
function fourLetterVerb(line: string): string {
  const command = line.charCodeAt(0) > 0x20 ? line : line.trimStart();
  if (command.length > 4 && isLetter(command.charCodeAt(4))) return '';
  return command.slice(0, 4).toUpperCase();
}

const isLetter = (code: number): boolean => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);

/** The SMTPUTF8 parameter of a MAIL command (RFC 6531 §3.4). */
const SMTPUTF8_PARAMETER = /\sSMTPUTF8(?=\s|$)/i;

/** The ENVID parameter of a MAIL command (RFC 3461 §4.4), xtext-encoded. */
const ENVID_PARAMETER = /\sENVID=(\S+)/i;

/** RFC 3461 §4: "+" and two hexadecimal digits stand for one byte. */
function decodeXtext(text: string): string {
  return text.replace(/\+([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Commands after which no recipient of a transaction is accepted yet. */
const FRESH_TRANSACTION = new Set(['EHLO', 'HELO', 'LHLO', 'MAIL', 'RSET']);

/**
 * Follows what a command and its reply mean for the session: a new EHLO/LHLO brings new
 * capabilities and, like MAIL, RSET or HELO, starts a fresh transaction; an accepted RCPT counts.
 */
export function trackCommand(state: SessionState, line: string, reply: Reply): void {
  const verb = fourLetterVerb(line);
  const ok = reply.code >= 200 && reply.code < 300;
  if ((verb === 'EHLO' || verb === 'LHLO') && ok) state.ehloLines = reply.lines;
  if (FRESH_TRANSACTION.has(verb)) {
    state.acceptedRecipients = 0;
    state.smtputf8 = verb === 'MAIL' && ok && SMTPUTF8_PARAMETER.test(line);
    const envelopeId = verb === 'MAIL' && ok ? ENVID_PARAMETER.exec(line)?.[1] : undefined;
    if (envelopeId !== undefined) state.envelopeId = decodeXtext(envelopeId);
    else delete state.envelopeId;
  }
  if (verb === 'RCPT' && ok) state.acceptedRecipients++;
}
