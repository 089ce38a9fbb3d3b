import { openMailbox } from '../mailbox/open.js';
import { HeaderFields, parseHeader, parseMessage, type ParsedMessage } from '../mailbox/parse.js';
import { MailboxError, type MailboxEntry, type MailboxSession, type MailboxSettings } from '../mailbox/types.js';
import { LIMITS, readFileWithin } from '../read-file.js';
import type { HeaderCheck, MailboxAction, MailboxDefinition, Step, TextPattern } from '../scenario/types.js';
import { describeDefinition } from '../scenario/mailboxes.js';
import type { Reply } from '../smtp/types.js';
import type { Transcript } from '../smtp/transcript.js';
import type { Scenario } from '../scenario/types.js';
import type { SessionState } from './session-state.js';
import type { DeliveredMessage, DeliveryResult } from './results.js';
import type { SentMessage } from './session-state.js';
import { describeHeaderCheck } from './mailbox-words.js';

/**
 * The mailbox step: wait until the message is in the mailbox, then check it. It looks, waits a
 * little longer each time (LOOK_INTERVALS_MS), and looks again until the step's deadline; every
 * operation on the mailbox is bounded by what is left of that deadline, and an interrupted run
 * stops the wait at once.
 */

/** The waits between looks: short at first (a local delivery takes milliseconds), then every 2 s. */
const LOOK_INTERVALS_MS = [100, 200, 400, 800, 1_600, 2_000];
/** Messages listed per look: the newest; the one looked for has just arrived. */
const LIST_LIMIT = 50;
/** A message read to check its body or its DSN report: at most this size. */
const READ_LIMIT_BYTES = 25 * 1024 * 1024;
/** After the deadline, time for a last look at what was there instead, the deletion and the logout. */
const CLEANUP_GRACE_MS = 5_000;
/** The newest subjects shown when nothing was found. */
const SHOWN_SUBJECTS = 5;
/** Folder names that hold junk mail, for the default folders. */
const JUNK_FOLDER = /^(?:(?:\[[^\]]+\]|INBOX)[./])?(?:junk|spam|bulk)(?:[ _-]?(?:e-?mail|mail))?$/i;

/** What the step looks for. */
interface Wanted {
  /** In words, for reports: `the message sent last (Message-ID <…>)`. */
  words: string;
  messageId?: string;
  headers: HeaderCheck[];
  /** A DSN about the message sent last: its Message-ID and ENVID. */
  dsnOf?: { messageId?: string; envelopeId?: string };
  /** It is the message sent last (or its DSN): how long it took to arrive is worth reporting. */
  fromSent: boolean;
}

/** What the step needs of the case: its scenario's mailboxes, what the session sent, its transcript, the run's interruption. */
export interface MailboxStepContext {
  scenario: Scenario;
  state: SessionState;
  transcript?: Transcript;
  signal?: AbortSignal;
}

/** What the step did, as every action says it (it reads no reply from the SMTP server). */
export interface MailboxOutcome {
  replies: Reply[];
  sentAt: number;
  failure?: string;
  delivery?: DeliveryResult;
}

interface Found {
  entry: MailboxEntry;
  fields: HeaderFields;
  /** The whole message, parsed, when it had to be read (DSN, body). */
  parsed?: ParsedMessage;
}

export async function runMailboxStep(action: MailboxAction, step: Step, ctx: MailboxStepContext): Promise<MailboxOutcome> {
  const started = performance.now();
  const definition = ctx.scenario.mailboxes?.[action.mailbox];
  if (!definition) throw new Error(`mailbox "${action.mailbox}" was not normalised with its scenario`);
  const where = `${definition.name} (${describeDefinition(definition)})`;
  const wanted = wantedOf(action, ctx.state.sentMessage !== undefined ? await sentIdentity(ctx.state.sentMessage) : undefined);
  if ('failure' in wanted) return { replies: [], sentAt: started, failure: wanted.failure };
  const deadline = started + step.timeoutMs;
  // The step's deadline bounds the whole step, not each operation alone: what is under way when it has passed
  // (and its grace for a last look and the cleanup) is stopped, as an interrupted run stops it.
  const expired = AbortSignal.timeout(step.timeoutMs + Math.min(CLEANUP_GRACE_MS, step.timeoutMs));
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, expired]) : expired;
  try {
    return await lookAndCheck(action, step, ctx, { definition, where, wanted, started, deadline, signal });
  } catch (error) {
    if (error instanceof MailboxError && error.kind === 'aborted' && expired.aborted && !ctx.signal?.aborted) {
      throw new MailboxError('timeout', `${where}: the mailbox did not answer within the step's ${seconds(step.timeoutMs)}`);
    }
    throw error;
  }
}

