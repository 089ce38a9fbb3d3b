import { createInterface, type Interface } from 'node:readline';
import { formatAddress } from '../smtp/address.js';
import { responseSecrets } from '../smtp/auth.js';
import { connect, type SmtpConnection } from '../smtp/client.js';
import { isReplyTimeout } from '../smtp/reply-queue.js';
import { maskReply } from '../smtp/secrets.js';
import { describeTls, type TlsClientOptions } from '../smtp/tls.js';
import { SmtpError, type Reply } from '../smtp/types.js';
import { capabilitiesOf, candidates, complete } from './completion.js';
import { RECORDER_HELP, SessionDisplay } from './display.js';
import { maskEcho, maskedOutput, secretStart } from './masked-echo.js';
import { SessionRecorder, isAuthWithSecret, type RecordedStep, type Typed } from './steps.js';

/**
 * The interactive loop: connect, show the greeting, then for each typed line send it, wait for
 * the reply (within the deadline) and show it, while SessionRecorder turns the exchange into steps.
 * On a terminal the prompt has line editing, history and completion; otherwise lines are read
 * from the input as they come, each one only after the previous reply.
 */

export interface RecordSessionOptions {
  host: string;
  port: number;
  timeoutMs: number;
  tls: TlsClientOptions;
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
  color: boolean;
  /** Aborted on SIGINT / SIGTERM: the session ends and nothing is saved. */
  signal?: AbortSignal;
}

export type SessionOutcome =
  /** The session ended normally (QUIT, .save, end of input, the server closing): save the steps. */
  | { status: 'ended'; steps: RecordedStep[] }
  /** Ctrl-C: nothing is saved. */
  | { status: 'interrupted' }
  /** A network fault: one sentence, nothing is saved. */
  | { status: 'failed'; message: string };

const CLOSE_TIMEOUT_MS = 1000;
const STOPPED = Symbol('stopped');

export function recordSession(options: RecordSessionOptions): Promise<SessionOutcome> {
  return new RecordingSession(options).run();
}

class RecordingSession {
  private readonly display: SessionDisplay;
  private readonly recorder = new SessionRecorder();
  private readonly terminal: boolean;
  private readonly stop = new AbortController();
  private readonly stopped: Promise<never>;
  private capabilities: string[] = [];
  private conn: SmtpConnection | undefined;
  private rl: Interface | undefined;
  /** What the reply being awaited answers, for a timeout's message. */
  private awaiting = 'the greeting';
  /**
   * On a terminal, readline echoes keys only while the prompt is shown. Lines pasted at once
   * arrive while the first one is still waiting for its reply: they are not echoed where the
   * cursor happens to be, but shown as `C:` lines when their turn comes, each before its reply.
   */
  private echoing = false;
  /** For each line read and not yet handled, whether it was echoed at the prompt. */
  private readonly unhandled: boolean[] = [];

  constructor(private readonly options: RecordSessionOptions) {
    this.display = new SessionDisplay(options.output, options.color);
    this.terminal = options.input.isTTY === true && options.output.isTTY === true;
    this.stopped = new Promise<never>((_, reject) => this.stop.signal.addEventListener('abort', () => reject(STOPPED), { once: true }));
    this.stopped.catch(() => {});
  }

  async run(): Promise<SessionOutcome> {
    const onAbort = (): void => this.interrupt();
    this.options.signal?.addEventListener('abort', onAbort, { once: true });
    if (this.options.signal?.aborted) this.interrupt();
    try {
      await this.open();
      await this.loop();
      return this.stop.signal.aborted ? { status: 'interrupted' } : { status: 'ended', steps: this.recorder.steps };
    } catch (error) {
      return this.outcomeOf(error);
    } finally {
      this.options.signal?.removeEventListener('abort', onAbort);
      this.rl?.close();
      await this.conn?.close(CLOSE_TIMEOUT_MS);
    }
  }

  private outcomeOf(error: unknown): SessionOutcome {
    if (this.stop.signal.aborted) return { status: 'interrupted' };
    // Anything but an SmtpError is a fault in smtpspec: the command reports it with its stack.
    if (!(error instanceof SmtpError)) throw error;
    if (error.kind === 'closed' && this.recorder.steps.length > 0) {
      this.endLine();
      this.display.note(`${error.message}: the session ends here`);
      this.recorder.dropUnfinished();
      return { status: 'ended', steps: this.recorder.steps };
    }
    return { status: 'failed', message: this.describe(error) };
  }

  private describe(error: SmtpError): string {
    if (isReplyTimeout(error)) return `${error.message} (waiting for ${this.awaiting})`;
    if (error.phase === 'certificate') {
      return `${error.message} (trust its CA with --ca FILE, or record with --insecure)`;
    }
    return error.message;
  }

  private interrupt(): void {
    if (this.stop.signal.aborted) return;
    this.stop.abort();
    this.rl?.close();
    void this.conn?.close(CLOSE_TIMEOUT_MS);
  }

