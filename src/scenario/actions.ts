import { basename } from 'node:path';
import { buildMailCommand, buildRcptCommand, type DsnNotify, type MailParams, type RcptParams } from '../smtp/mail-params.js';
import { decodeRawEscapes } from '../smtp/raw-escapes.js';
import type { ACTION_KEYS } from './as-written.js';
import { normalizeAuth } from './auth.js';
import { isRecord, type NormalizeContext, type Scope } from './context.js';
import { expectation } from './expectations.js';
import { mailboxAction } from './mailboxes.js';
import { dnsCheckAction } from './dns-checks.js';
import type { DataPath } from './positions.js';
import { DEFAULT_BDAT_CHUNK_BYTES, type MessageSource, type PipelinedCommand, type RuntimeText, type StepAction } from './types.js';

export type ActionKey = (typeof ACTION_KEYS)[number];

/** One step as written, with what normalising it needs. */
export interface StepInput {
  ctx: NormalizeContext;
  scope: Scope;
  written: Record<string, unknown>;
  path: DataPath;
  /** The names of the file's mailboxes, for a mailbox step. */
  mailboxes: ReadonlySet<string>;
}

/** The step's action; undefined when it is unusable (the problem is recorded). */
export function normalizeAction(step: StepInput, key: ActionKey | undefined): StepAction | undefined {
  switch (key) {
    case undefined:
      return { type: 'read' };
    case 'send':
      return sendAction(step);
    case 'data':
      return dataAction(step);
    case 'starttls':
      return { type: 'starttls' };
    case 'auth':
      return normalizeAuth(step.ctx, step.scope, step.written['auth'], [...step.path, 'auth']);
    case 'pipeline':
      return pipelineAction(step);
    case 'raw':
      return rawAction(step);
    case 'mail':
      return mailAction(step);
    case 'rcpt':
      return rcptAction(step);
    case 'mailbox':
      return mailboxAction(step.ctx, step.scope, step.written['mailbox'], [...step.path, 'mailbox'], step.mailboxes);
    case 'fcrdns':
    case 'dane':
    case 'mta_sts':
    case 'tls_rpt':
    case 'dnsbl':
      return dnsCheckAction(step.ctx, step.scope, key, step.written[key], [...step.path, key]);
  }
}

function sendAction({ ctx, scope, written, path }: StepInput): StepAction | undefined {
  if (typeof written['send'] !== 'string') return undefined;
  const line = ctx.expandRuntime(scope, written['send'], [...path, 'send'], { label: 'send', oneLine: true });
  return line === undefined ? undefined : { type: 'send', line };
}

// ---- data ----

function dataAction(step: StepInput): StepAction | undefined {
  const source = messageSource(step);
  if (!source) return undefined;
  const bdat = step.written['bdat'];
  const chunk = bdat === true ? DEFAULT_BDAT_CHUNK_BYTES : typeof bdat === 'number' ? bdat : undefined;
  return { type: 'data', source, ...(chunk === undefined ? {} : { bdatChunkBytes: chunk }) };
}

function messageSource({ ctx, scope, written, path }: StepInput): MessageSource | undefined {
  const data = written['data'];
  const dataPath = [...path, 'data'];
  if (typeof data === 'string') {
    const text = ctx.expandRuntime(scope, data, dataPath, { label: 'data' });
    return text === undefined ? undefined : { kind: 'text', text };
  }
  if (!isRecord(data)) return undefined;
  const composeKeys = ['headers', 'body', 'attachments'].filter((key) => data[key] !== undefined);
  if (typeof data['file'] === 'string') {
    if (composeKeys.length > 0) {
      ctx.error(
        ctx.laterKey(dataPath, ['file', composeKeys[0]!]),
        `data cannot have both "file" and "${composeKeys[0]}": a message is a file, or composed from headers, body and attachments`,
      );
      return undefined;
    }
    return { kind: 'file', path: ctx.filePath(data['file'], [...dataPath, 'file'], 'message file') };
  }
  if (composeKeys.length === 0 && data['file'] === undefined) {
    if (Object.keys(data).length === 0) ctx.error(ctx.at(dataPath), 'data needs "file", or "headers" and "body"');
    return undefined;
  }
  return composedMessage(ctx, scope, data, dataPath);
}

