import { authenticate } from '../smtp/auth.js';
import type { SmtpConnection } from '../smtp/client.js';
import { isReplyTimeout, type Unread } from '../smtp/reply-queue.js';
import { messageStream } from '../smtp/message.js';
import { SmtpError, type Reply } from '../smtp/types.js';
import { WRITTEN } from '../smtp/writer.js';
import { isTcpTarget, type MessageSource, type ReplyExpectation, type RuntimeText, type Step, type StepAction } from '../scenario/types.js';
import { describeReply, matchReply } from './match.js';
import { resolveText, SENT_HEADER_BYTES, trackCommand } from './session-state.js';
import { noteSentMessage, SentHeader } from './sent-message.js';
import { plural } from '../words.js';
import { runMailboxStep } from './mailbox-step.js';
import { runCheckStep } from './check-step.js';
import type { CheckOutcome, DeliveryResult } from './results.js';
import type { StepContext } from './step-context.js';

export type { StepContext };

/** The context of a step that talks to the SMTP server: there is a session. */
export type SessionContext = StepContext & { conn: SmtpConnection };

/** What an action did: every reply it read, the one the step's checks apply to, and a failure if one was found. */
export interface ActionOutcome {
  replies: Reply[];
  /** The reply that `expect`, `text`, `capabilities` and `capture` are checked against. */
  main?: Reply;
  /** A failure the action found itself (per-command expectations, chunk replies, reply counts). */
  failure?: string;
  /** What `main` was checked against when it is not the step's own expectation: that of a pipelined command. */
  expectation?: ReplyExpectation;
  /** What was sent, for reports (secrets masked by the caller). */
  sent?: string;
  /** performance.now() when the last byte was handed to the connection. */
  sentAt: number;
  /** performance.now() when the last reply arrived, when work followed it (the STARTTLS handshake); default: when the action ended. */
  repliedAt?: number;
  /** What a mailbox step looked for and found. */
  delivery?: DeliveryResult;
  /** A DNS check step's result; its verdict decides the step (fail: failed, error: error). */
  check?: CheckOutcome;
}

/** An exchange of several replies that broke off part-way; the replies that did come belong in the step's result. */
export class PartialRepliesError extends SmtpError {
  constructor(
    cause: SmtpError,
    readonly replies: Reply[],
  ) {
    super(cause.kind, cause.phase, cause.message, cause.partialLines);
  }
}

/** A reply arrived, then the work it called for failed (the TLS handshake after a 220 to STARTTLS): the reply belongs in the step's result. */
export class AfterReplyError extends SmtpError {
  constructor(
    cause: SmtpError,
    readonly reply: Reply,
    readonly sent: string,
  ) {
    super(cause.kind, cause.phase, cause.message, cause.partialLines);
  }
}

/** Reads the next reply of a multi-reply exchange into `replies`; a failure carries those read before it. */
async function readInto(replies: Reply[], ctx: SessionContext, timeoutMs: number): Promise<Reply> {
  try {
    const reply = await ctx.conn.readReply(timeoutMs);
    replies.push(reply);
    return reply;
  } catch (error) {
    if (error instanceof SmtpError && replies.length > 0) throw new PartialRepliesError(error, [...replies]);
    throw error;
  }
}

/**
 * Fails the step when the server has sent something nobody asked for: it must never pass for the
 * answer to `what` (a command, quoted when `command` is set, or `the message`). Only what has arrived by now is seen.
 */
function refuseUnsolicited(ctx: SessionContext, what: string, command = false): void {
  if (!ctx.conn.hasUnread) return;
  const unread = ctx.conn.takeUnsolicited();
  if (unread.length === 0) return;
  if (command) what = quoted(what);
  const more = unread.length - 1;
  const others = more > 0 ? ` (and ${plural(more, 'more reply', 'more replies')})` : '';
  throw new SmtpError('protocol', 'reply', `the server sent a reply nobody asked for before ${what}: ${describeUnread(unread[0]!)}${others}`);
}

function describeUnread(unread: Unread): string {
  if ('reply' in unread) return describeReply(unread.reply);
  if ('error' in unread) return unread.error.message;
  return `${unread.partial} (incomplete)`;
}

const quoted = (command: string): string => `"${command}"`;

