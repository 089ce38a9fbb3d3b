import { stat } from 'node:fs/promises';
import { describeExpectation } from '../engine/match.js';
import { writtenText } from '../engine/step-label.js';
import { mailboxStepWords } from '../engine/mailbox-words.js';
import { checkStepWords } from '../engine/check-words.js';
import { describeDefinition } from '../scenario/mailboxes.js';
import { DotStuffEncoder } from '../smtp/dot-stuff.js';
import { messageStream } from '../smtp/message.js';
import { DataLog, logRaw } from '../smtp/sent-log.js';
import { Transcript } from '../smtp/transcript.js';
import type { AuthAction, MessageSource, Scenario, Step, StepAction } from '../scenario/types.js';

/**
 * What a step would send, as transcript lines (`C: …`, `S: …`, `* …`), each with the
 * expectation checked at that point. Built from the scenario alone: nothing is sent.
 * Credentials never appear: every AUTH response is masked, as in a real transcript.
 */

export interface PreviewRow {
  text: string;
  /** What is checked after this line: `expect 250`, `expect 2xx, capture id`. */
  check?: string;
}

const MASK = '****';

/** A scratch transcript with the case's secrets: lines logged into it come out exactly as a real transcript's. */
export function scratch(secrets: string[]): Transcript {
  return new Transcript({ secrets, now: () => 0 });
}

function sent(transcript: Transcript): PreviewRow[] {
  return transcript.entries.map((entry) => ({ text: entry.dir === '*' ? `* ${entry.text}` : `${entry.dir}: ${entry.text}` }));
}

/** The checks of a step besides its reply code, in words. */
function extras(step: Step): string[] {
  const parts: string[] = [];
  if (step.capabilities) parts.push(...step.capabilities.written);
  if (step.capture) parts.push(`capture ${step.capture.map((c) => c.name).join(', ')}`);
  if (step.withinMs !== undefined) parts.push(`within ${step.withinMs} ms`);
  if (step.tls) parts.push('TLS checks');
  return parts;
}

function checkOf(step: Step): string {
  const expect = step.expectEach
    ? `expect each: ${step.expectEach.map((e) => describeExpectation(e)).join('; ')}`
    : `expect ${describeExpectation(step.expect)}`;
  return [expect, ...extras(step)].join(', ');
}

/** Puts the step's check on its last row. */
function withCheck(rows: PreviewRow[], check: string): PreviewRow[] {
  if (rows.length === 0) return [{ text: '', check }];
  const last = rows[rows.length - 1]!;
  return [...rows.slice(0, -1), { ...last, check }];
}

async function messageRows(source: MessageSource, bdatChunkBytes: number | undefined, secrets: string[]): Promise<PreviewRow[]> {
  if (source.kind === 'file') {
    const size = await stat(source.path).then((info) => `${info.size} bytes`, () => 'size unknown');
    const how = bdatChunkBytes === undefined ? 'then "."' : `in BDAT chunks of ${bdatChunkBytes} bytes`;
    return [{ text: `C: <the message in ${source.path} (${size}), ${how}>` }];
  }
  const transcript = scratch(secrets);
  const encoder = new DotStuffEncoder();
  const log = new DataLog(transcript);
  // Captured variables are only known at run time: they show as ${name}.
  for await (const chunk of messageStream(source, { resolveText: writtenText })) log.push(encoder.push(chunk));
  const tail = encoder.finish();
  log.push(tail.subarray(0, tail.length - 3));
  log.finish(bdatChunkBytes === undefined);
  const rows = sent(transcript);
  if (bdatChunkBytes !== undefined) rows.unshift({ text: `C: BDAT … (the message in chunks of ${bdatChunkBytes} bytes, the last with LAST)` });
  return rows;
}

/** The lines of an AUTH exchange, as a run shows them: each response that carries the password or token masked; LOGIN's user name shown. */
function authRows(action: AuthAction): PreviewRow[] {
  const command = `C: AUTH ${action.mechanism}`;
  if (action.cancel) return [{ text: command }, { text: 'C: *' }];
  switch (action.mechanism) {
    case 'PLAIN':
    case 'XOAUTH2':
      return action.initialResponse ? [{ text: `${command} ${MASK}` }] : [{ text: command }, { text: `C: ${MASK}` }];
    case 'LOGIN': {
      const user = Buffer.from(action.username, 'utf8').toString('base64');
      return action.initialResponse
        ? [{ text: `${command} ${user === '' ? '=' : user}` }, { text: `C: ${MASK}` }]
        : [{ text: command }, { text: `C: ${user}` }, { text: `C: ${MASK}` }];
    }
    case 'CRAM-MD5':
      return [{ text: command }, { text: `C: ${MASK} (the answer to the server's challenge)` }];
  }
}

function tlsNote(scenario: Scenario, host: string | undefined): string {
  const name = scenario.tls.servername ?? host;
  const verify = scenario.tls.verify ? 'certificate verified' : 'certificate NOT verified (tls.verify: false)';
  return `* TLS handshake${name ? ` for ${name}` : ''}, ${verify}`;
}

async function actionRows(action: StepAction, step: Step, scenario: Scenario, host: string | undefined, secrets: string[]): Promise<PreviewRow[]> {
  switch (action.type) {
    case 'read':
      return [{ text: step.index === 0 ? 'S: (the greeting)' : 'S: (a reply)' }];
    case 'send':
      return [{ text: `C: ${writtenText(action.line)}` }];
    case 'data':
      return messageRows(action.source, action.bdatChunkBytes, secrets);
    case 'starttls':
      return [{ text: 'C: STARTTLS', check: checkOf(step) }, { text: tlsNote(scenario, host) }];
    case 'auth':
      return authRows(action);
    case 'pipeline':
      return action.commands.map((command) => ({ text: `C: ${writtenText(command.line)}`, check: `expect ${describeExpectation(command.expect)}` }));
    case 'raw': {
      const transcript = scratch(secrets);
      logRaw(transcript, action.bytes);
      return sent(transcript);
    }
    case 'mailbox': {
      const mailbox = scenario.mailboxes?.[action.mailbox];
      const where = mailbox ? describeDefinition(mailbox) : action.mailbox;
      return [{ text: `* look in mailbox ${action.mailbox} (${where}) for ${mailboxStepWords(action).label.replace(/^mailbox [^:]*: /, '')}, for up to ${step.timeoutMs / 1000} s` }];
    }
    case 'dns':
      return [{ text: scratch(secrets).mask(`* check ${checkStepWords(action.spec).label}`) }];
  }
}

/** The rows of one step: what it sends and, where its reply is read, what is expected of it. */
export async function stepRows(step: Step, scenario: Scenario, host: string | undefined, secrets: string[]): Promise<PreviewRow[]> {
  const action = step.action;
  let rows = await actionRows(action, step, scenario, host, secrets);
  if (action.type === 'raw' && !action.readReply) rows = withCheck(rows, 'no reply read');
  else if (action.type === 'mailbox') rows = withCheck(rows, mailboxStepWords(action).expected);
  else if (action.type === 'dns') rows = withCheck(rows, checkStepWords(action.spec).expected);
  else if (action.type !== 'pipeline' && action.type !== 'starttls') rows = withCheck(rows, checkOf(step));
  if (step.when) rows = [{ text: `(only when ${step.when.written})` }, ...rows];
  return rows;
}