  /** Rejects as soon as the session is interrupted; `work` is then left to fail on its own. */
  private until<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {});
    return Promise.race([work, this.stopped]);
  }

  private async open(): Promise<void> {
    const { host, port, timeoutMs } = this.options;
    const connecting = connect({ host, port, timeoutMs, writeTimeoutMs: timeoutMs });
    connecting.then((conn) => (this.stop.signal.aborted ? conn.close(0) : undefined), () => {});
    this.conn = await this.until(connecting);
    this.display.note(`connected to ${formatAddress(host, port)}; type SMTP commands (.help for help)`);
    const greeting = await this.until(this.conn.readReply(timeoutMs));
    this.showReply(greeting);
    this.recorder.greeting(greeting);
  }

  private async loop(): Promise<void> {
    const prompt = this.display.prompt;
    // Credentials are echoed as * while they are typed.
    const output = maskedOutput(this.options.output, (chunk) => {
      if (!this.echoing) return '';
      const edited = this.rl ?? { line: '', cursor: 0 };
      return maskEcho(chunk, prompt, edited, secretStart(edited.line, this.recorder.secretNext));
    });
    const rl = createInterface({
      input: this.options.input,
      ...(this.terminal ? { output, completer: (line: string) => this.complete(line) } : {}),
      terminal: this.terminal,
      prompt,
      historySize: this.terminal ? 100 : 0,
    });
    this.rl = rl;
    rl.on('SIGINT', () => this.interrupt());
    rl.on('line', () => {
      this.unhandled.push(this.echoing);
      this.echoing = false;
    });
    // Credentials typed after a 334 (or with AUTH) are not kept for the arrow keys.
    rl.on('history', (history) => {
      if (this.recorder.secretNext || isAuthWithSecret(history[0] ?? '')) history.shift();
    });
    if (this.stop.signal.aborted) return;
    this.prompt();
    let quit = false;
    for await (const line of rl) {
      quit = await this.handle(line, this.unhandled.shift() ?? false);
      if (quit) break;
      // Lines already typed (pasted) are handled first; the prompt comes back when none is left.
      if (this.unhandled.length === 0) this.prompt();
    }
    if (this.stop.signal.aborted) return;
    if (!quit) this.endLine();
    const dropped = this.recorder.dropUnfinished();
    if (dropped > 0) this.display.note(`the message was not ended with a lone ".": its ${dropped} lines are not recorded`);
  }

  private prompt(): void {
    if (!this.terminal) return;
    this.echoing = true;
    this.rl?.prompt();
  }

  /** After Ctrl-D the cursor is still on the prompt line. */
  private endLine(): void {
    if (this.terminal) this.options.output.write('\n');
  }

  private complete(line: string): [string[], string] {
    if (this.recorder.inMessage || this.recorder.secretNext) return [[], line];
    return complete(line, candidates(this.capabilities));
  }

  /** Handles one typed line (`echoed` when the terminal showed it as it was typed); true when the session is over. */
  private async handle(line: string, echoed: boolean): Promise<boolean> {
    const typed = this.recorder.typed(line);
    switch (typed.type) {
      case 'ignore':
        if (this.terminal && !echoed) this.display.client('');
        return false;
      case 'recorder':
        if (this.terminal && !echoed) this.display.client(typed.command);
        return this.recorderCommand(typed.command);
      case 'send':
        return this.send(typed, echoed);
    }
  }

  private recorderCommand(command: string): boolean {
    const name = command.split(/\s+/, 1)[0];
    if (name === '.save') return true;
    if (name === '.help') for (const line of RECORDER_HELP) this.display.note(line);
    else this.display.note(`unknown recorder command ${command} (.help lists them); nothing was sent`);
    return false;
  }

  private async send(typed: Extract<Typed, { type: 'send' }>, echoed: boolean): Promise<boolean> {
    const conn = this.conn as SmtpConnection;
    this.showUnsolicited(conn);
    if (!echoed) this.display.client(typed.shown);
    if (typed.note) this.display.note(typed.note);
    // Registered before the line goes out, as `run` does: the connection's transcript masks them from then on.
    if (typed.credential) {
      const { mechanism, response, index } = typed.credential;
      for (const secret of responseSecrets(mechanism, response, index)) conn.transcript.addSecret(secret);
    }
    await this.until(conn.sendLine(typed.line));
    if (!typed.awaitReply) return false;
    this.awaiting = `the reply to "${typed.shown}"`;
    const reply = await this.until(conn.readReply(this.options.timeoutMs));
    this.showReply(reply);
    this.learn(typed.line, reply);
    const after = this.recorder.replied(reply);
    if (after === 'starttls') await this.startTls(conn);
    return after === 'quit';
  }

  private learn(line: string, reply: Reply): void {
    const verb = (line.trim().split(/\s+/, 1)[0] ?? '').toUpperCase();
    const capabilities = capabilitiesOf(verb, reply);
    if (capabilities) this.capabilities = capabilities;
  }

  private async startTls(conn: SmtpConnection): Promise<void> {
    this.awaiting = 'the TLS handshake';
    const facts = await this.until(conn.startTls(this.options.tls, this.options.timeoutMs));
    this.display.note(describeTls(facts, this.options.tls.verify));
    // RFC 3207 §4.2: what the server said before TLS no longer holds.
    this.capabilities = [];
    this.display.note('the capabilities are forgotten: say EHLO again');
  }

  /** Replies nobody asked for are shown, and not recorded. */
  private showUnsolicited(conn: SmtpConnection): void {
    for (const unread of conn.takeUnsolicited()) {
      if ('reply' in unread) this.showReply(unread.reply, '   (unsolicited, not recorded)');
    }
  }

  /** A reply on screen, masked as `run` masks its transcript: a server may echo the credentials back. */
  private showReply(reply: Reply, label?: string): void {
    this.display.reply(maskReply(reply, (this.conn as SmtpConnection).transcript.secrets), label);
  }
}
