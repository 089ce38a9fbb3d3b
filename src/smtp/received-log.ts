import type { Transcript } from './transcript.js';
import { SmtpError } from './types.js';

/** Longest server line kept in the transcript; the reply itself keeps every byte. */
const TRANSCRIPT_LINE_CHARS = 1000;

/**
 * Writes the server's lines to the transcript, each once, masked and cut. Lines of an unfinished
 * multiline reply go to the transcript as they arrive, not when it ends.
 */
export class ReceivedLog {
  /** Lines of the reply in progress already written to the transcript. */
  private logged = 0;

  constructor(private readonly transcript: Transcript) {}

  /** The lines of a reply that just ended, complete or broken. */
  ended(raw: readonly string[]): void {
    for (let i = this.logged; i < raw.length; i++) this.line(raw[i]!);
    this.logged = 0;
  }

  /** The lines so far of the reply in progress. */
  pending(raw: readonly string[]): void {
    for (let i = this.logged; i < raw.length; i++) this.line(raw[i]!);
    this.logged = raw.length;
  }

  /** Forgets the reply in progress (the stream was swapped at STARTTLS). */
  reset(): void {
    this.logged = 0;
  }

  /** `error` with any secret in its message and lines masked. */
  masked(error: SmtpError): SmtpError {
    const mask = (text: string): string => this.transcript.mask(text);
    return new SmtpError(error.kind, error.phase, mask(error.message), error.partialLines.map(mask));
  }

  /** A line the server printed before its greeting: a note, so that no one takes it for a reply. */
  beforeGreeting(line: string): void {
    const shown = line === '' ? '(empty line)' : this.transcript.secrets.maskCut(line, TRANSCRIPT_LINE_CHARS);
    this.transcript.note(`before the greeting: ${shown}`);
  }

  /** Masked before it is cut (the whole line is at hand), so no part of a secret survives the cut. */
  private line(line: string): void {
    this.transcript.serverCut(line, TRANSCRIPT_LINE_CHARS);
  }
}
