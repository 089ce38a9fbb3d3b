/**
 * MAIL and RCPT command lines with their ESMTP parameters:
 * SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), RET/ENVID/NOTIFY/ORCPT (DSN, RFC 3461).
 */

export type MailBody = '7BIT' | '8BITMIME' | 'BINARYMIME';
export type DsnReturn = 'FULL' | 'HDRS';
export type DsnNotify = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface MailParams {
  /** The reverse-path without angle brackets; empty for the null sender `<>`. */
  from: string;
  size?: number;
  body?: MailBody;
  smtputf8?: boolean;
  ret?: DsnReturn;
  /** Sent xtext-encoded. */
  envid?: string;
}

export interface RcptParams {
  to: string;
  notify?: DsnNotify[];
  /** `addr-type;address` (`rfc822;b@example.test`); a bare address means rfc822. The address is sent xtext-encoded. */
  orcpt?: string;
}

/** `MAIL FROM:<a@example.test> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ314159`. */
export function buildMailCommand(p: MailParams): string {
  const params = [
    p.size === undefined ? undefined : `SIZE=${p.size}`,
    p.body === undefined ? undefined : `BODY=${p.body}`,
    p.smtputf8 ? 'SMTPUTF8' : undefined,
    p.ret === undefined ? undefined : `RET=${p.ret}`,
    p.envid === undefined ? undefined : `ENVID=${xtext(p.envid)}`,
  ];
  return [`MAIL FROM:<${p.from}>`, ...params.filter(isDefined)].join(' ');
}

/** `RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.test`. */
export function buildRcptCommand(p: RcptParams): string {
  const params = [
    p.notify === undefined || p.notify.length === 0 ? undefined : `NOTIFY=${p.notify.join(',')}`,
    p.orcpt === undefined ? undefined : `ORCPT=${orcptValue(p.orcpt)}`,
  ];
  return [`RCPT TO:<${p.to}>`, ...params.filter(isDefined)].join(' ');
}

function orcptValue(orcpt: string): string {
  const semicolon = orcpt.indexOf(';');
  if (semicolon < 0) return `rfc822;${xtext(orcpt)}`;
  return `${orcpt.slice(0, semicolon)};${xtext(orcpt.slice(semicolon + 1))}`;
}

/**
 * xtext (RFC 3461 §4): `+`, `=` and every byte outside `!`..`~` become `+HH` (upper-case hex);
 * characters beyond ASCII are encoded byte by byte in UTF-8.
 */
export function xtext(text: string): string {
  let encoded = '';
  for (const byte of new TextEncoder().encode(text)) {
    const plain = byte >= 0x21 && byte <= 0x7e && byte !== 0x2b && byte !== 0x3d;
    encoded += plain ? String.fromCharCode(byte) : `+${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
