import assert from 'node:assert/strict';
import xterm from '@xterm/headless';
import { spawn, type IPty } from 'node-pty';
import { GENEROUS_MS } from '../helpers/deadlines.js';

/**
 * A program run in a real pseudo-terminal (node-pty), its output drawn by a headless terminal
 * emulator (@xterm/headless) so that the screen reads as a person would see it: echo, erased
 * characters, masked input and all. Waiting is event-driven: the screen is checked again each
 * time the program's output has been drawn, up to a generous deadline.
 */

const COLUMNS = 120;
const ROWS = 40;
const SCROLLBACK = 2000;
/** A deadline the tests do not mean to reach. */
const WAIT_MS = GENEROUS_MS;

/** What a terminal sends for each key, by the names the tests use. */
const KEYS: Record<string, string> = { Enter: '\r', BSpace: '\x7f', Up: '\x1b[A', 'C-c': '\x03', 'C-d': '\x04' };

interface Ending {
  exitCode: number;
  signal?: number;
}

export class Terminal {
  // The headless build counts reading the buffer as proposed API.
  private readonly emulator = new xterm.Terminal({ cols: COLUMNS, rows: ROWS, scrollback: SCROLLBACK, allowProposedApi: true });
  /** Called each time output has been drawn, and once the program has ended. */
  private readonly watchers = new Set<() => void>();
  private ending: Ending | undefined;
  private readonly ended: Promise<Ending>;

  private constructor(private readonly pty: IPty) {
    pty.onData((data) => this.emulator.write(data, () => this.changed()));
    // Answers to the program's queries (cursor position and the like), as a terminal gives them.
    this.emulator.onData((reply) => pty.write(reply));
    // node-pty reports the exit once all output is read; it is drawn before the ending is known.
    this.ended = new Promise((resolve) => {
      pty.onExit((ending) => {
        this.emulator.write('', () => {
          this.ending = ending;
          this.changed();
          resolve(ending);
        });
      });
    });
  }

  /** Runs `command` (program and arguments) in a 120×40 terminal; the screen stays readable after it ends. */
  static async start(command: string[]): Promise<Terminal> {
    const [file, ...args] = command;
    assert.ok(file, 'a command to run');
    const pty = spawn(file, args, { name: 'xterm-256color', cols: COLUMNS, rows: ROWS, cwd: process.cwd(), env: { ...process.env } });
    return new Terminal(pty);
  }

  /** Types text literally, without Enter. */
  async type(text: string): Promise<void> {
    this.pty.write(text);
  }

  /** Presses keys by name: Enter, BSpace, Up, C-c, C-d. */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      const sequence = key === 'Up' && this.emulator.modes.applicationCursorKeysMode ? '\x1bOA' : KEYS[key];
      assert.ok(sequence, `a key named ${key}`);
      this.pty.write(sequence);
    }
  }

  /** The whole screen, scrollback included, wrapped lines joined, once all output so far is drawn. */
  async screen(): Promise<string> {
    await new Promise<void>((resolve) => this.emulator.write('', resolve));
    return this.drawn();
  }

  private drawn(): string {
    const buffer = this.emulator.buffer.active;
    const lines: string[] = [];
    for (let row = 0; row < buffer.length; row += 1) {
      const line = buffer.getLine(row);
      if (!line) continue;
      if (line.isWrapped && lines.length > 0) lines[lines.length - 1] += line.translateToString(false);
      else lines.push(line.translateToString(false));
    }
    return lines.map((line) => line.trimEnd()).join('\n').replace(/\n+$/, '') + '\n';
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }

  /** Waits until `ready` holds for the screen, checking each time output is drawn, up to a deadline; returns the screen. */
  async waitFor(ready: (screen: string) => boolean, what: string): Promise<string> {
    const screen = await this.screen();
    if (ready(screen)) return screen;
    return new Promise((resolve, reject) => {
      const stop = (): void => {
        clearTimeout(timer);
        this.watchers.delete(check);
      };
      const fail = (why: string): void => {
        stop();
        reject(new assert.AssertionError({ message: `${why} for ${what}; the screen shows:\n${this.drawn()}` }));
      };
      const check = (): void => {
        if (ready(this.drawn())) {
          stop();
          resolve(this.drawn());
        } else if (this.ending) {
          fail(`the program ended (exit ${exitStatus(this.ending)}) before it was ready`);
        }
      };
      const timer = setTimeout(() => fail(`waited ${WAIT_MS} ms`), WAIT_MS);
      this.watchers.add(check);
      check();
    });
  }

  /**
   * Waits for the recorder's prompt on the last line (it may hold a line brought back from
   * history), as a person waits for it: keys typed sooner are read before the prompt is drawn,
   * and their echo lands where the cursor happens to be.
   */
  prompt(): Promise<string> {
    return this.waitFor((screen) => /(?:^|\n)C:[^\n]*\n$/.test(screen), 'the prompt');
  }

  /** At the prompt, types a command, presses Enter, and waits for one more complete reply on the screen. */
  async command(line: string): Promise<string> {
    const before = replyCount(await this.prompt());
    await this.type(line);
    await this.press('Enter');
    return this.waitFor((screen) => replyCount(screen) > before, `the reply to "${line}"`);
  }

  /** At the prompt, types a line the server does not answer (a message line), presses Enter, and waits for the next prompt. */
  async line(text: string): Promise<string> {
    const before = promptCount(await this.prompt());
    await this.type(text);
    await this.press('Enter');
    return this.waitFor((screen) => promptCount(screen) > before && /\nC:\n$/.test(screen), `the prompt after "${text}"`);
  }

  /** Waits for the program to end and returns its exit status, 128 + N for a signal as a shell gives it. */
  async exitCode(): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(async () => reject(new assert.AssertionError({ message: `waited ${WAIT_MS} ms for the program to end; the screen shows:\n${await this.screen()}` })), WAIT_MS);
    });
    try {
      return exitStatus(await Promise.race([this.ended, deadline]));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the program if it still runs. */
  async kill(): Promise<void> {
    if (!this.ending) {
      this.pty.kill('SIGKILL');
      await Promise.race([this.ended, new Promise((resolve) => setTimeout(resolve, WAIT_MS).unref())]);
    }
    this.emulator.dispose();
  }
}

function exitStatus(ending: Ending): number {
  return ending.signal ? 128 + ending.signal : ending.exitCode;
}

/** Lines that start at the recorder's prompt, typed or waiting. */
function promptCount(screen: string): number {
  return (screen.match(/^C:/gm) ?? []).length;
}

/** Complete replies on the screen: their last lines, `S: 250 …`. */
export function replyCount(screen: string): number {
  return (screen.match(/^S: \d{3}(?: |$)/gm) ?? []).length;
}