function composedMessage(ctx: NormalizeContext, scope: Scope, data: Record<string, unknown>, path: DataPath): MessageSource | undefined {
  const headers = isRecord(data['headers']) ? Object.entries(data['headers']) : [];
  const expanded = headers.map(([name, value]): [string, string] | undefined => {
    const text = ctx.expand(scope, String(value), [...path, 'headers', name], { label: `header "${name}"`, oneLine: true });
    return text === undefined ? undefined : [name, text];
  });
  const body = typeof data['body'] === 'string' ? ctx.expand(scope, data['body'], [...path, 'body'], { label: 'data body' }) : '';
  if (body === undefined || !expanded.every((header) => header !== undefined)) return undefined;
  const attachments = (Array.isArray(data['attachments']) ? data['attachments'] : []).flatMap((item: unknown, index) => {
    if (!isRecord(item) || typeof item['file'] !== 'string') return [];
    const filename = typeof item['filename'] === 'string' ? item['filename'] : basename(item['file']);
    const contentType = typeof item['content_type'] === 'string' ? item['content_type'] : 'application/octet-stream';
    return [{ path: ctx.filePath(item['file'], [...path, 'attachments', index, 'file'], 'attachment'), filename, contentType }];
  });
  return { kind: 'compose', headers: expanded, body, attachments };
}

// ---- pipeline ----

/** Commands that must end a pipelined group (RFC 2920 §3.1, RFC 3207 §4, RFC 4954 §4). */
const LAST_IN_GROUP = new Set(['EHLO', 'HELO', 'LHLO', 'DATA', 'VRFY', 'EXPN', 'TURN', 'QUIT', 'NOOP', 'STARTTLS', 'AUTH']);

function pipelineAction({ ctx, scope, written, path }: StepInput): StepAction | undefined {
  const items = Array.isArray(written['pipeline']) ? written['pipeline'] : [];
  const commands = items.map((item, index) => pipelinedCommand(ctx, scope, item, [...path, 'pipeline', index]));
  commands.slice(0, -1).forEach((command, index) => {
    const verb = command ? verbOf(command.line) : '';
    if (LAST_IN_GROUP.has(verb)) {
      ctx.error(ctx.at([...path, 'pipeline', index]), `${verb} must be the last command of a pipeline group (RFC 2920)`);
    }
  });
  if (!commands.every((command) => command !== undefined)) return undefined;
  return { type: 'pipeline', commands };
}

function pipelinedCommand(ctx: NormalizeContext, scope: Scope, item: unknown, path: DataPath): PipelinedCommand | undefined {
  if (!isRecord(item) || typeof item['send'] !== 'string') return undefined;
  const line = ctx.expandRuntime(scope, item['send'], [...path, 'send'], { label: 'send', oneLine: true });
  const expect = expectation(ctx, scope, item, path);
  if (line === undefined) return undefined;
  return { line, ...(expect ? { expect } : {}), pos: ctx.at(path) };
}

/** The command verb of a line, upper case; empty when the line starts with a captured value. */
export function verbOf(line: RuntimeText): string {
  const first = typeof line === 'string' ? line : line.parts[0];
  return typeof first === 'string' ? (first.trimStart().split(/\s/)[0] ?? '').toUpperCase() : '';
}

// ---- raw ----

