import { createRequire } from 'node:module';
import type * as MailParser from 'mailparser';

/**
 * Reading what arrived, with mailparser (from the nodemailer project): header fields, the text of
 * the body, and the parts of a delivery status notification (RFC 3464). No MIME is parsed by hand.
 * The library is loaded when a mailbox step first reads a message, never at start-up.
 */

type Parser = typeof MailParser;

function parser(): Parser {
  return createRequire(import.meta.url)('mailparser') as Parser;
}

const OPTIONS: MailParser.SimpleParserOptions = {
  // A DSN's machine-readable part stays a part of its own, not text.
  keepDeliveryStatus: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
};

/** A message's header fields: every value of a name, as written (unfolded) and decoded where they differ. */
export class HeaderFields {
  private readonly byName = new Map<string, string[]>();

  constructor(lines: readonly { key: string; line: string }[], decoded: ReadonlyMap<string, unknown>) {
    for (const { key, line } of lines) {
      const colon = line.indexOf(':');
      const value = line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
      const values = this.byName.get(key) ?? [];
      values.push(value);
      this.byName.set(key, values);
    }
    // An encoded word (RFC 2047) is matched as the reader sees it, too.
    for (const [key, value] of decoded) {
      const values = this.byName.get(key);
      if (values && typeof value === 'string' && !values.includes(value)) values.push(value);
    }
  }

  /** Every value of the field, in order; empty when the message lacks it. Names are case-insensitive. */
  all(name: string): string[] {
    return this.byName.get(name.toLowerCase()) ?? [];
  }

  first(name: string): string | undefined {
    return this.all(name)[0];
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }
}

/** The header fields of a header section (a message's first lines, up to the empty line). */
export async function parseHeader(header: Buffer): Promise<HeaderFields> {
  const parsed = await parser().simpleParser(Buffer.concat([header, Buffer.from('\r\n\r\n')]), OPTIONS);
  return new HeaderFields(parsed.headerLines, parsed.headers);
}

/** A whole message: its header fields, the text of its body, and its DSN report when it is one. */
export interface ParsedMessage {
  fields: HeaderFields;
  /** The text/plain body, decoded (empty when the message has none). */
  text: string;
  /** A multipart/report; report-type=delivery-status (RFC 3464): its fields and the original message's headers. */
  report?: DeliveryReport;
}

export interface DeliveryReport {
  /** The per-message fields (Reporting-MTA, Original-Envelope-Id, Arrival-Date). */
  message: HeaderFields;
  /** One set of fields per recipient (Final-Recipient, Action, Status, Diagnostic-Code). */
  recipients: HeaderFields[];
  /** The text of the returned message or its headers (text/rfc822-headers or message/rfc822), if any. */
  returned?: string;
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const parsed = await parser().simpleParser(raw, OPTIONS);
  const fields = new HeaderFields(parsed.headerLines, parsed.headers);
  const status = parsed.attachments.find((part) => part.contentType === 'message/delivery-status');
  const message: ParsedMessage = { fields, text: typeof parsed.text === 'string' ? parsed.text : '' };
  if (!status) return message;
  const blocks = status.content
    .toString('utf8')
    .split(/\r?\n[ \t]*\r?\n/)
    .filter((block) => block.trim() !== '');
  const [first, ...rest] = await Promise.all(blocks.map((block) => parseHeader(Buffer.from(block, 'utf8'))));
  const returned = parsed.attachments.find((part) => part.contentType === 'text/rfc822-headers' || part.contentType === 'message/rfc822');
  return {
    ...message,
    report: { message: first ?? new HeaderFields([], new Map()), recipients: rest, ...(returned ? { returned: returned.content.toString('utf8') } : {}) },
  };
}
