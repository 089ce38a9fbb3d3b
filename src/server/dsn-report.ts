import { randomBytes } from 'node:crypto';

/**
 * Delivery status notifications (RFC 3464) as the embedded server writes them: a
 * `multipart/report; report-type=delivery-status` (RFC 6522) with a text for people, the
 * `message/delivery-status` fields, and the original message's header section (or the whole
 * message). Composed by plain string building, CRLF lines; nothing here parses MIME.
 */

export interface DsnRecipient {
  /** The RCPT TO address. */
  recipient: string;
  /** The RCPT's ORCPT parameter, xtext-decoded (`rfc822;b@x.test`). */
  orcpt?: string;
  action: 'delivered' | 'failed';
  /** The enhanced status code (RFC 3463), e.g. 2.0.0 or 5.1.1. */
  status: string;
  /** For a failure: the SMTP reply that says why, e.g. `550 5.1.1 <b@x.test>: mailbox unavailable`. */
  diagnostic?: string;
}

export interface DsnInput {
  /** The reporting MTA's host name. */
  reportingMta: string;
  /** The local domain: the DSN comes from MAILER-DAEMON@ it. */
  domain: string;
  /** The envelope sender of the original message: whom the DSN goes to. */
  sender: string;
  /** MAIL's ENVID parameter, xtext-decoded. */
  envid?: string;
  /** MAIL's RET parameter: FULL returns the whole message in a failure report. */
  ret?: 'FULL' | 'HDRS';
  arrivalDate: Date;
  recipients: DsnRecipient[];
  /** The original message, as received. */
  original: Buffer;
  /** When the report is made. */
  date: Date;
}

/** An RFC 5322 date-time in UTC: `Mon, 07 Dec 2026 21:54:52 +0000`. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/ GMT$/, ' +0000');
}

/** The header section of a message (up to the empty line, without it), as received. */
export function headerSection(message: Buffer): Buffer {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  if (crlf < 0 && lf < 0) return message;
  return crlf >= 0 && (lf < 0 || crlf < lf) ? message.subarray(0, crlf + 2) : message.subarray(0, lf + 1);
}

/** A header field's value, unfolded and trimmed, from a message's header section (the first such field). */
export function headerValue(message: string, name: string): string | undefined {
  const headerEnd = message.search(/\r?\n\r?\n/);
  const headers = (headerEnd < 0 ? message : message.slice(0, headerEnd)).replace(/\r?\n[ \t]+/g, ' ');
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`^${escaped}:[ \\t]*(.*)$`, 'im').exec(headers);
  return match?.[1]?.trim();
}

/**
 * A parameter's value as a header may carry it. smtp-server hands ENVID and ORCPT xtext-decoded
 * (RFC 3461 §4; the DSN carries the decoded value) and refuses control characters in them; this keeps
 * a line break out of a header even so.
 */
function oneLine(value: string): string {
  return value.replace(/[\x00-\x1f\x7f]/g, '?');
}

function boundary(): string {
  return `=_smtpspec_${randomBytes(12).toString('hex')}`;
}

const MSG_ID = /^<[^<>\s]+>$/;

/** The DSN as a message, ready to be stored (Return-Path `<>` first: RFC 5321 §4.5.5, a report is sent from the null sender). */
export function composeDsn(input: DsnInput): Buffer {
  const failed = input.recipients.some((r) => r.action === 'failed');
  const separator = boundary();
  const originalId = headerValue(headerSection(input.original).toString('utf8'), 'Message-ID');
  const references = originalId !== undefined && MSG_ID.test(originalId) ? originalId : undefined;
  const lines = (...items: (string | undefined)[]) => items.filter((l): l is string => l !== undefined).map((l) => `${l}\r\n`).join('');

  const head = lines(
    'Return-Path: <>',
    `From: Mail Delivery System <MAILER-DAEMON@${input.domain}>`,
    `To: <${input.sender}>`,
    `Subject: ${failed ? 'Undelivered Mail Returned to Sender' : 'Successful Mail Delivery Report'}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${input.reportingMta}>`,
    references && `In-Reply-To: ${references}`,
    references && `References: ${references}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${separator}"`,
    '',
  );

  const human = lines(
    `--${separator}`,
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `This is the mail system at ${input.reportingMta}.`,
    '',
    ...input.recipients.map((r) =>
      r.action === 'delivered'
        ? `Your message was delivered to the mailbox of <${r.recipient}>.`
        : `Your message could not be delivered to <${r.recipient}>: ${r.diagnostic ?? r.status}.`,
    ),
    '',
  );

  const perMessage = lines(
    `Reporting-MTA: dns; ${input.reportingMta}`,
    input.envid === undefined ? undefined : `Original-Envelope-Id: ${oneLine(input.envid)}`,
    `Arrival-Date: ${rfc5322Date(input.arrivalDate)}`,
  );
  const perRecipient = input.recipients.map((r) =>
    lines(
      r.orcpt === undefined ? undefined : `Original-Recipient: ${oneLine(r.orcpt)}`,
      `Final-Recipient: rfc822;${r.recipient}`,
      `Action: ${r.action}`,
      `Status: ${r.status}`,
      r.diagnostic === undefined ? undefined : `Diagnostic-Code: smtp; ${r.diagnostic}`,
    ),
  );
  const status = lines(`--${separator}`, 'Content-Type: message/delivery-status', '') + [perMessage, ...perRecipient].join('\r\n') + '\r\n';

  // RFC 3461 §4.3: RET=FULL returns the whole message, but a report with no failure in it returns
  // only the headers whatever RET says; so does a failure report without RET=FULL.
  const full = failed && input.ret === 'FULL';
  const returned = full ? input.original : headerSection(input.original);
  const returnedHead = lines(`--${separator}`, `Content-Type: ${full ? 'message/rfc822' : 'text/rfc822-headers'}`, '');
  const returnedEnd = returned.subarray(returned.length - 2).toString() === '\r\n' ? '' : '\r\n';

  return Buffer.concat([
    Buffer.from(head + human + status + returnedHead),
    returned,
    Buffer.from(`${returnedEnd}\r\n--${separator}--\r\n`),
  ]);
}