/** Runs a step's action. It may also throw at once, before anything is sent: the caller awaits it inside its try. */
type Executor<A extends StepAction> = (action: A, step: Step, ctx: SessionContext) => Promise<ActionOutcome>;

const read: Executor<{ type: 'read' }> = async (_action, step, ctx) => {
  const sentAt = performance.now();
  const reply = await ctx.conn.readReply(step.timeoutMs);
  if (ctx.state.lastCode === 0) ctx.state.greeting = reply.lines[0] ?? '';
  return { replies: [reply], main: reply, sentAt };
};

/** CR or LF in a line would smuggle a second command; the file's text and variables are checked at load time, captures only now. */
function commandLine(text: RuntimeText, ctx: SessionContext): string {
  if (typeof text === 'string') return text;
  const line = resolveText(text, ctx.state.captures);
  if (line.includes('\r') || line.includes('\n')) throw new SmtpError('protocol', 'send', 'refusing to send a command with a line break in it (from a captured variable)');
  return line;
}

const send: Executor<{ type: 'send'; line: RuntimeText }> = async (action, step, ctx) => {
  const line = commandLine(action.line, ctx);
  refuseUnsolicited(ctx, line, true);
  await ctx.conn.sendLine(line);
  const sentAt = performance.now();
  const reply = await ctx.conn.readReply(step.timeoutMs);
  trackCommand(ctx.state, line, reply);
  return { replies: [reply], main: reply, sent: line, sentAt };
};

/** The message's bytes; for DATA, a file's lines as they are (its encoder puts every line ending right in its one pass). */
function messageBytes(source: MessageSource, ctx: SessionContext, forData = false): AsyncIterable<Uint8Array> {
  return messageStream(source, { resolveText: (text) => resolveText(text, ctx.state.captures), utf8Headers: ctx.state.smtputf8, rawFileLines: forData });
}

/**
 * Re-slices a byte stream into chunks of exactly `size` bytes (the last may be shorter), knowing which is last.
 * Each byte is copied once, into the chunk being filled (the source may reuse its memory): a chunk of any size
 * costs one pass over its bytes, and no more than two chunks are held at a time.
 */