function rawAction({ ctx, scope, written, path }: StepInput): StepAction | undefined {
  if (typeof written['raw'] !== 'string') return undefined;
  const rawPath = [...path, 'raw'];
  const text = ctx.expand(scope, written['raw'], rawPath, { label: 'raw' });
  if (text === undefined) return undefined;
  const decoded = decodeRawEscapes(text);
  if ('error' in decoded) {
    ctx.error(ctx.at(rawPath), `raw has a bad escape at character ${decoded.index + 1}: ${decoded.error}`);
    return undefined;
  }
  const readReply = written['expect'] !== undefined || written['text'] !== undefined;
  return { type: 'raw', bytes: decoded.bytes, readReply };
}

// ---- mail and rcpt ----

function mailAction({ ctx, scope, written, path }: StepInput): StepAction | undefined {
  const mail = written['mail'];
  const mailPath = [...path, 'mail'];
  const params = typeof mail === 'string' ? { from: mail } : isRecord(mail) ? mail : undefined;
  if (!params || typeof params['from'] !== 'string') return undefined;
  const fromPath = typeof mail === 'string' ? mailPath : [...mailPath, 'from'];
  const from = address(ctx, scope, params['from'], fromPath, 'mail');
  const envid = typeof params['envid'] === 'string' ? ctx.expand(scope, params['envid'], [...mailPath, 'envid'], { label: 'mail' }) : '';
  if (from === undefined || envid === undefined) return undefined;
  const built: MailParams = {
    from,
    ...(typeof params['size'] === 'number' ? { size: params['size'] } : {}),
    ...(isOneOf(params['body'], ['7BIT', '8BITMIME', 'BINARYMIME'] as const) ? { body: params['body'] } : {}),
    ...(params['smtputf8'] === true ? { smtputf8: true } : {}),
    ...(isOneOf(params['ret'], ['FULL', 'HDRS'] as const) ? { ret: params['ret'] } : {}),
    ...(typeof params['envid'] === 'string' ? { envid } : {}),
  };
  return { type: 'send', line: buildMailCommand(built) };
}

const NOTIFY = ['NEVER', 'SUCCESS', 'FAILURE', 'DELAY'] as const;

function rcptAction({ ctx, scope, written, path }: StepInput): StepAction | undefined {
  const rcpt = written['rcpt'];
  const rcptPath = [...path, 'rcpt'];
  const params = typeof rcpt === 'string' ? { to: rcpt } : isRecord(rcpt) ? rcpt : undefined;
  if (!params || typeof params['to'] !== 'string') return undefined;
  const to = address(ctx, scope, params['to'], typeof rcpt === 'string' ? rcptPath : [...rcptPath, 'to'], 'rcpt');
  const orcptPath = [...rcptPath, 'orcpt'];
  const orcpt = typeof params['orcpt'] === 'string' ? ctx.expand(scope, params['orcpt'], orcptPath, { label: 'orcpt', oneLine: true }) : '';
  const notify = Array.isArray(params['notify']) ? params['notify'].filter((item): item is DsnNotify => isOneOf(item, NOTIFY)) : undefined;
  if (notify && notify.includes('NEVER') && notify.length > 1) {
    ctx.error(ctx.at([...rcptPath, 'notify']), 'notify NEVER must stand alone (RFC 3461): it cannot be combined with SUCCESS, FAILURE or DELAY');
    return undefined;
  }
  if (to === undefined || orcpt === undefined) return undefined;
  const built: RcptParams = {
    to,
    ...(notify ? { notify } : {}),
    ...(typeof params['orcpt'] === 'string' ? { orcpt } : {}),
  };
  return { type: 'send', line: buildRcptCommand(built) };
}

/** An address for MAIL or RCPT: one line, written without the angle brackets that are added. */
function address(ctx: NormalizeContext, scope: Scope, written: string, path: DataPath, label: 'mail' | 'rcpt'): string | undefined {
  const text = ctx.expand(scope, written, path, { label, oneLine: true });
  if (text === undefined) return undefined;
  if (text.startsWith('<') && text.endsWith('>')) {
    ctx.error(ctx.at(path), `${label} takes the address without angle brackets: write ${text.slice(1, -1) || '""'}, the < > are added`);
    return undefined;
  }
  return text;
}

function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value);
}
