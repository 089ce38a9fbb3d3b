import type { CaseInfo, TranscriptEntry } from '../engine/results.js';
import { formatTarget, printable, transcriptLine } from './format.js';

/**
 * The live session transcript for `run --verbose`, like swaks: `C:` / `S:` lines as they
 * happen, each timed from the start of its session. A heading names the case when its session
 * begins; with several sessions at once, every line starts with the session's number.
 */

export interface LiveTranscriptOptions {
  /** Several sessions run at once: prefix every line with its session's number. */
  concurrent: boolean;
  /** The run has more than one target: name it in each heading. */
  showTarget: boolean;
}

export class LiveTranscript {
  private readonly sessions = new Map<string, number>();
  private lastSession: number | undefined;

  constructor(
    private readonly writeLine: (line: string) => void,
    private readonly options: LiveTranscriptOptions,
  ) {}

  /** For `runWork`'s `onTranscript`. Entries arrive masked; text from the server is escaped here. */
  readonly listener = (info: CaseInfo, entry: TranscriptEntry, attempt = 1): void => {
    const key = `${info.id}\u0000${attempt}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      session = this.sessions.size + 1;
      this.sessions.set(key, session);
      this.emit(session, `--- ${this.heading(info, attempt)}`);
    } else if (!this.options.concurrent && this.lastSession !== session) {
      // Sequential sessions never interleave; this only guards a late entry after the next session began.
      this.emit(session, `--- ${this.heading(info, attempt)} (continued)`);
    }
    this.lastSession = session;
    this.emit(session, printable(transcriptLine(entry)));
  };

  private heading(info: CaseInfo, attempt: number): string {
    const target = this.options.showTarget ? ` @ ${printable(formatTarget(info.target))}` : '';
    const again = attempt > 1 ? ` (attempt ${attempt})` : '';
    return `${printable(info.file)} › ${printable(info.caseName)}${target}${again}`;
  }

  private emit(session: number, text: string): void {
    this.writeLine(this.options.concurrent ? `[${session}] ${text}` : text);
  }
}
