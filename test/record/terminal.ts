import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A program run in a real pseudo-terminal: a detached tmux session on a server of its own,
 * driven with send-keys and read with capture-pane.
 */

const POLL_MS = 50;
const WAIT_MS = 5000;
let sessions = 0;

function tmux(socket: string, args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, SHELL: '/bin/sh' };
  delete env.TMUX;
  return new Promise((resolve, reject) => {
    execFile('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env, timeout: WAIT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(Object.assign(error, { stderr }));
      else resolve(stdout);
    });
  });
}

/** Fails (never skips) when tmux is missing. */
export async function requireTmux(): Promise<void> {
  try {
    await tmux('smtpspec-probe', ['-V']);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') assert.fail('these tests need tmux: install Debian\'s tmux (apt-get install tmux)');
    throw error;
  }
}

/** A word for sh -c. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export class Terminal {
  private constructor(private readonly socket: string) {}

  /** Runs `command` (a shell line) in a 120×40 terminal; `[exit N]` is printed when it ends and the pane stays. */
  static async start(command: string): Promise<Terminal> {
    sessions += 1;
    const terminal = new Terminal(`smtpspec-record-${process.pid}-${sessions}`);
    await tmux(terminal.socket, ['new-session', '-d', '-s', 'main', '-x', '120', '-y', '40', `${command}; echo "[exit $?]"; read _`]);
    return terminal;
  }

  /** Types text literally, without Enter. */
  type(text: string): Promise<string> {
    return tmux(this.socket, ['send-keys', '-t', 'main', '-l', text]);
  }

  /** Presses keys by name: Enter, BSpace, Up, C-c, C-d. */
  press(...keys: string[]): Promise<string> {
    return tmux(this.socket, ['send-keys', '-t', 'main', ...keys]);
  }

  /** The whole pane, scrollback included, wrapped lines joined. */
  screen(): Promise<string> {
    return tmux(this.socket, ['capture-pane', '-p', '-J', '-t', 'main', '-S', '-2000']);
  }

  /** Polls the screen until `ready` holds, up to a deadline; returns the screen. */
  async waitFor(ready: (screen: string) => boolean, what: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    let screen = '';
    while (Date.now() < deadline) {
      screen = await this.screen();
      if (ready(screen)) return screen;
      await delay(POLL_MS);
    }
    assert.fail(`waited ${WAIT_MS} ms for ${what}; the screen shows:\n${screen}`);
  }

  /** Types a command, presses Enter, and waits for one more complete reply on the screen. */
  async command(line: string): Promise<string> {
    const before = replyCount(await this.screen());
    await this.type(line);
    await this.press('Enter');
    return this.waitFor((screen) => replyCount(screen) > before, `the reply to "${line}"`);
  }

  /** Waits for the program to end and returns its exit code. */
  async exitCode(): Promise<number> {
    const screen = await this.waitFor((s) => /\[exit \d+\]/.test(s), 'the program to end');
    return Number(/\[exit (\d+)\]/.exec(screen)?.[1]);
  }

  kill(): Promise<void> {
    return tmux(this.socket, ['kill-server']).then(
      () => undefined,
      () => undefined,
    );
  }
}

/** Complete replies on the screen: their last lines, `S: 250 …`. */
export function replyCount(screen: string): number {
  return (screen.match(/^S: \d{3}(?: |$)/gm) ?? []).length;
}