export async function* bdatChunks(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<{ chunk: Buffer; last: boolean }> {
  let filling: Buffer | undefined;
  let filled = 0;
  let ready: Buffer | undefined;
  for await (const piece of source) {
    for (let at = 0; at < piece.length; ) {
      filling ??= Buffer.allocUnsafeSlow(size);
      const end = Math.min(piece.length, at + size - filled);
      filling.set(piece.subarray(at, end), filled);
      filled += end - at;
      at = end;
      if (filled < size) continue;
      if (ready) yield { chunk: ready, last: false };
      ready = filling;
      filling = undefined;
      filled = 0;
    }
  }
  const rest = filling ? filling.subarray(0, filled) : Buffer.alloc(0);
  if (ready && rest.length === 0) {
    yield { chunk: ready, last: true };
    return;
  }
  if (ready) yield { chunk: ready, last: false };
  yield { chunk: rest, last: true };
}

/**
 * RFC 3030: every chunk gets a reply; a refused chunk ends the transfer.
 * Under LMTP the LAST chunk gets one reply per accepted recipient instead (RFC 2033 §4.2).
 */
async function sendWithBdat(source: MessageSource, chunkBytes: number, step: Step, ctx: SessionContext): Promise<ActionOutcome> {
  const header = new SentHeader();
  const outcome = await bdatExchange(source, chunkBytes, step, ctx, header);
  noteSentMessage(ctx.state, header, outcome);
  return outcome;
}

async function bdatExchange(source: MessageSource, chunkBytes: number, step: Step, ctx: SessionContext, header: SentHeader): Promise<ActionOutcome> {
  const replies: Reply[] = [];
  let sentAt = performance.now();
  for await (const { chunk, last } of bdatChunks(header.through(messageBytes(source, ctx)), chunkBytes)) {
    refuseUnsolicited(ctx, `BDAT ${chunk.length}${last ? ' LAST' : ''}`, true);
    await ctx.conn.sendBdat(chunk, last);
    sentAt = performance.now();
    if (last && ctx.scenario.protocol === 'lmtp') {
      const outcome = await readLmtpReplies(step, ctx, sentAt, replies);
      ctx.state.acceptedRecipients = 0;
      return outcome;
    }
    const reply = await readInto(replies, ctx, step.timeoutMs);
    if (!last && (reply.code < 200 || reply.code >= 300)) {
      return { replies, main: reply, sentAt, failure: `BDAT chunk ${replies.length} was refused: ${reply.code} ${reply.lines[0] ?? ''}`.trimEnd() };
    }
  }
  ctx.state.acceptedRecipients = 0;
  return { replies, main: replies.at(-1), sentAt };
}

/** LMTP (RFC 2033 §4.2): after the final dot, one reply per accepted recipient, in RCPT order, added to `replies`. */
async function readLmtpReplies(step: Step, ctx: SessionContext, sentAt: number, replies: Reply[] = []): Promise<ActionOutcome> {
  const expected = ctx.state.acceptedRecipients;
  const each: (ReplyExpectation | undefined)[] = step.expectEach ?? Array.from({ length: expected }, () => step.expect);
  if (step.expectEach && step.expectEach.length !== expected) {
    return {
      replies,
      ...(replies.length > 0 ? { main: replies.at(-1) } : {}),
      sentAt,
      failure: `expect_each lists ${step.expectEach.length} replies, but ${expected} recipient${expected === 1 ? ' was' : 's were'} accepted`,
    };
  }
  for (let i = 0; i < Math.max(expected, 1); i++) {
    const reply = await readInto(replies, ctx, step.timeoutMs);
    const match = matchReply(each[i], reply);
    if (!match.ok) return { replies, main: reply, sentAt, failure: `recipient ${i + 1} of ${expected}: ${match.reason}` };
  }
  return { replies, main: replies.at(-1), sentAt };
}

const data: Executor<Extract<StepAction, { type: 'data' }>> = async (action, step, ctx) => {
  if (action.bdatChunkBytes !== undefined) return sendWithBdat(action.source, action.bdatChunkBytes, step, ctx);
  refuseUnsolicited(ctx, 'the message');
  const source = action.source;
  const header = new SentHeader();
  // Text without captured variables cannot fail to resolve: it goes out whole, with no stream to set up.
  if (source.kind === 'text' && typeof source.text === 'string') {
    header.take(Buffer.from(source.text.slice(0, SENT_HEADER_BYTES), 'utf8'));
    const writing = ctx.conn.sendData(source.text);
    if (writing !== WRITTEN) await writing;
  } else await ctx.conn.sendDataStream(header.through(messageBytes(source, ctx, true)));
  const sentAt = performance.now();
  ctx.state.inDataPhase = false;
  if (ctx.scenario.protocol === 'lmtp') {
    const outcome = await readLmtpReplies(step, ctx, sentAt);
    ctx.state.acceptedRecipients = 0;
    noteSentMessage(ctx.state, header, outcome);
    return outcome;
  }
  const reply = await ctx.conn.readReply(step.timeoutMs);
  ctx.state.acceptedRecipients = 0;
  const outcome: ActionOutcome = { replies: [reply], main: reply, sentAt };
  noteSentMessage(ctx.state, header, outcome);
  return outcome;
};

function tlsServername(ctx: SessionContext): string | undefined {
  if (ctx.scenario.tls.servername) return ctx.scenario.tls.servername;
  return isTcpTarget(ctx.target) ? ctx.target.host : undefined;
}

/** RFC 3207: STARTTLS, a 220, then the handshake with nothing sent in between; capabilities are forgotten. */
const starttls: Executor<{ type: 'starttls' }> = async (_action, step, ctx) => {
  refuseUnsolicited(ctx, 'STARTTLS', true);
  await ctx.conn.sendLine('STARTTLS');
  const sentAt = performance.now();
  const reply = await ctx.conn.readReply(step.timeoutMs);
  const repliedAt = performance.now();
  if (reply.code !== 220 || !matchReply(step.expect, reply).ok) return { replies: [reply], main: reply, sent: 'STARTTLS', sentAt };
  const { implicit: _implicit, ...settings } = ctx.scenario.tls;
  try {
    await ctx.conn.startTls({ ...settings, servername: tlsServername(ctx) }, step.timeoutMs);
  } catch (error) {
    if (error instanceof SmtpError) throw new AfterReplyError(error, reply, 'STARTTLS');
    throw error;
  }
  ctx.state.ehloLines = undefined;
  ctx.state.acceptedRecipients = 0;
  return { replies: [reply], main: reply, sent: 'STARTTLS', sentAt, repliedAt };
};

const auth: Executor<Extract<StepAction, { type: 'auth' }>> = async (action, step, ctx) => {
  refuseUnsolicited(ctx, `AUTH ${action.mechanism}`, true);
  const started = performance.now();
  const outcome = await authenticate(ctx.conn, action, step.timeoutMs);
  return { replies: outcome.replies, main: outcome.reply, sent: `AUTH ${action.mechanism}`, sentAt: started };
};

/** RFC 2920: one write, then one reply per command in order; every reply is checked, a missing one is reported. */
const pipeline: Executor<Extract<StepAction, { type: 'pipeline' }>> = async (action, step, ctx) => {
  const lines = action.commands.map((command) => commandLine(command.line, ctx));
  refuseUnsolicited(ctx, lines[0] ?? 'the pipelined commands', true);
  await ctx.conn.sendLines(lines);
  const sentAt = performance.now();
  const replies: Reply[] = [];
  const sent = lines.join(' | ');
  // The first reply that does not match is the step's verdict, with its command, expectation and reply.
  let mismatch: { reply: Reply; expectation: ReplyExpectation | undefined; failure: string } | undefined;
  for (const [i, command] of action.commands.entries()) {
    let reply: Reply;
    try {
      reply = await readInto(replies, ctx, step.timeoutMs);
    } catch (error) {
      if (!(error instanceof SmtpError)) throw error;
      const got = `got ${replies.length} of ${lines.length} replies to the pipelined group`;
      // A server that refuses a command and then closes (or falls silent) has already given its answer: the mismatch stays the verdict.
      if (mismatch) return { replies, main: mismatch.reply, expectation: mismatch.expectation, sent, sentAt, failure: `${mismatch.failure}; then ${error.message} (${got})` };
      if (isReplyTimeout(error)) error.message = `${error.message}: ${got}`;
      throw error;
    }
    trackCommand(ctx.state, lines[i]!, reply);
    const match = matchReply(command.expect, reply);
    if (!match.ok && !mismatch) mismatch = { reply, expectation: command.expect, failure: `command ${i + 1} of ${lines.length} (${lines[i]}): ${match.reason}` };
  }
  if (mismatch) return { replies, main: mismatch.reply, expectation: mismatch.expectation, sent, sentAt, failure: mismatch.failure };
  return { replies, main: replies.at(-1), sent, sentAt };
};

const raw: Executor<Extract<StepAction, { type: 'raw' }>> = async (action, step, ctx) => {
  refuseUnsolicited(ctx, 'the raw bytes');
  await ctx.conn.sendRaw(action.bytes);
  const sentAt = performance.now();
  if (!action.readReply) return { replies: [], sentAt };
  const reply = await ctx.conn.readReply(step.timeoutMs);
  return { replies: [reply], main: reply, sentAt };
};

export function executeAction(step: Step, ctx: StepContext): Promise<ActionOutcome> {
  const action = step.action;
  if (action.type === 'mailbox') return runMailboxStep(action, step, ctx);
  if (action.type === 'dns') return runCheckStep(action, step, ctx);
  if (!hasSession(ctx)) return Promise.reject(new Error(`smtpspec bug: a ${action.type} step was to run without a session`));
  return sessionAction(action, step, ctx);
}

/** The context itself, not a copy: the steps of a session share it, and a step changes what it holds. */
function hasSession(ctx: StepContext): ctx is SessionContext {
  return ctx.conn !== undefined;
}

function sessionAction(action: Exclude<StepAction, { type: 'mailbox' | 'dns' }>, step: Step, ctx: SessionContext): Promise<ActionOutcome> {
  switch (action.type) {
    case 'read':
      return read(action, step, ctx);
    case 'send':
      return send(action, step, ctx);
    case 'data':
      return data(action, step, ctx);
    case 'starttls':
      return starttls(action, step, ctx);
    case 'auth':
      return auth(action, step, ctx);
    case 'pipeline':
      return pipeline(action, step, ctx);
    case 'raw':
      return raw(action, step, ctx);
  }
}
