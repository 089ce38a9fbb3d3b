import { join } from 'node:path';
import { describeMailbox, type MailboxSettings } from '../mailbox/types.js';
import { MAILBOX_KIND_KEYS } from './as-written-mailboxes.js';
import { isRecord, type NormalizeContext, type Scope } from './context.js';
import { textPattern } from './expectations.js';
import type { DataPath } from './positions.js';
import { parseTarget } from './target.js';
import type { DsnCheck, HeaderCheck, MailboxAction, MailboxDefinition, Scenario } from './types.js';

/**
 * The file's `mailboxes:` and its `mailbox` steps: where a message the case sent should arrive,
 * and what to check once it has.
 */

/** Ports by protocol and TLS: implicit TLS has its own (RFC 8314 §7.3 for IMAP and POP3). */
const PORTS = { imap: { implicit: 993, plain: 143 }, pop3: { implicit: 995, plain: 110 } } as const;
const TLS_MODES = ['implicit', 'starttls', 'none'] as const;

/** The mailboxes of the file, by name; one that cannot be used is a problem at its position. */
export function normalizeMailboxes(ctx: NormalizeContext, written: unknown, scope: Scope): Record<string, MailboxDefinition> | undefined {
  if (!isRecord(written)) return undefined;
  const mailboxes: Record<string, MailboxDefinition> = {};
  for (const [name, mailbox] of Object.entries(written)) {
    if (!isRecord(mailbox)) continue;
    const definition = mailboxDefinition(ctx, name, mailbox, ['mailboxes', name], scope);
    if (definition) mailboxes[name] = definition;
  }
  return mailboxes;
}

function mailboxDefinition(ctx: NormalizeContext, name: string, written: Record<string, unknown>, path: DataPath, scope: Scope): MailboxDefinition | undefined {
  const kinds = MAILBOX_KIND_KEYS.filter((key) => written[key] !== undefined);
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0
        ? `mailbox "${name}" needs one of ${MAILBOX_KIND_KEYS.join(', ')}: what it is and where`
        : `mailbox "${name}" cannot have both "${kinds[0]}" and "${kinds[1]}": it is one mailbox`;
    ctx.error(kinds.length === 0 ? ctx.at(path) : ctx.laterKey(path, kinds.slice(0, 2)), message);
    return undefined;
  }
  const kind = kinds[0]!;
  const text = (key: string, label: string): string | undefined =>
    typeof written[key] === 'string' ? ctx.expand(scope, written[key], [...path, key], { label: `mailbox ${label}`, oneLine: true }) : undefined;
  const where = text(kind, kind);
  const user = text('user', 'user');
  const password = text('password', 'password');
  // The password is secret whatever its variable is called: it is never shown, in any encoding.
  ctx.secret(password);
  if (where === undefined) return undefined;
  const account = { ...(user !== undefined ? { user } : {}), ...(password !== undefined ? { password } : {}) };
  const pos = ctx.at(path);
  const networkOnly = ['tls', 'verify', 'ca', 'servername'].filter((key) => written[key] !== undefined);
  if (kind !== 'imap' && kind !== 'pop3') {
    for (const key of networkOnly) ctx.error(ctx.keyAt(path, key), `"${key}" is for an IMAP or POP3 mailbox, and mailbox "${name}" is ${kind}`);
    if ((kind === 'maildir' || kind === 'mbox' || kind === 'embedded') && (user !== undefined || password !== undefined)) {
      ctx.error(ctx.keyAt(path, user !== undefined ? 'user' : 'password'), `mailbox "${name}" is a local ${kind === 'embedded' ? 'Maildir' : kind}: it has no user or password`);
    }
  }
  switch (kind) {
    case 'maildir':
    case 'mbox':
      // Not required to exist yet: the server being tested may make it with its first delivery.
      return { name, pos, settings: { kind, path: ctx.resolvePath(where) }, caFiles: [] };
    case 'mailpit':
    case 'mailhog':
      return { name, pos, settings: { kind, url: where.replace(/\/+$/, ''), ...account }, caFiles: [] };
    case 'embedded':
      return { name, pos, settings: { kind, localPart: where }, caFiles: [] };
    case 'imap':
    case 'pop3':
      return networkMailbox(ctx, name, kind, where, written, path, scope, account);
  }
}

function networkMailbox(
  ctx: NormalizeContext,
  name: string,
  kind: 'imap' | 'pop3',
  where: string,
  written: Record<string, unknown>,
  path: DataPath,
  scope: Scope,
  account: { user?: string; password?: string },
): MailboxDefinition | undefined {
  const address = parseTarget(where, 0);
  if (!address || !('host' in address)) {
    ctx.error(ctx.at([...path, kind]), `mailbox "${name}": ${kind} expects host or host:port, got "${where}"`);
    return undefined;
  }
  const ports = PORTS[kind];
  // Without a port, TLS from the first byte on the implicit-TLS port (RFC 8314 §3.3 prefers it).
  const writtenTls = TLS_MODES.find((mode) => mode === written['tls']);
  const tls = writtenTls ?? (address.port === 0 || address.port === ports.implicit ? 'implicit' : 'starttls');
  const port = address.port !== 0 ? address.port : tls === 'implicit' ? ports.implicit : ports.plain;
  if (tls === 'none' && account.password !== undefined) {
    ctx.warn(ctx.keyAt(path, 'tls'), `mailbox "${name}" sends its password without TLS (tls: none)`);
  }
  const ca = written['ca'];
  const caPaths = typeof ca === 'string' ? [ca] : Array.isArray(ca) ? ca.filter((item): item is string => typeof item === 'string') : [];
  const caFiles = caPaths.map((file, index) => ctx.filePath(file, typeof ca === 'string' ? [...path, 'ca'] : [...path, 'ca', index], 'CA certificate'));
  const servername = typeof written['servername'] === 'string' ? ctx.expand(scope, written['servername'], [...path, 'servername'], { label: 'mailbox servername', oneLine: true }) : undefined;
  const settings: MailboxSettings = {
    kind,
    host: address.host,
    port,
    tls,
    verify: written['verify'] !== false,
    ca: [],
    ...(servername !== undefined ? { servername } : {}),
    ...account,
  };
  return { name, pos: ctx.at(path), settings, caFiles };
}

