import type { SourcePos } from '../errors.js';
import type { Transcript } from '../smtp/transcript.js';
import type { RuntimeText, Step } from '../scenario/types.js';
import { describeExpectation } from './match.js';
import { mailboxStepWords } from './mailbox-words.js';
import { checkStepWords } from './check-words.js';
import { plural } from '../words.js';

/** Values captured so far in a session, by name. */
export type CapturedValues = ReadonlyMap<string, string>;

/** A runtime text as written; captured variables show their values when given, `${name}` when not captured (yet). */
export function writtenText(text: RuntimeText, captures?: CapturedValues): string {
  if (typeof text === 'string') return text;
  return text.parts.map((part) => (typeof part === 'string' ? part : (captures?.get(part.capture) ?? `\${${part.capture}}`))).join('');
}

/** Whether the step's label shows a value captured while the session runs, so differs from session to session. */
function labelUsesCaptures(step: Step): boolean {
  if (step.name) return false;
  const action = step.action;
  if (action.type === 'send') return typeof action.line !== 'string';
  if (action.type === 'pipeline') return action.commands.some((command) => typeof command.line !== 'string');
  return false;
}

function dataLabel(step: Extract<Step['action'], { type: 'data' }>): string {
  const via = step.bdatChunkBytes !== undefined ? ' with BDAT' : '';
  const source = step.source;
  if (source.kind === 'file') return `data from ${source.path}${via}`;
  if (source.kind === 'compose') return `data (composed message)${via}`;
  const text = writtenText(source.text);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  return `data (${plural(lines, 'line')})${via}`;
}

/** The label a step gets in reports when the file gives it no name: what it sends, with the values captured so far. */
export function stepLabel(step: Step, transcript?: Transcript, captures?: CapturedValues): string {
  if (step.name) return step.name;
  const mask = (text: string) => (transcript ? transcript.mask(text) : text);
  const action = step.action;
  switch (action.type) {
    case 'read':
      return step.index === 0 ? 'greeting' : 'read reply';
    case 'send':
      return `send: ${mask(writtenText(action.line, captures))}`;
    case 'data':
      return dataLabel(action);
    case 'starttls':
      return 'starttls';
    case 'auth':
      return `auth ${action.mechanism} as ${mask(action.username)}`;
    case 'pipeline':
      return `pipeline: ${action.commands.map((c) => mask(writtenText(c.line, captures))).join(' | ')}`;
    case 'raw':
      return `raw (${action.bytes.length} bytes)`;
    case 'mailbox':
      return mailboxStepWords(action).label;
    case 'dns':
      // A domain or an address in the label may come from a secret variable.
      return mask(checkStepWords(action.spec).label);
  }
}

/** The fields every step result starts with. */
export interface StepHead {
  index: number;
  pos: SourcePos;
  label: string;
  expected: string;
}

/**
 * The step's index, position, label and expectation. The label's own words are never masked, only the text the
 * step sends; the expectation is smtpspec's words and the file's, with secret variables masked where they were expanded.
 */
export function stepHead(step: Step, transcript: Transcript, captures?: CapturedValues): Readonly<StepHead> {
  const action = step.action;
  const expected = action.type === 'mailbox' ? mailboxStepWords(action).expected : action.type === 'dns' ? checkStepWords(action.spec).expected : describeExpectation(step.expect);
  return { index: step.index, pos: step.pos, label: stepLabel(step, transcript, captures), expected };
}

/**
 * The heads of a run's steps, each made once when nothing needs masking: the sessions of a run repeat the same
 * steps, and their results then share one label and one expectation text (with the run's shared records:
 * `npm run bench -- retained`, which shows heap and CPU with and without). Made by the run and dropped with it.
 */
export class StepHeads {
  private readonly plain = new WeakMap<Step, Readonly<StepHead>>();

  of(step: Step, transcript: Transcript, captures?: CapturedValues): Readonly<StepHead> {
    if (transcript.hasSecrets || labelUsesCaptures(step)) return stepHead(step, transcript, captures);
    let head = this.plain.get(step);
    if (!head) {
      head = stepHead(step, transcript);
      this.plain.set(step, head);
    }
    return head;
  }
}
