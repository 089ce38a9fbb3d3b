import { printable, replyLines } from '../report/format.js';
import type { Reply } from '../smtp/types.js';

/** How the session looks on screen: `S:` replies whole, `C:` commands, `*` notes; colour only when asked. */

const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const CLASS_COLOURS: Record<string, string> = { '2': '\x1b[32m', '3': '\x1b[36m', '4': '\x1b[33m', '5': '\x1b[31m' };

export const PROMPT = 'C: ';

export class SessionDisplay {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly color: boolean,
  ) {}

  /** The prompt, coloured like the `C:` lines. */
  get prompt(): string {
    return this.paint(BOLD, PROMPT);
  }

  reply(reply: Reply, label = ''): void {
    const colour = CLASS_COLOURS[String(reply.code)[0] ?? ''] ?? '';
    for (const line of replyLines(reply)) this.write(`${this.paint(colour, `S: ${printable(line)}`)}${label}`);
  }

  client(shown: string): void {
    this.write(`${this.paint(BOLD, PROMPT)}${printable(shown)}`);
  }

  note(text: string): void {
    this.write(this.paint(DIM, `* ${text}`));
  }

  private paint(code: string, text: string): string {
    return this.color && code !== '' ? `${code}${text}${RESET}` : text;
  }

  private write(line: string): void {
    this.out.write(`${line}\n`);
  }
}

export const RECORDER_HELP = [
  'Type SMTP commands as you would in telnet; each one and its reply become a step.',
  'After a 354, type the message and end it with a lone "." (a line that starts with "." is typed as "..").',
  'Recorder commands (never sent to the server):',
  '  .save   write the file and end the session (so do QUIT and Ctrl-D)',
  '  .help   this help',
  'Ctrl-C ends without writing anything.',
];