/** Where a mailbox is, in words. */
export function describeDefinition(definition: MailboxDefinition): string {
  const settings = definition.settings;
  return settings.kind === 'embedded' ? `the embedded server's Maildir for ${settings.localPart}` : describeMailbox(settings);
}

/**
 * The scenario with its `embedded:` mailboxes placed in the embedded server's mail root, now that
 * it runs: each is the Maildir the server delivers the local part's mail to (`folderOf` names it).
 */
export function withEmbeddedMailboxes(scenario: Scenario, mailRoot: string, folderOf: (localPart: string) => string): Scenario {
  const mailboxes = scenario.mailboxes;
  if (!mailboxes || !Object.values(mailboxes).some((mailbox) => mailbox.settings.kind === 'embedded')) return scenario;
  const placed = Object.fromEntries(
    Object.entries(mailboxes).map(([name, mailbox]): [string, MailboxDefinition] => {
      const settings = mailbox.settings;
      if (settings.kind !== 'embedded') return [name, mailbox];
      return [name, { ...mailbox, settings: { kind: 'maildir', path: join(mailRoot, folderOf(settings.localPart)) } }];
    }),
  );
  return { ...scenario, mailboxes: placed };
}

// ---- the step ----

/** A `mailbox` step's action; undefined when it is unusable (the problem is recorded). */
export function mailboxAction(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath, mailboxes: ReadonlySet<string>): MailboxAction | undefined {
  const map: Record<string, unknown> | undefined = typeof written === 'string' ? { in: written } : isRecord(written) ? written : undefined;
  if (!map || typeof map['in'] !== 'string') return undefined;
  const name = map['in'];
  if (!mailboxes.has(name)) {
    const known = mailboxes.size === 0 ? 'the file has no mailboxes: add them under "mailboxes:"' : `the file's mailboxes are ${[...mailboxes].join(', ')}`;
    ctx.error(typeof written === 'string' ? ctx.at(path) : ctx.at([...path, 'in']), `no mailbox "${name}": ${known}`);
    return undefined;
  }
  const find = isRecord(map['find']) ? map['find'] : undefined;
  const messageId = typeof find?.['message_id'] === 'string' ? ctx.expand(scope, find['message_id'], [...path, 'find', 'message_id'], { label: 'message_id', oneLine: true }) : undefined;
  const dsn = isRecord(map['dsn']) ? dsnCheck(ctx, scope, map['dsn'], [...path, 'dsn']) : map['dsn'] === true ? {} : undefined;
  if (dsn && find) ctx.error(ctx.laterKey(path, ['find', 'dsn']), 'a mailbox step cannot have both "find" and "dsn": the DSN is found by the message this case sent last');
  const body = typeof map['body'] === 'string' ? textPattern(ctx, scope, map['body'], [...path, 'body'], 'body') : undefined;
  const expect = {
    ...(typeof map['folder'] === 'string' ? { folder: map['folder'] } : {}),
    headers: headerChecks(ctx, scope, map['headers'], [...path, 'headers']),
    ...(body ? { body } : {}),
    ...(typeof map['max_size'] === 'number' ? { maxSizeBytes: map['max_size'] } : {}),
  };
  const folders = Array.isArray(map['folders']) ? map['folders'].filter((folder): folder is string => typeof folder === 'string') : undefined;
  return {
    type: 'mailbox',
    mailbox: name,
    ...(folders ? { folders } : {}),
    ...(find ? { find: { ...(messageId !== undefined ? { messageId: bracketed(messageId) } : {}), headers: headerChecks(ctx, scope, find['headers'], [...path, 'find', 'headers']) } } : {}),
    ...(dsn ? { dsn } : {}),
    expect,
    remove: map['delete'] === true,
  };
}

function headerChecks(ctx: NormalizeContext, scope: Scope, written: unknown, path: DataPath): HeaderCheck[] {
  if (!isRecord(written)) return [];
  return Object.entries(written).flatMap(([name, check]): HeaderCheck[] => {
    if (typeof check === 'boolean') return [{ name, present: check }];
    if (typeof check !== 'string') return [];
    const pattern = textPattern(ctx, scope, check, [...path, name], `header ${name}`);
    return pattern ? [{ name, present: true, pattern }] : [];
  });
}

function dsnCheck(ctx: NormalizeContext, scope: Scope, written: Record<string, unknown>, path: DataPath): DsnCheck {
  const action = DSN_ACTIONS.find((known) => known === written['action']);
  const status = typeof written['status'] === 'string' ? textPattern(ctx, scope, written['status'], [...path, 'status'], 'dsn status') : undefined;
  const recipient = typeof written['recipient'] === 'string' ? textPattern(ctx, scope, written['recipient'], [...path, 'recipient'], 'dsn recipient') : undefined;
  return { ...(action ? { action } : {}), ...(status ? { status } : {}), ...(recipient ? { recipient } : {}) };
}

/** RFC 3464 §2.3.3. */
const DSN_ACTIONS = ['delivered', 'failed', 'delayed', 'relayed', 'expanded'] as const;

/** A Message-ID as it is written in the header: in angle brackets. */
function bracketed(id: string): string {
  const bare = id.trim().replace(/^<|>$/g, '');
  return `<${bare}>`;
}
