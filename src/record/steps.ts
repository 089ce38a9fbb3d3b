import type { AuthMechanism } from '../scenario/types.js';
import type { Reply } from '../smtp/types.js';

/**
 * What a recorded session turns into, decided one typed line and one reply at a time.
 * No I/O here: the session feeds lines and replies in, and asks what to send and show.
 */

export type RecordedStep =
  | { kind: 'greeting'; reply: Reply }
  | { kind: 'send'; line: string; reply: Reply }
  | { kind: 'starttls'; reply: Reply }
  /** The message as the server reads it: lines un-stuffed, without the final dot. */
  | { kind: 'data'; lines: string[]; reply: Reply }
  | { kind: 'auth'; mechanism: AuthMechanism; initialResponse: boolean; cancel: boolean; reply: Reply };

/** What to do with one typed line. */
export type Typed =
  | { type: 'ignore' }
  /** `.save`, `.help`…: for the recorder, never sent. */
  | { type: 'recorder'; command: string }
  /**
   * Send `line` as typed; `shown` is what may be displayed of it (secrets masked). `credential`: the line
   * carries a response of an AUTH exchange, the `index`th (from 0, the initial response included).
   */
  | { type: 'send'; line: string; shown: string; awaitReply: boolean; note?: string; credential?: { mechanism: string; response: string; index: number } };

/** What the session must do once a reply has been recorded. */
export type AfterReply = 'continue' | 'starttls' | 'quit';

const MECHANISMS: readonly AuthMechanism[] = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'XOAUTH2'];
const CONTINUE = 334;
const MASK = '****';

type Pending =
  | { kind: 'send'; line: string; verb: string }
  | { kind: 'starttls' }
  | { kind: 'data' }
  | { kind: 'auth' };

interface AuthInProgress {
  mechanism: string;
  initialResponse: boolean;
  /** Responses typed after a 334. */
  responses: number;
  cancel: boolean;
}

/** The typed form of an SMTP message line as the server reads it: a leading dot is removed (RFC 5321 §4.5.2). */
export function unstuff(line: string): string {
  return line.startsWith('.') ? line.slice(1) : line;
}

/** AUTH with an initial response carries a secret on the command line itself. */
export function isAuthWithSecret(line: string): boolean {
  return /^AUTH\s+\S+\s+\S/i.test(line.trim());
}

export class SessionRecorder {
  readonly steps: RecordedStep[] = [];
  private mode: 'command' | 'data' | 'auth' = 'command';
  private pending: Pending | undefined;
  private message: string[] = [];
  private auth: AuthInProgress | undefined;

  /** True while message lines are being typed (after a 354, until the lone dot). */
  get inMessage(): boolean {
    return this.mode === 'data';
  }

  /** True when the next typed line answers a 334 challenge: a credential, never shown or kept. */
  get secretNext(): boolean {
    return this.mode === 'auth';
  }

  greeting(reply: Reply): void {
    this.steps.push({ kind: 'greeting', reply });
  }

  typed(line: string): Typed {
    if (this.mode === 'data') return this.messageLine(line);
    if (this.mode === 'auth') return this.authResponse(line);
    const trimmed = line.trim();
    if (trimmed === '') return { type: 'ignore' };
    if (trimmed.startsWith('.')) return { type: 'recorder', command: trimmed };
    const verb = (trimmed.split(/\s+/, 1)[0] ?? '').toUpperCase();
    if (verb === 'STARTTLS' && trimmed.toUpperCase() === 'STARTTLS') {
      this.pending = { kind: 'starttls' };
      return { type: 'send', line, shown: line, awaitReply: true };
    }
    if (verb === 'AUTH') return this.authCommand(line);
    this.pending = { kind: 'send', line, verb };
    return { type: 'send', line, shown: line, awaitReply: true };
  }

  /** Records the reply to the line sent last; tells the session what to do next. */
  replied(reply: Reply): AfterReply {
    const pending = this.pending;
    this.pending = undefined;
    if (!pending) return 'continue';
    switch (pending.kind) {
      case 'send':
        this.steps.push({ kind: 'send', line: pending.line, reply });
        if (pending.verb === 'DATA' && reply.code === 354) this.mode = 'data';
        return pending.verb === 'QUIT' ? 'quit' : 'continue';
      case 'starttls':
        this.steps.push({ kind: 'starttls', reply });
        return reply.code === 220 ? 'starttls' : 'continue';
      case 'data':
        this.steps.push({ kind: 'data', lines: this.message, reply });
        this.message = [];
        this.mode = 'command';
        return 'continue';
      case 'auth':
        this.authReplied(reply);
        return 'continue';
    }
  }

  /** Input ended inside a message: the lines typed so far are not a step. Returns how many were dropped. */
  dropUnfinished(): number {
    const dropped = this.mode === 'data' ? this.message.length : 0;
    this.message = [];
    this.mode = 'command';
    this.pending = undefined;
    this.auth = undefined;
    return dropped;
  }

  private messageLine(line: string): Typed {
    if (line === '.') {
      this.pending = { kind: 'data' };
      return { type: 'send', line, shown: line, awaitReply: true };
    }
    this.message.push(unstuff(line));
    return { type: 'send', line, shown: line, awaitReply: false };
  }

  private authCommand(line: string): Typed {
    const [, mechanism = '', initial] = line.trim().split(/\s+/);
    this.auth = { mechanism: mechanism.toUpperCase(), initialResponse: initial !== undefined, responses: 0, cancel: false };
    this.pending = { kind: 'auth' };
    const shown = initial === undefined ? line : `AUTH ${mechanism} ${MASK}`;
    const known = (MECHANISMS as readonly string[]).includes(this.auth.mechanism);
    const note = known ? undefined : `AUTH ${mechanism} is sent, but not recorded: replay knows ${MECHANISMS.join(', ')}`;
    const credential = initial === undefined ? undefined : { mechanism: this.auth.mechanism, response: initial, index: 0 };
    return { type: 'send', line, shown, awaitReply: true, ...(note ? { note } : {}), ...(credential ? { credential } : {}) };
  }

  private authResponse(line: string): Typed {
    const auth = this.auth as AuthInProgress;
    auth.responses += 1;
    if (line.trim() === '*' && auth.responses === 1 && !auth.initialResponse) auth.cancel = true;
    this.pending = { kind: 'auth' };
    const credential = { mechanism: auth.mechanism, response: line, index: auth.responses - (auth.initialResponse ? 0 : 1) };
    return { type: 'send', line, shown: line.trim() === '*' ? '*' : MASK, awaitReply: true, credential };
  }

  private authReplied(reply: Reply): void {
    const auth = this.auth as AuthInProgress;
    if (reply.code === CONTINUE) {
      this.mode = 'auth';
      return;
    }
    this.mode = 'command';
    this.auth = undefined;
    const mechanism = MECHANISMS.find((m) => m === auth.mechanism);
    if (!mechanism) return;
    this.steps.push({ kind: 'auth', mechanism, initialResponse: auth.initialResponse, cancel: auth.cancel, reply });
  }
}