interface StepPlan {
  definition: MailboxDefinition;
  where: string;
  wanted: Wanted;
  started: number;
  deadline: number;
  signal: AbortSignal;
}

async function lookAndCheck(action: MailboxAction, step: Step, ctx: MailboxStepContext, plan: StepPlan): Promise<MailboxOutcome> {
  const { definition, where, wanted, started, deadline, signal } = plan;
  const transcript = ctx.transcript;
  const session = await openMailbox(await withCaText(definition), { timeoutMs: step.timeoutMs, signal });
  try {
    const folders = action.folders ?? defaultFolders(await session.folders());
    transcript?.note(`mailbox ${where}: looking for ${wanted.words} in ${folders.join(', ')}`);
    const look = await lookUntil(session, folders, wanted, deadline, signal);
    const waitedMs = Math.round(performance.now() - started);
    const base: DeliveryResult = { mailbox: where, lookedFor: wanted.words, folders, waitedMs, looks: look.looks };
    if (!look.found) {
      // A search by Message-ID lists only that message: what was there instead takes one more look, without it.
      const newest = (wanted.messageId ? await newestSubjects(session, folders) : look.newest).slice(0, SHOWN_SUBJECTS);
      const seen = newest.length === 0 ? 'the folders were empty' : `the newest there: ${newest.map((subject) => `"${subject}"`).join(', ')}`;
      return {
        replies: [],
        sentAt: started,
        failure: `${capitalised(wanted.words)} did not arrive in ${where} within ${seconds(step.timeoutMs)} (looked ${look.looks} times in ${folders.join(', ')}); ${seen}`,
        delivery: { ...base, newest },
      };
    }
    transcript?.note(`mailbox ${where}: found in ${look.found.entry.folder} after ${seconds(waitedMs)}`);
    const checked = await checkFound(action, look.found, session, wanted);
    const delivered = deliveredOf(look.found, checked.headers, ctx.state.sentMessage, look.foundAt, wanted);
    let deleted = false;
    if (action.remove) {
      await session.remove(look.found.entry);
      deleted = true;
      transcript?.note(`mailbox ${where}: deleted what was found`);
    }
    return {
      replies: [],
      sentAt: started,
      ...(checked.failure !== undefined ? { failure: checked.failure } : {}),
      delivery: { ...base, found: delivered, ...(deleted ? { deleted } : {}) },
    };
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** The Message-ID and ENVID of the message sent last. */
async function sentIdentity(sent: SentMessage): Promise<{ messageId?: string; envelopeId?: string }> {
  const fields = await parseHeader(sent.header);
  const messageId = fields.first('message-id');
  return { ...(messageId !== undefined ? { messageId } : {}), ...(sent.envelopeId !== undefined ? { envelopeId: sent.envelopeId } : {}) };
}

function wantedOf(action: MailboxAction, sent: { messageId?: string; envelopeId?: string } | undefined): Wanted | { failure: string } {
  if (action.find) {
    const parts = [...(action.find.messageId ? [`Message-ID ${action.find.messageId}`] : []), ...action.find.headers.map(describeHeaderCheck)];
    return { words: `a message with ${parts.join(' and ')}`, ...(action.find.messageId ? { messageId: action.find.messageId } : {}), headers: action.find.headers, fromSent: false };
  }
  if (!sent) return { failure: 'no message was accepted in this case before this step: put it after a data step that the server accepts, or say what to find with "find:"' };
  if (action.dsn) {
    if (!sent.messageId && !sent.envelopeId) {
      return { failure: 'the message sent last has no Message-ID and its MAIL command no ENVID, so its DSN cannot be told from others: give it one of them' };
    }
    const by = sent.messageId ? `Message-ID ${sent.messageId}` : `ENVID ${sent.envelopeId}`;
    return { words: `a delivery status notification about the message sent last (${by})`, headers: [], dsnOf: sent, fromSent: true };
  }
  if (!sent.messageId) return { failure: 'the message sent last has no Message-ID header, so it cannot be found: give it one, or say what to find with "find:"' };
  return { words: `the message sent last (Message-ID ${sent.messageId})`, messageId: sent.messageId, headers: [], fromSent: true };
}

/** INBOX and the junk folders, as the mailbox names them. */
function defaultFolders(all: readonly string[]): string[] {
  const inbox = all.find((folder) => folder.toUpperCase() === 'INBOX') ?? 'INBOX';
  return [inbox, ...all.filter((folder) => folder !== inbox && JUNK_FOLDER.test(folder))];
}

interface Look {
  found?: Found;
  /** performance.now() at the look that found it. */
  foundAt: number;
  looks: number;
  /** Subjects of the newest messages at the last look, newest first. */
  newest: string[];
}

async function lookUntil(session: MailboxSession, folders: string[], wanted: Wanted, deadline: number, signal: AbortSignal | undefined): Promise<Look> {
  let looks = 0;
  let newest: string[] = [];
  // The same messages come back look after look: each is parsed (and a DSN read) once in this step.
  const notIt = new Map<string, string>();
  for (;;) {
    looks += 1;
    const entries = await session.list(folders, { limit: LIST_LIMIT, ...(wanted.messageId ? { messageId: wanted.messageId } : {}) });
    const subjects: string[] = [];
    for (const entry of entries) {
      const key = `${entry.folder}\u0000${entry.id}`;
      let subject = notIt.get(key);
      if (subject === undefined) {
        const fields = await parseHeader(entry.header);
        const found = await matches(entry, fields, wanted, session);
        if (found) return { found, foundAt: performance.now(), looks, newest };
        notIt.set(key, (subject = fields.first('subject') ?? '(no subject)'));
      }
      subjects.push(subject);
    }
    newest = subjects;
    const left = deadline - performance.now();
    if (left <= 0) return { foundAt: 0, looks, newest };
    await pause(Math.min(left, LOOK_INTERVALS_MS[Math.min(looks - 1, LOOK_INTERVALS_MS.length - 1)]!), signal);
  }
}

async function newestSubjects(session: MailboxSession, folders: string[]): Promise<string[]> {
  const entries = await session.list(folders, { limit: SHOWN_SUBJECTS });
  const subjects: string[] = [];
  for (const entry of entries) subjects.push((await parseHeader(entry.header)).first('subject') ?? '(no subject)');
  return subjects;
}

/** Waits, or stops at once when the run is interrupted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(new MailboxError('aborted', 'the run was interrupted'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = (): void => {
      clearTimeout(timer);
      reject(new MailboxError('aborted', 'the run was interrupted'));
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

async function matches(entry: MailboxEntry, fields: HeaderFields, wanted: Wanted, session: MailboxSession): Promise<Found | undefined> {
  if (wanted.messageId && !fields.all('message-id').some((id) => sameMessageId(id, wanted.messageId!))) return undefined;
  if (wanted.headers.some((check) => headerProblem(fields, check) !== undefined)) return undefined;
  if (!wanted.dsnOf) return { entry, fields };
  // A DSN is a multipart/report of type delivery-status (RFC 3464 §2, RFC 6522).
  const type = fields.first('content-type') ?? '';
  if (!/^multipart\/report\b/i.test(type) || !/report-type\s*=\s*"?delivery-status/i.test(type)) return undefined;
  const parsed = await parseMessage(await session.read(entry, READ_LIMIT_BYTES));
  return refersTo(parsed, fields, wanted.dsnOf) ? { entry, fields, parsed } : undefined;
}

/** A DSN is about the message when it names its ENVID, or quotes or refers to its Message-ID. */
function refersTo(parsed: ParsedMessage, fields: HeaderFields, sent: { messageId?: string; envelopeId?: string }): boolean {
  const report = parsed.report;
  if (!report) return false;
  if (sent.envelopeId !== undefined && report.message.first('original-envelope-id')?.trim() === sent.envelopeId) return true;
  const id = sent.messageId;
  if (id === undefined) return false;
  if ([...fields.all('in-reply-to'), ...fields.all('references')].some((value) => value.includes(id))) return true;
  return report.returned?.includes(id) ?? false;
}

function sameMessageId(value: string, wanted: string): boolean {
  return value.trim().replace(/^<|>$/g, '').toLowerCase() === wanted.replace(/^<|>$/g, '').toLowerCase();
}

/** The checks on what was found; the first that does not hold is the step's failure. */
async function checkFound(action: MailboxAction, found: Found, session: MailboxSession, wanted: Wanted): Promise<{ failure?: string; headers: { name: string; value: string }[] }> {
  const { entry, fields } = found;
  const expect = action.expect;
  const headers = expect.headers.flatMap((check) => fields.all(check.name).slice(0, 1).map((value) => ({ name: check.name, value })));
  const fail = (failure: string) => ({ failure, headers });
  if (expect.folder !== undefined && entry.folder.toLowerCase() !== expect.folder.toLowerCase()) {
    return fail(`${wantedNoun(wanted)} arrived in ${entry.folder}, not ${expect.folder}`);
  }
  if (expect.maxSizeBytes !== undefined && entry.size > expect.maxSizeBytes) {
    return fail(`${wantedNoun(wanted)} is ${entry.size} bytes, more than max_size ${expect.maxSizeBytes}`);
  }
  for (const check of expect.headers) {
    const problem = headerProblem(fields, check);
    if (problem) return fail(problem);
  }
  if (expect.body) {
    found.parsed ??= await parseMessage(await session.read(entry, READ_LIMIT_BYTES));
    if (!matchesPattern(expect.body, found.parsed.text)) return fail(`the body does not contain ${expect.body.written}`);
  }
  if (action.dsn && found.parsed?.report) {
    const problem = dsnProblem(action.dsn, found.parsed.report.recipients);
    if (problem) return fail(problem);
  }
  return { headers };
}

function dsnProblem(check: NonNullable<MailboxAction['dsn']>, recipients: readonly HeaderFields[]): string | undefined {
  const about = check.recipient
    ? recipients.find((fields) => [fields.first('final-recipient'), fields.first('original-recipient')].some((value) => value !== undefined && matchesPattern(check.recipient!, addressOf(value))))
    : recipients[0];
  if (!about) return check.recipient ? `the DSN reports on no recipient matching ${check.recipient.written}` : 'the DSN reports on no recipient';
  const action = about.first('action')?.toLowerCase();
  if (check.action && action !== check.action) return `the DSN says Action: ${action ?? '(none)'}, expected ${check.action}`;
  const status = about.first('status');
  if (check.status && (status === undefined || !matchesPattern(check.status, status))) return `the DSN says Status: ${status ?? '(none)'}, expected ${check.status.written}`;
  return undefined;
}

/** `rfc822; bob@example.test` → `bob@example.test` (RFC 3464 §2.3.2: address-type; address). */
function addressOf(value: string): string {
  const semicolon = value.indexOf(';');
  return (semicolon < 0 ? value : value.slice(semicolon + 1)).trim();
}

function headerProblem(fields: HeaderFields, check: HeaderCheck): string | undefined {
  const values = fields.all(check.name);
  if (!check.present) return values.length > 0 ? `the message has a ${check.name} header, and should not: "${values[0]}"` : undefined;
  if (values.length === 0) return `the message has no ${check.name} header`;
  if (check.pattern && !values.some((value) => matchesPattern(check.pattern!, value))) {
    return `no ${check.name} header matches ${check.pattern.written}: ${values.map((value) => `"${value}"`).join(', ')}`;
  }
  return undefined;
}

function matchesPattern(pattern: TextPattern, text: string): boolean {
  return new RegExp(pattern.source, pattern.flags).test(text);
}

function deliveredOf(found: Found, headers: { name: string; value: string }[], sent: SentMessage | undefined, foundAt: number, wanted: Wanted): DeliveredMessage {
  const { entry, fields } = found;
  const messageId = fields.first('message-id');
  const subject = fields.first('subject');
  const from = fields.first('from');
  const report = found.parsed?.report?.recipients[0];
  const dsn = wanted.dsnOf && report ? dsnFields(report) : undefined;
  return {
    folder: entry.folder,
    ...(messageId !== undefined ? { messageId } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(from !== undefined ? { from } : {}),
    sizeBytes: entry.size,
    ...(sent && wanted.fromSent ? { arrivedAfterMs: Math.max(0, Math.round(foundAt - sent.acceptedAt)) } : {}),
    ...(headers.length > 0 ? { headers } : {}),
    ...(dsn ? { dsn } : {}),
  };
}

function dsnFields(fields: HeaderFields): NonNullable<DeliveredMessage['dsn']> {
  const recipient = fields.first('final-recipient');
  const action = fields.first('action');
  const status = fields.first('status');
  const diagnostic = fields.first('diagnostic-code');
  return {
    ...(recipient !== undefined ? { recipient: addressOf(recipient) } : {}),
    ...(action !== undefined ? { action } : {}),
    ...(status !== undefined ? { status } : {}),
    ...(diagnostic !== undefined ? { diagnostic } : {}),
  };
}

/** The settings with the PEM text of their CA files, read now (each within the certificate size limit). */
async function withCaText(definition: MailboxDefinition): Promise<MailboxSettings> {
  const settings = definition.settings;
  // The plan puts the embedded server's Maildir in its place when it starts the server (or refuses the run).
  if (settings.kind === 'embedded') throw new Error(`mailbox "${definition.name}" was not placed in the embedded server's mail root`);
  if (definition.caFiles.length === 0 || (settings.kind !== 'imap' && settings.kind !== 'pop3')) return settings;
  const ca = definition.caFiles.map((file) => readFileWithin(file, LIMITS.certificate).toString('utf8'));
  return { ...settings, ca };
}

function wantedNoun(wanted: Wanted): string {
  return wanted.dsnOf ? 'the DSN' : 'the message';
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

